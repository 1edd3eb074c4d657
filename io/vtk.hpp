// VTK XML output through the VTK library: .vtu (one piece), .pvtu (one piece per MPI rank, a
// block of cells with the nodes they use) and .pvd collections of time steps. All files are
// written under temporary names and renamed when complete.
#pragma once
#include <string>
#include <vector>

#include "core/comm.hpp"
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

// A .pvd time-series index, rewritten after each added step.
class PvdCollection {
 public:
  explicit PvdCollection(std::string path) : path_(std::move(path)) {}
  void add(double time, const std::string& file);  // file relative to the .pvd's directory
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::pair<double, std::string>> entries_;
};

}  // namespace tessera::io
