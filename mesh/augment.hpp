// Attention-mask augmentations of a graph (docs/references.md §3). Each returns a new graph over the
// same nodes, symmetric when its input is, with no self-loops.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mesh/graph.hpp"

namespace tessera::mesh {

// Pattern of A^K without the diagonal: j is a neighbour of i when a walk of exactly K edges
// joins them. K = 1 returns the graph itself.
Graph khop(const Graph& g, int k);

// All nodes within K hops: pattern of (A + I)^K without the diagonal.
Graph within_hops(const Graph& g, int k);

// Dilated neighbourhood: nodes at shortest-path distance exactly d (nearer nodes skipped, as in
// a dilated convolution).
Graph dilated(const Graph& g, int d);

// Adds round(fraction * E / 2) random undirected "jump" edges between distinct, previously
// unconnected nodes. Deterministic for a seed on every platform (mt19937_64, our own mapping).
Graph random_jumps(const Graph& g, double fraction, uint64_t seed);

// Connects every node in `hubs` to every other node, both directions (global attention).
Graph global_nodes(const Graph& g, const std::vector<int64_t>& hubs);

// Nodes whose type code is in `types` (e.g. inflow nodes as global hubs).
std::vector<int64_t> nodes_of_types(const std::vector<int32_t>& node_type, const std::vector<int32_t>& types);

// `count` distinct nodes drawn with the same deterministic generator as random_jumps.
std::vector<int64_t> random_nodes(int64_t num_nodes, int64_t count, uint64_t seed);

// Which augmentations to build (the deck's `augment` section; 0 switches one off).
struct AugmentOptions {
  int khop = 0;              // K >= 2: the K-hop mask
  int within_hops = 0;       // K >= 2: all nodes within K hops
  int dilation = 0;          // d >= 2: nodes at exactly d hops
  double jump_fraction = 0;  // random jump edges as a fraction of the mesh edges
  uint64_t jump_seed = 0;
  std::vector<int32_t> global_types;  // node types whose nodes become global hubs
  int64_t global_count = 0;           // extra random global hubs
  uint64_t global_seed = 0;
};

struct NamedGraph {
  std::string name;  // "mesh", "khop2", "dilated2", "jumps", "global", ...
  Graph graph;
};
// The mesh graph `g` of a mesh with node types `node_type`, followed by each augmentation
// `options` enables, in a fixed order. Throws an Error keyed "augment.global_nodes.count" when
// more random hubs are asked for than the graph has nodes.
std::vector<NamedGraph> augmented_graphs(const Graph& g, const std::vector<int32_t>& node_type,
                                         const AugmentOptions& options);

}  // namespace tessera::mesh
