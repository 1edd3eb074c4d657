#include "mesh/augment.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "core/error.hpp"
#include "core/memory.hpp"

namespace tessera::mesh {
namespace {

// Builds a graph from one neighbour row per destination node, computed on the fly, so memory
// stays O(row) per node plus the output, never O(N^2).
template <class Rows>
Graph rows_to_graph(int64_t n, Rows&& row_of) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  std::vector<int64_t> row;
  for (int64_t i = 0; i < n; ++i) {
    row_of(i, row);
    for (int64_t j : row)
      if (j != i) pairs.emplace_back(j, i);
  }
  return graph_from_pairs(n, std::move(pairs), false);
}

void check_k(int k, const char* what) {
  if (k < 1) throw Error(cat(what, ": hop count must be >= 1, got ", k));
}

// Unbiased enough for graph sizes (< 2^40): the bias of a 64-bit modulo is below 2^-24.
int64_t draw(std::mt19937_64& rng, int64_t n) { return static_cast<int64_t>(rng() % uint64_t(n)); }

}  // namespace

Graph khop(const Graph& g, int k) {
  check_k(k, "khop");
  const int64_t n = g.num_nodes;
  std::vector<char> in_next(n, 0);
  return rows_to_graph(n, [&](int64_t i, std::vector<int64_t>& cur) {
    cur.assign(1, i);
    // The sets after the last two steps, sorted (-1: none yet). The next set is a function of the
    // last, so once a set equals the one two steps back the sets repeat with period 2.
    std::vector<int64_t> next, two_back{-1}, one_back{i};
    for (int step = 0; step < k; ++step) {
      next.clear();
      for (int64_t u : cur)
        for (int64_t e = g.row_ptr[u]; e < g.row_ptr[u + 1]; ++e) {
          int64_t v = g.src[e];
          if (!in_next[v]) in_next[v] = 1, next.push_back(v);
        }
      for (int64_t v : next) in_next[v] = 0;
      // From there on step k's set is the one of its parity (K = 100,000 walked every step and hung).
      std::sort(next.begin(), next.end());
      if (next == two_back) {
        if ((k - 1 - step) % 2 == 1) next = one_back;
        cur.swap(next);
        return;
      }
      two_back.swap(one_back);
      one_back = next;
      cur.swap(next);
    }
  });
}

// Breadth-first search from i up to depth k: layer(d, nodes) for the nodes first reached at each
// depth d. `depth` (all -1, of size num_nodes) is scratch, left all -1 again.
template <class Layer>
static void bfs_layers(const Graph& g, int64_t i, int k, std::vector<int>& depth, Layer layer) {
  std::vector<int64_t> seen{i}, frontier{i};
  depth[i] = 0;
  for (int d = 1; d <= k && !frontier.empty(); ++d) {
    std::vector<int64_t> next;
    for (int64_t u : frontier)
      for (int64_t e = g.row_ptr[u]; e < g.row_ptr[u + 1]; ++e)
        if (const int64_t v = g.src[e]; depth[v] < 0) depth[v] = d, next.push_back(v), seen.push_back(v);
    layer(d, next);
    frontier.swap(next);
  }
  for (int64_t v : seen) depth[v] = -1;
}

// Rows of the nodes within k hops of each node; `keep(depth)` selects which layers to return.
template <class Keep>
static Graph bfs_rows(const Graph& g, int k, Keep keep) {
  std::vector<int> depth(g.num_nodes, -1);
  return rows_to_graph(g.num_nodes, [&](int64_t i, std::vector<int64_t>& out) {
    out.clear();
    bfs_layers(g, i, k, depth, [&](int d, const std::vector<int64_t>& nodes) {
      if (keep(d)) out.insert(out.end(), nodes.begin(), nodes.end());
    });
  });
}

