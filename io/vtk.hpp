// VTK XML output through the VTK library: .vtu (one piece), .pvtu (one piece per MPI rank, a
// block of cells with the nodes they use) and .pvd collections of time steps. All files are
// written under temporary names and renamed when complete.
#pragma once
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "core/rewrite_pacer.hpp"
#include "io/field.hpp"
#include "mesh/mesh.hpp"

namespace tessera::io {

// Writes the whole mesh with its fields; `deck_yaml` is stored as field data "tessera_deck".
void write_vtu(const std::string& path, const mesh::Mesh& mesh, const std::vector<Field>& fields,
               const std::string& deck_yaml = "");

// Collective: rank r writes <stem>_<r>.vtu with its cells, rank 0 the .pvtu index. The cells of
// rank r are those with cell_rank[c] == r (default: a contiguous block per rank). Node fields are
// sliced to each piece's nodes; a cell field "rank" marks the pieces.
void write_pvtu(const std::string& path, const mesh::Mesh& mesh, const std::vector<Field>& fields, const Comm& comm,
                const std::string& deck_yaml = "", const std::vector<int32_t>& cell_rank = {});

// A .pvd time-series index (one process writes it), rewritten after each added step until the
// rewrites have taken 0.1 s, then at most 5% of the run's time (core/rewrite_pacer.hpp), and by
// finish().
class PvdCollection {
 public:
  explicit PvdCollection(std::string path) : path_(std::move(path)) {}
  // Rewrites the .pvd if it lags (errors ignored): a series left by an error is indexed.
  ~PvdCollection();
  PvdCollection(const PvdCollection&) = delete;
  PvdCollection& operator=(const PvdCollection&) = delete;
  void add(double time, const std::string& file);  // file relative to the .pvd's directory
  void finish();                                   // rewrites the .pvd if it lags the steps added
  const std::string& path() const { return path_; }
  int64_t index_writes() const { return index_writes_; }  // how often the .pvd was written

 private:
  void write();
  std::string path_;
  std::vector<std::pair<double, std::string>> entries_;
  size_t indexed_ = 0;  // entries the .pvd lists
  int64_t index_writes_ = 0;
  core::RewritePacer pacer_;
};

}  // namespace tessera::io
