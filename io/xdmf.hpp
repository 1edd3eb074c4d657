// XdmfSeries: XDMF3 + HDF5 time series, the primary output (ParaView, VisIt, meshio).
// <base>.xmf is the index; <base>_mesh.h5 holds coordinates, cells and static fields;
// <base>_<step>.h5 holds each step's fields. Each .h5 is written under a temporary name and
// renamed, and the .xmf is rewritten atomically (written out in pieces, not held whole: 900 bytes
// a step) after each step until the rewrites have taken
// 0.1 s, then at most 5% of the run's time (core/rewrite_pacer.hpp: rewritten at every one of
// 4,000 steps, a 3.6 MB index cost 7 GB of writes), and by finish(): an interrupted run leaves a valid series of
// the steps up to the last rewrite (every step of a short series). Every rank holds the whole mesh and fields; under
// MPI rank 0 writes the files for all (docs/design.md, "Rank 0 writes the XDMF series").
#pragma once
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "core/rewrite_pacer.hpp"
#include "io/field.hpp"
#include "mesh/mesh.hpp"

namespace tessera::io {

class H5File;

class XdmfSeries {
 public:
  // Writes the mesh file now. `static_fields` (e.g. node_type) appear at every step.
  XdmfSeries(std::string base_path, const mesh::Mesh& mesh, const Comm& comm = Comm::self(),
             std::vector<Field> static_fields = {}, std::string deck_yaml = "");
  // Rewrites the .xmf if it lags (rank 0, errors ignored): a series left by an error is indexed.
  ~XdmfSeries();
  XdmfSeries(const XdmfSeries&) = delete;
  XdmfSeries& operator=(const XdmfSeries&) = delete;
  // Writes one time step and, when due, rewrites the .xmf. Collective: an error on rank 0 is an
  // Error on every rank.
  void write_step(double time, const std::vector<Field>& fields);
  // A step of an earlier run, listed before this series' own (a continued run's .xmf indexes the
  // whole run): `fields`' names and channels, read from `h5_path` (relative to the .xmf's folder;
  // the file itself is not opened). Rank 0's steps are the ones indexed.
  void add_earlier_step(double time, const std::string& h5_path, const std::vector<Field>& fields);
  // Rewrites the .xmf if it lags the steps written. Collective, as write_step.
  void finish();
  std::string xmf_path() const { return base_ + ".xmf"; }
  int steps() const { return static_cast<int>(steps_.size()); }
  int64_t index_writes() const { return index_writes_; }  // how often the .xmf was written (rank 0)

 private:
  void write_fields(H5File& file, const std::vector<Field>& fields) const;
  void write_index();
  std::string attributes_xml(const std::string& h5_name, const std::vector<Field>& fields) const;

  std::string base_;
  Comm comm_;
  int dim_, npc_;
  std::string topology_;
  int64_t num_nodes_, num_cells_;
  std::vector<Field> static_fields_;
  std::string deck_yaml_;
  std::string step_file(int64_t own_step) const;           // <base>_<step, 6 digits>.h5
  int64_t layout_index(const std::vector<Field>& fields);  // into layouts_, added if new
  // 24 bytes a step: a Step with its file name and field list cost about 400 (40 MB over 10^5
  // steps); the lists, alike in every step of a run, are kept once each.
  struct Step {
    double time;
    int64_t layout;  // index into layouts_; -1: no fields and no file
    int64_t file;    // >= 0: this series' step_file(file); < 0: earlier_files_[-1 - file]
  };
  std::vector<Step> steps_;
  int64_t own_steps_ = 0;
  std::vector<std::string> earlier_files_;
  std::vector<std::vector<Field>> layouts_;  // the distinct field lists: names and channels, no data
  size_t indexed_ = 0;                       // steps the .xmf lists
  int64_t index_writes_ = 0;
  core::RewritePacer pacer_;
};

}  // namespace tessera::io