// Mean nodes reached by a breadth-first search to depth k (only depth k when `shell_only`), over
// up to 64 evenly spaced start nodes: an estimate of a mask's edges per node before it is built.
static double sampled_reach(const Graph& g, int k, bool shell_only) {
  const int64_t n = g.num_nodes, samples = std::min<int64_t>(n, 64);
  if (samples == 0) return 0;
  std::vector<int> depth(n, -1);
  double total = 0;
  for (int64_t s = 0; s < samples; ++s)
    bfs_layers(g, s * n / samples, k, depth, [&](int d, const std::vector<int64_t>& nodes) {
      if (!shell_only || d == k) total += static_cast<double>(nodes.size());
    });
  return total / static_cast<double>(samples);
}

// Refuses, at its key, a hop mask that would take more than half of the memory this process may
// use: a large mesh with a large K otherwise ran for minutes into an out-of-memory error that named
// no key. Every rank builds the masks, so with several ranks on one machine each has its share
// (core::memory_share_bytes). Building one holds about 48 bytes per edge at its peak: the rows'
// pairs (16, more while the vector grows) beside the graph's source and target (16).
static void check_mask_memory(const Graph& g, int k, bool shell_only, const char* key) {
  const int64_t memory = core::memory_share_bytes();
  const int processes = core::processes_on_this_machine();
  if (memory <= 0) return;
  const double per_node = sampled_reach(g, k, shell_only), edges = per_node * static_cast<double>(g.num_nodes);
  const double bytes = edges * 48;
  if (bytes > 0.5 * static_cast<double>(memory))
    throw Error(
        cat(k, " hops reach about ", std::llround(per_node), " nodes per node (sampled from ",
            std::min<int64_t>(g.num_nodes, 64), " nodes), about ", std::llround(edges),
            " mask edges, which take about ", std::llround(bytes / (1 << 30)), " GiB to build: more than half of the ",
            std::llround(static_cast<double>(memory) / (1 << 30)), " GiB ",
            processes > 1 ? cat("each of the ", processes, " processes on this machine") : std::string("this process"),
            " may use; use fewer hops"),
        key);
}

Graph within_hops(const Graph& g, int k) {
  check_k(k, "within_hops");
  return bfs_rows(g, k, [](int) { return true; });
}

Graph dilated(const Graph& g, int d) {
  check_k(d, "dilated");
  return bfs_rows(g, d, [d](int depth) { return depth == d; });
}

Graph random_jumps(const Graph& g, double fraction, uint64_t seed) {
  if (!(fraction >= 0) || !std::isfinite(fraction))
    throw Error(cat("random_jumps: fraction must be >= 0, got ", fraction));
  const int64_t n = g.num_nodes;
  const int64_t want = std::llround(fraction * g.num_edges() / 2.0);
  // A fraction too small for this graph added nothing, and the "jumps" mask was the mesh graph.
  if (fraction > 0 && want == 0)
    throw Error(g.num_edges() == 0 ? std::string("random_jumps: the graph has no edges to take a fraction of")
                                   : cat("random_jumps: a fraction of ", fraction, " of the ", g.num_edges() / 2,
                                         " undirected edges is no edge; at least ", 1.0 / g.num_edges(), " gives one"));
  const int64_t free_pairs = n * (n - 1) / 2 - g.num_edges() / 2;
  if (want > free_pairs)
    throw Error(cat("random_jumps: ", want, " new edges requested but only ", free_pairs, " unconnected pairs exist"));
  std::mt19937_64 rng(seed);
  std::set<std::pair<int64_t, int64_t>> added;
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t e = 0; e < g.num_edges(); ++e) pairs.emplace_back(g.src[e], g.dst[e]);
  while (static_cast<int64_t>(added.size()) < want) {
    int64_t a = draw(rng, n), b = draw(rng, n);
    if (a == b) continue;
    if (a > b) std::swap(a, b);
    if (g.has_edge(a, b) || !added.insert({a, b}).second) continue;
    pairs.emplace_back(a, b);
    pairs.emplace_back(b, a);
  }
  return graph_from_pairs(n, std::move(pairs), false);
}

