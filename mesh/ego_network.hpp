// k-hop ego-networks of small graphs (docs/references.md §7): one subgraph per node, holding the
// nodes within k hops of it, with maps from subgraph-local nodes and pairs to global node ids and
// to the ids of the distinct global pairs the subgraphs cover. Subgraphs are then grouped by
// their size m, so a batch of equal-size subgraphs is a dense [B, m, m, C] / [B, m, C] tensor.
#pragma once
#include <cstdint>
#include <map>
#include <vector>

namespace tessera::mesh {

// An undirected simple graph given by its neighbour lists (neighbours[v] sorted, no self loops).
struct SimpleGraph {
  int64_t num_nodes = 0;
  std::vector<std::vector<int64_t>> neighbours;
  // From an edge list (either or both directions); throws on an id outside [0, n) or a self loop.
  static SimpleGraph from_edges(int64_t num_nodes, const std::vector<std::pair<int64_t, int64_t>>& edges);
  int64_t num_edges() const;  // undirected edges
  bool has_edge(int64_t u, int64_t v) const;
};

// The subgraphs of one graph and the global pairs they cover.
struct SubgraphSet {
  int64_t num_nodes = 0;
  // Distinct ordered pairs (u, v) covered by some subgraph (u == v included), in first-seen order.
  std::vector<std::pair<int64_t, int64_t>> pairs;
  // Subgraph s: its nodes (global ids, local order) and, for local (a, b), the global pair id
  // pair_ids[s][a * m + b].
  std::vector<std::vector<int64_t>> nodes;
  std::vector<std::vector<int64_t>> pair_ids;
  int64_t num_subgraphs() const { return static_cast<int64_t>(nodes.size()); }
};

// One subgraph per node: the nodes at most `hops` (>= 1) edges away, the centre first and the
// others by increasing global id.
SubgraphSet ego_networks(const SimpleGraph& g, int hops);
// One subgraph, the whole graph (the global 2-IGN).
SubgraphSet whole_graph(const SimpleGraph& g);
// Shortest-path distances from `source` (-1: unreachable).
std::vector<int64_t> bfs_distances(const SimpleGraph& g, int64_t source);

// Subgraphs of several graphs, grouped by size for dense batches. Graph i's nodes and pairs are
// numbered after those of graphs 0..i-1 (offsets), so the groups index one concatenated
// node-feature [N, C] and pair-feature [P, C] tensor.
struct SizeGroup {
  int64_t m = 0;
  std::vector<int64_t> node_index;  // [B * m] global (batch) node ids
  std::vector<int64_t> pair_index;  // [B * m * m] global (batch) pair ids
  std::vector<int64_t> graph;       // [B] graph (position in the batch) of each subgraph
  int64_t count() const { return static_cast<int64_t>(graph.size()); }
};
struct SubgraphBatch {
  int64_t num_nodes = 0, num_pairs = 0, num_graphs = 0;
  std::vector<int64_t> node_graph;           // [N] graph of each node
  std::vector<int64_t> pair_graph;           // [P] graph of each pair
  std::vector<int64_t> subgraphs_per_graph;  // [G]
  std::vector<SizeGroup> groups;             // by increasing m
};
SubgraphBatch group_by_size(const std::vector<const SubgraphSet*>& graphs);

}  // namespace tessera::mesh
