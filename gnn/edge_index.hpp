// EdgeIndex: a mesh::Graph as device tensors, with both CSR orders that message passing and its
// backward need (edges grouped by destination, and the permutation grouping them by source).
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

#include "mesh/graph.hpp"

namespace tessera::gnn {

struct EdgeIndex {
  int64_t num_nodes = 0;
  at::Tensor src, dst;  // [E] int64, sorted by (dst, src)
  at::Tensor dst_ptr;   // [N + 1]: incoming edges of i are [dst_ptr[i], dst_ptr[i+1])
  at::Tensor src_perm;  // [E]: edge ids ordered by (src, dst)
  at::Tensor src_ptr;   // [N + 1]: outgoing edges of i are src_perm[src_ptr[i] .. src_ptr[i+1])

  static EdgeIndex from_graph(const mesh::Graph& g);
  // The disjoint union of graphs (block-diagonal adjacency): part p's nodes follow those of the
  // parts before it. Both CSR orders stay valid, so one kernel call serves every part.
  static EdgeIndex disjoint_union(const std::vector<EdgeIndex>& parts);
  EdgeIndex to(const at::Device& device) const;
  int64_t num_edges() const { return src.numel(); }
};

}  // namespace tessera::gnn
