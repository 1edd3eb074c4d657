// Graph: a directed edge set stored as COO sorted by (dst, src) plus CSR by destination, the
// layout the attention and message-passing kernels consume (a node's incoming edges are a
// contiguous range). Mesh graphs are symmetric and have no self-loops.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "mesh/mesh.hpp"

namespace tessera::mesh {

struct Graph {
  int64_t num_nodes = 0;
  std::vector<int64_t> src, dst;  // edge e: src[e] -> dst[e], sorted by (dst, src)
  std::vector<int64_t> row_ptr;   // num_nodes + 1: incoming edges of i are [row_ptr[i], row_ptr[i+1])

  int64_t num_edges() const { return static_cast<int64_t>(src.size()); }
  int64_t in_degree(int64_t i) const { return row_ptr[i + 1] - row_ptr[i]; }
  bool has_edge(int64_t s, int64_t d) const;  // binary search in d's row
  bool is_symmetric() const;
};

// Builds a graph from (src, dst) pairs: sorts, removes duplicates and self-loops, and if
// `symmetrize` adds the reverse of every edge.
Graph graph_from_pairs(int64_t num_nodes, std::vector<std::pair<int64_t, int64_t>> pairs, bool symmetrize);

// The mesh graph: both directions of every cell edge (triangle: 3, quad: 4 sides, tet: 6).
Graph mesh_graph(const Mesh& mesh);

// Edge features (num_edges x (dim + 1), row-major): x_src - x_dst, then its length, as the
// MeshGraphNets relative world position (sender minus receiver).
std::vector<double> edge_features(const Graph& g, const Mesh& mesh);

// Union of edge sets over the same nodes.
Graph graph_union(const Graph& a, const Graph& b);

struct GraphStats {
  int64_t num_nodes, num_edges, min_degree, max_degree;
  double mean_degree;
};
GraphStats graph_stats(const Graph& g);

}  // namespace tessera::mesh