Graph global_nodes(const Graph& g, const std::vector<int64_t>& hubs) {
  const int64_t n = g.num_nodes;
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t e = 0; e < g.num_edges(); ++e) pairs.emplace_back(g.src[e], g.dst[e]);
  for (int64_t h : hubs) {
    if (h < 0 || h >= n) throw Error(cat("global_nodes: node ", h, " out of range for ", n));
    for (int64_t j = 0; j < n; ++j)
      if (j != h) pairs.emplace_back(h, j), pairs.emplace_back(j, h);
  }
  return graph_from_pairs(n, std::move(pairs), false);
}

std::vector<int64_t> nodes_of_types(const std::vector<int32_t>& node_type, const std::vector<int32_t>& types) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < static_cast<int64_t>(node_type.size()); ++i)
    if (std::find(types.begin(), types.end(), node_type[i]) != types.end()) out.push_back(i);
  return out;
}

std::vector<int64_t> random_nodes(int64_t num_nodes, int64_t count, uint64_t seed) {
  if (count < 0 || count > num_nodes)
    throw Error(cat("random_nodes: cannot draw ", count, " of ", num_nodes, " nodes"));
  std::mt19937_64 rng(seed);
  std::set<int64_t> picked;
  while (static_cast<int64_t>(picked.size()) < count) picked.insert(draw(rng, num_nodes));
  return {picked.begin(), picked.end()};
}

std::vector<NamedGraph> augmented_graphs(const Graph& g, const std::vector<int32_t>& node_type,
                                         const AugmentOptions& o) {
  std::vector<NamedGraph> out{{"mesh", g}};
  // A hop count beyond the mesh's extent gives a mask without edges: said at its key (a
  // dilation of 100,000 trained with an empty mask without a word).
  auto add = [&](std::string name, Graph m, const char* key, int64_t hops) {
    if (m.num_edges() == 0 && g.num_edges() > 0)
      throw Error(cat("no two nodes of the mesh are ", key == std::string("augment.dilation") ? "exactly " : "within ",
                      hops, " hops apart beyond its own edges: the mask would be empty (the mesh's graph is smaller)"),
                  key);
    out.push_back({std::move(name), std::move(m)});
  };
  // Every hop mask's size is checked before any is built. khop's pattern (walks of exactly K
  // edges) lies within K hops: the same estimate bounds it.
  if (o.khop) check_mask_memory(g, o.khop, false, "augment.khop");
  if (o.within_hops) check_mask_memory(g, o.within_hops, false, "augment.within_hops");
  if (o.dilation) check_mask_memory(g, o.dilation, true, "augment.dilation");
  if (o.khop) add(cat("khop", o.khop), khop(g, o.khop), "augment.khop", o.khop);
  if (o.within_hops)
    add(cat("within", o.within_hops), within_hops(g, o.within_hops), "augment.within_hops", o.within_hops);
  if (o.dilation) add(cat("dilated", o.dilation), dilated(g, o.dilation), "augment.dilation", o.dilation);
  if (o.jump_fraction > 0) {
    try {
      out.push_back({"jumps", random_jumps(g, o.jump_fraction, o.jump_seed)});
    } catch (const Error& e) {
      throw Error(e.what(), "augment.random_jumps.fraction");
    }
  }
  auto hubs = nodes_of_types(node_type, o.global_types);
  // Types that no node has (a mesh without outflow nodes) gave no global graph without a word.
  if (!o.global_types.empty() && hubs.empty()) {
    std::string types;
    for (int32_t t : o.global_types) types += cat(types.empty() ? "" : ", ", t);
    throw Error(cat("no node of the mesh has type ", types, ", so there would be no global node"),
                "augment.global_nodes.types");
  }
  if (o.global_count > g.num_nodes)
    throw Error(cat("exceeds the ", g.num_nodes, " mesh nodes"), "augment.global_nodes.count");
  for (int64_t h : random_nodes(g.num_nodes, o.global_count, o.global_seed)) hubs.push_back(h);
  if (!hubs.empty()) out.push_back({"global", global_nodes(g, hubs)});
  return out;
}

}  // namespace tessera::mesh
