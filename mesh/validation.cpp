#include "mesh/validation.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "core/error.hpp"

namespace tessera::mesh {
namespace {

double tri_area(const double* a, const double* b, const double* c) {
  return 0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]));
}

}  // namespace

double signed_measure(const Mesh& m, int64_t c) {
  const int npc = nodes_per_cell(m.cell_type);
  const int64_t* v = &m.cells[c * npc];
  auto x = [&](int k) { return &m.coords[v[k] * m.dim]; };
  switch (m.cell_type) {
    case CellType::Triangle:
      return tri_area(x(0), x(1), x(2));
    case CellType::Quad: {
      // A valid quad has both triangles of each diagonal split positive; report the smallest.
      double a = tri_area(x(0), x(1), x(2)), b = tri_area(x(0), x(2), x(3));
      double c2 = tri_area(x(0), x(1), x(3)), d = tri_area(x(1), x(2), x(3));
      double s = a + b;
      return std::min({a, b, c2, d}) <= 0 ? std::min({a, b, c2, d}) * 2 : s;
    }
    case CellType::Tetrahedron: {
      const double *p0 = x(0), *p1 = x(1), *p2 = x(2), *p3 = x(3);
      double u[3], w[3], z[3];
      for (int i = 0; i < 3; ++i) {
        u[i] = p1[i] - p0[i];
        w[i] = p2[i] - p0[i];
        z[i] = p3[i] - p0[i];
      }
      double det =
          u[0] * (w[1] * z[2] - w[2] * z[1]) - u[1] * (w[0] * z[2] - w[2] * z[0]) + u[2] * (w[0] * z[1] - w[1] * z[0]);
      return det / 6.0;
    }
  }
  return 0;
}

bool orient_consistently(Mesh& m) {
  // A mesh validate() refuses for its sizes, its dimension or a node index out of range is left to
  // validate(), whose errors say what is wrong: no measure is computed for it.
  if ((m.dim != 2 && m.dim != 3) || cell_dim(m.cell_type) > m.dim || m.coords.size() % m.dim ||
      m.cells.size() % nodes_per_cell(m.cell_type))
    return false;
  const int64_t nc = m.num_cells(), nn = m.num_nodes();
  if (nc == 0) return false;
  for (int64_t v : m.cells)
    if (v < 0 || v >= nn) return false;
  for (int64_t c = 0; c < nc; ++c)
    if (signed_measure(m, c) >= 0) return false;
  const int npc = nodes_per_cell(m.cell_type);
  for (int64_t c = 0; c < nc; ++c) {
    int64_t* v = &m.cells[c * npc];
    // Swapping the last two nodes reverses triangles and tets; quads reverse fully.
    if (m.cell_type == CellType::Quad)
      std::reverse(v, v + 4);
    else
      std::swap(v[npc - 2], v[npc - 1]);
  }
  return true;
}

