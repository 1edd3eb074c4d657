// Structured meshes built without Gmsh: a rectangle split into nx x ny squares, each cut into two
// counter-clockwise triangles along its (lower-left, upper-right) diagonal. Used by tests and
// benchmarks, and for grid problems.
#pragma once
#include "mesh/mesh.hpp"

namespace tessera::mesh {

// Nodes are numbered row by row: node (i, j) is j * (nx + 1) + i, at (i * lx / nx, j * ly / ny).
// Groups: "left", "right", "bottom", "top" (line facets); node types are all 0.
Mesh rectangle_grid(int nx, int ny, double lx = 0, double ly = 0);

}  // namespace tessera::mesh
