// Small meshes for tests, built by hand so that expected values are known independently.
#pragma once
#include <random>

#include "mesh/mesh.hpp"
#include "mesh/structured.hpp"

namespace tessera::test {

// nx x ny grid of unit squares, two counter-clockwise triangles each; groups left/right/bottom/top.
inline mesh::Mesh grid_mesh(int nx, int ny) { return mesh::rectangle_grid(nx, ny); }

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