void validate(const Mesh& m, const std::string& what, double rel_tol, const SourceTags* tags) {
  const std::string pre = what + ": ";
  const bool tagged = tags && tags->cell.size() * nodes_per_cell(m.cell_type) == m.cells.size() &&
                      tags->node.size() * m.dim == m.coords.size();
  auto cell = [&](int64_t c) { return tagged ? cat("element ", tags->cell[c]) : cat("cell ", c); };
  auto cells = [&](int64_t a, int64_t b) {
    return tagged ? cat("elements ", tags->cell[a], " and ", tags->cell[b]) : cat("cells ", a, " and ", b);
  };
  auto node = [&](int64_t n) { return cat(tagged ? tags->node[n] : n); };
  if (m.dim != 2 && m.dim != 3) throw Error(cat(pre, "dimension must be 2 or 3, got ", m.dim));
  if (cell_dim(m.cell_type) > m.dim) throw Error(cat(pre, cell_type_name(m.cell_type), " cells need 3D coordinates"));
  if (m.coords.size() % m.dim) throw Error(cat(pre, "coordinate array is not a multiple of dim"));
  const int npc = nodes_per_cell(m.cell_type);
  if (m.cells.size() % npc) throw Error(cat(pre, "cell array is not a multiple of ", npc));
  const int64_t nn = m.num_nodes(), nc = m.num_cells();
  if (nn == 0 || nc == 0) throw Error(cat(pre, "mesh is empty (", nn, " nodes, ", nc, " cells)"));
  for (double x : m.coords)
    if (!std::isfinite(x)) throw Error(cat(pre, "a node coordinate is not finite"));

  std::vector<char> used(nn, 0);
  for (int64_t c = 0; c < nc; ++c)
    for (int k = 0; k < npc; ++k) {
      int64_t v = m.cells[c * npc + k];
      if (v < 0 || v >= nn)
        throw Error(
            cat(pre, cell(c), " references node ", v, ", but the mesh has ", nn, " nodes (valid 0..", nn - 1, ")"));
      for (int j = 0; j < k; ++j)
        if (m.cells[c * npc + j] == v)
          throw Error(cat(pre, cell(c), " is degenerate: node ", node(v), " appears twice"));
      used[v] = 1;
    }

  // The same cell twice (its nodes in any order): a mesh generator does not make one, but an
  // imported cell list that was concatenated or written twice does, and would count its area twice.
  {
    std::vector<std::array<int64_t, 4>> keys(nc);  // each cell's nodes, sorted (cells have 3 or 4)
    for (int64_t c = 0; c < nc; ++c) {
      keys[c] = {-1, -1, -1, -1};
      std::copy(m.cells.begin() + c * npc, m.cells.begin() + (c + 1) * npc, keys[c].begin());
      std::sort(keys[c].begin(), keys[c].begin() + npc);
    }
    std::vector<int64_t> order(nc);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
    for (int64_t i = 1; i < nc; ++i)
      if (keys[order[i]] == keys[order[i - 1]])
        throw Error(cat(pre, cells(order[i - 1], order[i]), " are the same cell (the same nodes)"));
  }

  // 3D coordinates with a 2D cell type: measure in the x-y plane is only meaningful if flat.
  if (!(m.dim == 3 && cell_dim(m.cell_type) == 2)) {
    double total = 0;
    std::vector<double> meas(nc);
    for (int64_t c = 0; c < nc; ++c) total += std::abs(meas[c] = signed_measure(m, c));
    const double tol = rel_tol * total / nc;
    for (int64_t c = 0; c < nc; ++c) {
      if (meas[c] < -tol)
        throw Error(cat(pre, cell(c), " is inverted (signed ", m.dim == 2 ? "area " : "volume ", meas[c],
                        "); cells must be counter-clockwise / positively oriented"));
      if (std::abs(meas[c]) <= tol)
        throw Error(cat(pre, cell(c), " is degenerate (", m.dim == 2 ? "area " : "volume ", meas[c], ")"));
    }
  }

  for (int64_t n = 0; n < nn; ++n)
    if (!used[n]) throw Error(cat(pre, "node ", node(n), " is not referenced by any cell"));

  std::vector<int64_t> order(nn);
  std::iota(order.begin(), order.end(), 0);
  auto at = [&](int64_t n) { return &m.coords[n * m.dim]; };
  auto less = [&](int64_t a, int64_t b) {
    return std::lexicographical_compare(at(a), at(a) + m.dim, at(b), at(b) + m.dim);
  };
  std::sort(order.begin(), order.end(), less);
  for (int64_t i = 1; i < nn; ++i)
    if (std::equal(at(order[i - 1]), at(order[i - 1]) + m.dim, at(order[i])))
      throw Error(cat(pre, "nodes ", node(std::min(order[i - 1], order[i])), " and ",
                      node(std::max(order[i - 1], order[i])), " are duplicates (same coordinates)"));

  for (const auto& g : m.groups)
    for (int64_t v : g.facets)
      if (v < 0 || v >= nn) throw Error(cat(pre, "physical group '", g.name, "' references node ", v, " of ", nn));

  if (!m.node_type.empty()) {
    if (static_cast<int64_t>(m.node_type.size()) != nn)
      throw Error(cat(pre, "node_type has ", m.node_type.size(), " entries for ", nn, " nodes"));
    for (int64_t n = 0; n < nn; ++n) {
      int32_t t = m.node_type[n];
      if (t != kNormal && t != kInflow && t != kOutflow && t != kWall)
        throw Error(cat(pre, "node ", node(n), " has node type ", t, "; expected 0, 4, 5 or 6"));
    }
  }
}

}  // namespace tessera::mesh
