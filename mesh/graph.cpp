#include "mesh/graph.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace tessera::mesh {

bool Graph::has_edge(int64_t s, int64_t d) const {
  auto b = src.begin() + row_ptr[d], e = src.begin() + row_ptr[d + 1];
  return std::binary_search(b, e, s);
}

bool Graph::is_symmetric() const {
  for (int64_t e = 0; e < num_edges(); ++e)
    if (!has_edge(dst[e], src[e])) return false;
  return true;
}

Graph graph_from_pairs(int64_t num_nodes, std::vector<std::pair<int64_t, int64_t>> pairs, bool symmetrize) {
  if (symmetrize) {
    const size_t n = pairs.size();
    pairs.reserve(2 * n);
    for (size_t i = 0; i < n; ++i) pairs.emplace_back(pairs[i].second, pairs[i].first);
  }
  for (const auto& [s, d] : pairs)
    if (s < 0 || s >= num_nodes || d < 0 || d >= num_nodes)
      throw Error(cat("graph: edge (", s, ", ", d, ") is out of range for ", num_nodes, " nodes"));
  // Sort by (dst, src) so each destination's incoming edges are contiguous and ordered.
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second < b.second : a.first < b.first;
  });
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  Graph g;
  g.num_nodes = num_nodes;
  g.row_ptr.assign(num_nodes + 1, 0);
  g.src.reserve(pairs.size());
  g.dst.reserve(pairs.size());
  for (const auto& [s, d] : pairs) {
    if (s == d) continue;
    g.src.push_back(s);
    g.dst.push_back(d);
    ++g.row_ptr[d + 1];
  }
  for (int64_t i = 0; i < num_nodes; ++i) g.row_ptr[i + 1] += g.row_ptr[i];
  return g;
}

Graph mesh_graph(const Mesh& m) {
  static constexpr int tri[][2] = {{0, 1}, {1, 2}, {2, 0}};
  static constexpr int quad[][2] = {{0, 1}, {1, 2}, {2, 3}, {3, 0}};
  static constexpr int tet[][2] = {{0, 1}, {1, 2}, {2, 0}, {0, 3}, {1, 3}, {2, 3}};
  const int(*sides)[2] = tri;
  int nsides = 3;
  if (m.cell_type == CellType::Quad) sides = quad, nsides = 4;
  if (m.cell_type == CellType::Tetrahedron) sides = tet, nsides = 6;
  const int npc = nodes_per_cell(m.cell_type);
  std::vector<std::pair<int64_t, int64_t>> pairs;
  pairs.reserve(m.num_cells() * nsides);
  for (int64_t c = 0; c < m.num_cells(); ++c)
    for (int s = 0; s < nsides; ++s) pairs.emplace_back(m.cells[c * npc + sides[s][0]], m.cells[c * npc + sides[s][1]]);
  return graph_from_pairs(m.num_nodes(), std::move(pairs), true);
}

std::vector<double> edge_features(const Graph& g, const Mesh& m) {
  const int d = m.dim;
  std::vector<double> f(g.num_edges() * (d + 1));
  for (int64_t e = 0; e < g.num_edges(); ++e) {
    double n2 = 0;
    for (int k = 0; k < d; ++k) {
      double r = m.coords[g.src[e] * d + k] - m.coords[g.dst[e] * d + k];
      f[e * (d + 1) + k] = r;
      n2 += r * r;
    }
    f[e * (d + 1) + d] = std::sqrt(n2);
  }
  return f;
}

Graph graph_union(const Graph& a, const Graph& b) {
  if (a.num_nodes != b.num_nodes)
    throw Error(cat("graph_union: node counts differ (", a.num_nodes, " vs ", b.num_nodes, ")"));
  std::vector<std::pair<int64_t, int64_t>> pairs;
  pairs.reserve(a.num_edges() + b.num_edges());
  for (const Graph* g : {&a, &b})
    for (int64_t e = 0; e < g->num_edges(); ++e) pairs.emplace_back(g->src[e], g->dst[e]);
  return graph_from_pairs(a.num_nodes, std::move(pairs), false);
}

GraphStats graph_stats(const Graph& g) {
  GraphStats s{g.num_nodes, g.num_edges(), 0, 0, 0.0};
  if (g.num_nodes == 0) return s;
  s.min_degree = g.in_degree(0);
  for (int64_t i = 0; i < g.num_nodes; ++i) {
    s.min_degree = std::min(s.min_degree, g.in_degree(i));
    s.max_degree = std::max(s.max_degree, g.in_degree(i));
  }
  s.mean_degree = static_cast<double>(g.num_edges()) / g.num_nodes;
  return s;
}

}  // namespace tessera::mesh
