// Attention-mask augmentations of a graph (REFERENCES.md §3). Each returns a new graph over the
// same nodes, symmetric when its input is, with no self-loops.
#pragma once
#include <cstdint>
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
std::vector<int64_t> nodes_of_types(const std::vector<int32_t>& node_type,
                                    const std::vector<int32_t>& types);

// `count` distinct nodes drawn with the same deterministic generator as random_jumps.
std::vector<int64_t> random_nodes(int64_t num_nodes, int64_t count, uint64_t seed);

}  // namespace tessera::mesh
