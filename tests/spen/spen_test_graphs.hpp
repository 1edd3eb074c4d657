// Random graphs and all-pairs shortest paths shared by the SPEN tests (test_spen.cpp,
// test_spen_graphs.cpp).
#pragma once
#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "mesh/ego_network.hpp"

namespace tessera::spen_test {

inline mesh::SimpleGraph random_graph(int64_t n, double p, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::pair<int64_t, int64_t>> e;
  for (int64_t u = 0; u < n; ++u)
    for (int64_t v = u + 1; v < n; ++v)
      if (static_cast<double>(rng() >> 11) * 0x1.0p-53 < p) e.emplace_back(u, v);
  return mesh::SimpleGraph::from_edges(n, e);
}

// A random graph plus the path 0-1-...-(n-1), so it is connected.
inline mesh::SimpleGraph connected_graph(int64_t n, double p, uint64_t seed) {
  const mesh::SimpleGraph r = random_graph(n, p, seed);
  std::vector<std::pair<int64_t, int64_t>> e;
  for (int64_t u = 0; u < n; ++u)
    for (int64_t v : r.neighbours[u]) e.emplace_back(u, v);
  for (int64_t u = 0; u + 1 < n; ++u) e.emplace_back(u, u + 1);
  return mesh::SimpleGraph::from_edges(n, e);
}

// All-pairs shortest paths (Floyd-Warshall), the reference for ego-networks.
inline std::vector<std::vector<int64_t>> apsp(const mesh::SimpleGraph& g) {
  const int64_t n = g.num_nodes, inf = 1 << 20;
  std::vector<std::vector<int64_t>> d(n, std::vector<int64_t>(n, inf));
  for (int64_t u = 0; u < n; ++u) {
    d[u][u] = 0;
    for (int64_t v : g.neighbours[u]) d[u][v] = 1;
  }
  for (int64_t k = 0; k < n; ++k)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) d[i][j] = std::min(d[i][j], d[i][k] + d[k][j]);
  return d;
}

}  // namespace tessera::spen_test
