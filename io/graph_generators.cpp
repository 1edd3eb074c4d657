#include "io/graph_generators.hpp"

#include <numeric>
#include <random>

#include "core/error.hpp"

namespace tessera::io {

uint64_t bounded(uint64_t r, uint64_t n) { return static_cast<uint64_t>((static_cast<__uint128_t>(r) * n) >> 64); }

const std::vector<int64_t>& csl_skips() {
  static const std::vector<int64_t> skips = {2, 3, 4, 5, 6, 9, 11, 12, 13, 16};
  return skips;
}

TuDataset make_csl(int64_t per_class, uint64_t seed) {
  constexpr int64_t n = 41;
  std::mt19937_64 rng(seed);
  TuDataset ds;
  ds.name = "CSL";
  for (int64_t r : csl_skips()) ds.class_names.push_back(cat("skip", r));
  for (size_t c = 0; c < csl_skips().size(); ++c) {
    const int64_t r = csl_skips()[c];
    for (int64_t k = 0; k < per_class; ++k) {
      // A random relabelling: Fisher-Yates with the bounded mapping.
      std::vector<int64_t> perm(n);
      std::iota(perm.begin(), perm.end(), 0);
      for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[bounded(rng(), i + 1)]);
      std::vector<std::pair<int64_t, int64_t>> edges;
      for (int64_t i = 0; i < n; ++i) {
        edges.emplace_back(perm[i], perm[(i + 1) % n]);
        edges.emplace_back(perm[i], perm[(i + r) % n]);
      }
      LabelledGraph g;
      g.graph = mesh::SimpleGraph::from_edges(n, edges);
      g.label = static_cast<int64_t>(c);
      ds.graphs.push_back(std::move(g));
    }
  }
  return ds;
}

int64_t count_triangles(const mesh::SimpleGraph& g) {
  int64_t t = 0;
  for (int64_t u = 0; u < g.num_nodes; ++u)
    for (int64_t v : g.neighbours[u])
      if (v > u)
        for (int64_t w : g.neighbours[v])
          if (w > v && g.has_edge(u, w)) ++t;
  return t;
}

int64_t count_four_cycles(const mesh::SimpleGraph& g) {
  // Each 4-cycle u-a-w-b has two diagonals {u, w} and {a, b}; for a pair {u, w} with c common
  // neighbours there are c(c-1)/2 cycles on that diagonal.
  int64_t total = 0;
  std::vector<int64_t> common(g.num_nodes, 0);
  for (int64_t u = 0; u < g.num_nodes; ++u) {
    std::vector<int64_t> touched;
    for (int64_t a : g.neighbours[u])
      for (int64_t w : g.neighbours[a])
        if (w > u) {
          if (common[w]++ == 0) touched.push_back(w);
        }
    for (int64_t w : touched) {
      total += common[w] * (common[w] - 1) / 2;
      common[w] = 0;
    }
  }
  return total / 2;
}

std::vector<CountingGraph> make_counting_graphs(int64_t count, int64_t min_nodes, int64_t max_nodes, double p,
                                                uint64_t seed) {
  if (min_nodes < 1 || max_nodes < min_nodes) throw Error(cat("bad node range [", min_nodes, ", ", max_nodes, "]"));
  std::mt19937_64 rng(seed);
  std::vector<CountingGraph> out;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t n = min_nodes + static_cast<int64_t>(bounded(rng(), max_nodes - min_nodes + 1));
    std::vector<std::pair<int64_t, int64_t>> edges;
    for (int64_t u = 0; u < n; ++u)
      for (int64_t v = u + 1; v < n; ++v)
        if (static_cast<double>(rng() >> 11) * 0x1.0p-53 < p) edges.emplace_back(u, v);
    CountingGraph c;
    c.graph = mesh::SimpleGraph::from_edges(n, edges);
    c.triangles = count_triangles(c.graph);
    c.four_cycles = count_four_cycles(c.graph);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace tessera::io
