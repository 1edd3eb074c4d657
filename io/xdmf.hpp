// XdmfSeries: XDMF3 + HDF5 time series, the primary output (ParaView, VisIt, meshio).
// <base>.xmf is the index; <base>_mesh.h5 holds coordinates, cells and static fields;
// <base>_<step>.h5 holds each step's fields. Each .h5 is written under a temporary name and
// renamed, and the .xmf is rewritten atomically after every step, so an interrupted run leaves
// a valid series of the steps completed. Every rank holds the whole mesh and fields; under MPI
// rank 0 writes the files for all (docs/design.md, "Rank 0 writes the XDMF series").
#pragma once
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "io/field.hpp"
#include "mesh/mesh.hpp"

namespace tessera::io {

class H5File;

class XdmfSeries {
 public:
  // Writes the mesh file now. `static_fields` (e.g. node_type) appear at every step.
  XdmfSeries(std::string base_path, const mesh::Mesh& mesh, const Comm& comm = Comm::self(),
             std::vector<Field> static_fields = {}, std::string deck_yaml = "");
  // Writes one time step and rewrites the .xmf. Collective: an error on rank 0 is an Error on
  // every rank.
  void write_step(double time, const std::vector<Field>& fields);
  std::string xmf_path() const { return base_ + ".xmf"; }
  int steps() const { return static_cast<int>(steps_.size()); }

 private:
  void write_fields(H5File& file, const std::vector<Field>& fields) const;
  void write_index() const;
  std::string attributes_xml(const std::string& h5_name, const std::vector<Field>& fields) const;

  std::string base_;
  Comm comm_;
  int dim_, npc_;
  std::string topology_;
  int64_t num_nodes_, num_cells_;
  std::vector<Field> static_fields_;
  std::string deck_yaml_;
  struct Step {
    double time;
    std::string h5;
    std::vector<Field> fields;  // names and channels only (data dropped)
  };
  std::vector<Step> steps_;
};

}  // namespace tessera::io
