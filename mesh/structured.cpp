#include "mesh/structured.hpp"

#include "core/error.hpp"

namespace tessera::mesh {

Mesh rectangle_grid(int nx, int ny, double lx, double ly) {
  if (nx < 1 || ny < 1) throw Error(cat("rectangle_grid: need nx, ny >= 1, got ", nx, " x ", ny));
  if (lx <= 0) lx = nx;
  if (ly <= 0) ly = ny;
  Mesh m;
  m.dim = 2;
  for (int j = 0; j <= ny; ++j)
    for (int i = 0; i <= nx; ++i) m.coords.insert(m.coords.end(), {i * lx / nx, j * ly / ny});
  auto id = [&](int i, int j) { return int64_t(j) * (nx + 1) + i; };
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      m.cells.insert(m.cells.end(), {id(i, j), id(i + 1, j), id(i + 1, j + 1)});
      m.cells.insert(m.cells.end(), {id(i, j), id(i + 1, j + 1), id(i, j + 1)});
    }
  m.node_type.assign(m.num_nodes(), kNormal);
  PhysicalGroup left{"left", 1, {}}, right{"right", 1, {}}, bottom{"bottom", 1, {}}, top{"top", 1, {}};
  for (int j = 0; j < ny; ++j) {
    left.facets.insert(left.facets.end(), {id(0, j), id(0, j + 1)});
    right.facets.insert(right.facets.end(), {id(nx, j), id(nx, j + 1)});
  }
  for (int i = 0; i < nx; ++i) {
    bottom.facets.insert(bottom.facets.end(), {id(i, 0), id(i + 1, 0)});
    top.facets.insert(top.facets.end(), {id(i, ny), id(i + 1, ny)});
  }
  m.groups = {left, right, bottom, top};
  return m;
}

}  // namespace tessera::mesh
