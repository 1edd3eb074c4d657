// Small meshes for tests, built by hand so that expected values are known independently.
#pragma once
#include <random>

#include "mesh/mesh.hpp"

namespace tessera::test {

// nx x ny grid of unit squares, each split into two counter-clockwise triangles.
inline mesh::Mesh grid_mesh(int nx, int ny) {
  mesh::Mesh m;
  m.dim = 2;
  for (int j = 0; j <= ny; ++j)
    for (int i = 0; i <= nx; ++i) m.coords.insert(m.coords.end(), {double(i), double(j)});
  auto id = [&](int i, int j) { return int64_t(j * (nx + 1) + i); };
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      m.cells.insert(m.cells.end(), {id(i, j), id(i + 1, j), id(i + 1, j + 1)});
      m.cells.insert(m.cells.end(), {id(i, j), id(i + 1, j + 1), id(i, j + 1)});
    }
  m.node_type.assign(m.num_nodes(), mesh::kNormal);
  mesh::PhysicalGroup left{"left", 1, {}}, bottom{"bottom", 1, {}};
  for (int j = 0; j < ny; ++j) left.facets.insert(left.facets.end(), {id(0, j), id(0, j + 1)});
  for (int i = 0; i < nx; ++i) bottom.facets.insert(bottom.facets.end(), {id(i, 0), id(i + 1, 0)});
  m.groups = {left, bottom};
  return m;
}

// The grid with interior nodes jittered (irregular degrees after a seeded shuffle of diagonals).
inline mesh::Mesh irregular_mesh(int nx, int ny, unsigned seed) {
  mesh::Mesh m = grid_mesh(nx, ny);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-0.2, 0.2);
  for (int j = 1; j < ny; ++j)
    for (int i = 1; i < nx; ++i) {
      m.coords[2 * (j * (nx + 1) + i)] += u(rng);
      m.coords[2 * (j * (nx + 1) + i) + 1] += u(rng);
    }
  // Flip the diagonal of some squares: (a,b,c),(a,c,d) -> (a,b,d),(b,c,d).
  for (int64_t s = 0; s < int64_t(nx) * ny; ++s)
    if (rng() % 2) {
      int64_t* t = &m.cells[6 * s];
      int64_t a = t[0], b = t[1], c = t[2], d = t[5];
      int64_t flipped[6] = {a, b, d, b, c, d};
      std::copy(flipped, flipped + 6, t);
    }
  return m;
}

}  // namespace tessera::test
