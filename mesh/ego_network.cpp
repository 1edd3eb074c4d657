#include "mesh/ego_network.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>

#include "core/error.hpp"

namespace tessera::mesh {

SimpleGraph SimpleGraph::from_edges(int64_t n, const std::vector<std::pair<int64_t, int64_t>>& edges) {
  SimpleGraph g;
  g.num_nodes = n;
  g.neighbours.resize(n);
  for (const auto& [u, v] : edges) {
    if (u < 0 || u >= n || v < 0 || v >= n) throw Error(cat("edge (", u, ", ", v, ") outside the ", n, " nodes"));
    if (u == v) throw Error(cat("self loop at node ", u));
    g.neighbours[u].push_back(v);
    g.neighbours[v].push_back(u);
  }
  for (auto& nb : g.neighbours) {
    std::sort(nb.begin(), nb.end());
    nb.erase(std::unique(nb.begin(), nb.end()), nb.end());
  }
  return g;
}

int64_t SimpleGraph::num_edges() const {
  int64_t e = 0;
  for (const auto& nb : neighbours) e += static_cast<int64_t>(nb.size());
  return e / 2;
}

bool SimpleGraph::has_edge(int64_t u, int64_t v) const {
  return std::binary_search(neighbours[u].begin(), neighbours[u].end(), v);
}

std::vector<int64_t> bfs_distances(const SimpleGraph& g, int64_t source) {
  std::vector<int64_t> d(g.num_nodes, -1);
  std::deque<int64_t> q{source};
  d[source] = 0;
  while (!q.empty()) {
    const int64_t u = q.front();
    q.pop_front();
    for (int64_t v : g.neighbours[u])
      if (d[v] < 0) {
        d[v] = d[u] + 1;
        q.push_back(v);
      }
  }
  return d;
}

namespace {

// Adds the subgraph on `nodes` (local order) to `set`, numbering new pairs.
void add_subgraph(SubgraphSet& set, std::unordered_map<int64_t, int64_t>& pair_id, std::vector<int64_t> nodes) {
  const int64_t m = static_cast<int64_t>(nodes.size()), n = set.num_nodes;
  std::vector<int64_t> ids(m * m);
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = 0; b < m; ++b) {
      const int64_t key = nodes[a] * n + nodes[b];
      auto [it, added] = pair_id.try_emplace(key, static_cast<int64_t>(set.pairs.size()));
      if (added) set.pairs.emplace_back(nodes[a], nodes[b]);
      ids[a * m + b] = it->second;
    }
  set.nodes.push_back(std::move(nodes));
  set.pair_ids.push_back(std::move(ids));
}

}  // namespace

SubgraphSet ego_networks(const SimpleGraph& g, int hops) {
  if (hops < 1) throw Error(cat("ego-networks need hops >= 1, got ", hops));
  SubgraphSet set;
  set.num_nodes = g.num_nodes;
  std::unordered_map<int64_t, int64_t> pair_id;
  std::vector<int64_t> dist(g.num_nodes, -1);
  for (int64_t c = 0; c < g.num_nodes; ++c) {
    // Breadth-first search cut at `hops`; `seen` lists the nodes reached, to reset dist.
    std::vector<int64_t> seen{c};
    dist[c] = 0;
    for (size_t head = 0; head < seen.size(); ++head) {
      const int64_t u = seen[head];
      if (dist[u] == hops) continue;
      for (int64_t v : g.neighbours[u])
        if (dist[v] < 0) {
          dist[v] = dist[u] + 1;
          seen.push_back(v);
        }
    }
    for (int64_t v : seen) dist[v] = -1;
    std::sort(seen.begin() + 1, seen.end());
    add_subgraph(set, pair_id, std::move(seen));
  }
  return set;
}

SubgraphSet whole_graph(const SimpleGraph& g) {
  SubgraphSet set;
  set.num_nodes = g.num_nodes;
  std::unordered_map<int64_t, int64_t> pair_id;
  std::vector<int64_t> nodes(g.num_nodes);
  for (int64_t v = 0; v < g.num_nodes; ++v) nodes[v] = v;
  add_subgraph(set, pair_id, std::move(nodes));
  return set;
}

SubgraphBatch group_by_size(const std::vector<const SubgraphSet*>& graphs) {
  SubgraphBatch b;
  b.num_graphs = static_cast<int64_t>(graphs.size());
  std::map<int64_t, SizeGroup> by_size;
  for (int64_t gi = 0; gi < b.num_graphs; ++gi) {
    const SubgraphSet& s = *graphs[gi];
    for (int64_t k = 0; k < s.num_subgraphs(); ++k) {
      const int64_t m = static_cast<int64_t>(s.nodes[k].size());
      SizeGroup& grp = by_size[m];
      grp.m = m;
      for (int64_t v : s.nodes[k]) grp.node_index.push_back(v + b.num_nodes);
      for (int64_t p : s.pair_ids[k]) grp.pair_index.push_back(p + b.num_pairs);
      grp.graph.push_back(gi);
    }
    b.node_graph.insert(b.node_graph.end(), s.num_nodes, gi);
    b.pair_graph.insert(b.pair_graph.end(), s.pairs.size(), gi);
    b.subgraphs_per_graph.push_back(s.num_subgraphs());
    b.num_nodes += s.num_nodes;
    b.num_pairs += static_cast<int64_t>(s.pairs.size());
  }
  for (auto& [m, grp] : by_size) b.groups.push_back(std::move(grp));
  return b;
}

}  // namespace tessera::mesh
