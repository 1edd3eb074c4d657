// Mesh validation: structural and geometric checks that turn bad meshes into clear errors.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "mesh/mesh.hpp"

namespace tessera::mesh {

// Signed measure of cell c: area for triangles and quads (positive when counter-clockwise in
// the x-y plane), volume for tetrahedra (positive for right-handed node order).
double signed_measure(const Mesh& mesh, int64_t c);

// If every cell has negative measure (a consistently mis-oriented surface, as Gmsh produces
// for a surface whose normal is -z) flips all cells; mixed orientation is left for validate(), and
// so are meshes it would refuse for their sizes or out-of-range node indices (nothing is read out
// of bounds). Returns true if the cells were flipped.
bool orient_consistently(Mesh& mesh);

// Throws tessera::Error naming the first problem found, with `what` (e.g. the file name) as a
// prefix: wrong sizes, out-of-range indices, inverted or degenerate cells (measure below
// rel_tol times the mean cell measure), duplicate nodes (identical coordinates), nodes that no
// cell references, group facets out of range, node types that are not MeshGraphNets codes.
// With `tags`, the messages name cells and nodes by the file's own numbers (Gmsh's element and
// node tags), which the user can find in the file, not by tessera's 0-based indices.
struct SourceTags {
  std::vector<std::size_t> cell;  // per cell
  std::vector<std::size_t> node;  // per node
};
void validate(const Mesh& mesh, const std::string& what = "mesh", double rel_tol = 1e-10,
              const SourceTags* tags = nullptr);

}  // namespace tessera::mesh
