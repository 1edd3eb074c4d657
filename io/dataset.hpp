// Trajectory datasets in the graph-physics layout (docs/references.md §4): <dir>/meta.json describes
// the fields; <dir>/<split>.h5 holds one group per trajectory ("0", "1", ...) with one dataset
// per field, shaped [T, rows, channels] (static fields: T = 1).
#pragma once
#include <hdf5.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "mesh/mesh.hpp"

namespace tessera::core {
class TemporaryOutput;
}

namespace tessera::io {

class H5File;

struct FieldMeta {
  std::string name;
  bool dynamic = false;  // true: one entry per time step
  int channels = 1;
  std::string dtype = "float32";  // float32 or int32
};

// Two time steps closer than this, relative, are one dt: tessera-import's checks of a source's
// dt (and import.dt against it) and the rollout's warning on a dataset of another dt than the
// model's use the same bound (the warning's tighter 1e-9 flagged float32 stamps the importer
// had let pass).
inline constexpr double kSameDtRelative = 1e-6;

struct DatasetMeta {
  double dt = 0.01;
  int64_t trajectory_length = 1;
  std::vector<FieldMeta> fields;

  const FieldMeta* find(const std::string& name) const;
  std::string to_json() const;
  static DatasetMeta from_json(const std::string& text, const std::string& source);
  // cells (int32, 3), mesh_pos (float32, 2), node_type (int32, 1), velocity (float32, 2, dynamic),
  // pressure (float32, 1, dynamic): the MeshGraphNets CylinderFlow fields.
  static DatasetMeta cylinder_flow(int64_t trajectory_length, double dt);
};

// One field of one trajectory: [steps, rows, channels], float32 or int32 per its meta.
struct FieldData {
  std::vector<hsize_t> shape;  // {steps, rows, channels} of the local block
  std::vector<float> f32;
  std::vector<int32_t> i32;
  hsize_t row_offset = 0, global_rows = 0;  // parallel writes: this rank's row block (0: all)
};
using Trajectory = std::map<std::string, FieldData>;

// Sets the static fields "cells" (triangles), "mesh_pos" (2D) and "node_type" of `t` from a mesh.
void add_mesh_fields(Trajectory& t, const mesh::Mesh& mesh);

class DatasetWriter {
 public:
  // Creates <dir>/<split>.h5 (through a temporary name) and will write <dir>/meta.json.
  DatasetWriter(const std::string& dir, const std::string& split, DatasetMeta meta, const Comm& comm = Comm::self(),
                const std::string& deck_yaml = "");
  ~DatasetWriter();
  // Writes trajectory `index`; every meta field must be present with matching channels/steps.
  // Collective under MPI: each rank passes its block of rows, and rank 0 writes them.
  void write(int64_t index, const Trajectory& t);
  // Closes the file, moves it into place, writes meta.json (unless `write_meta` is false: a caller
  // writing several splits as one dataset has the last write it, so that a folder with meta.json
  // holds every split). Collective.
  void finish(bool write_meta = true);

 private:
  std::string check(int64_t index, const Trajectory& t) const;
  std::string dir_, path_;
  DatasetMeta meta_;
  Comm comm_;
  std::unique_ptr<core::TemporaryOutput> temp_;  // <split>.h5.tmp until finish(): removed if never finished
  std::unique_ptr<H5File> file_;                 // rank 0's; declared after temp_: closed before it is removed
  bool finished_ = false;
};

// The dataset's meta.json (fields, dt) alone, without opening a split.
DatasetMeta read_dataset_meta(const std::string& dir);

class DatasetReader {
 public:
  DatasetReader(const std::string& dir, const std::string& split);
  DatasetReader(DatasetReader&&) noexcept;
  DatasetReader& operator=(DatasetReader&&) noexcept;
  ~DatasetReader();
  const DatasetMeta& meta() const { return meta_; }
  const std::vector<int64_t>& trajectories() const { return ids_; }  // sorted group indices
  Trajectory read(int64_t index) const;
  std::string deck_yaml() const;  // the deck stored by the writer ("" if none)

 private:
  std::string path_;
  DatasetMeta meta_;
  std::vector<int64_t> ids_;
  std::unique_ptr<H5File> file_;
};

}  // namespace tessera::io
