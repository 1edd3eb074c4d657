#include "gnn/edge_index.hpp"

#include <ATen/ATen.h>

#include <numeric>

namespace tessera::gnn {

EdgeIndex EdgeIndex::from_graph(const mesh::Graph& g) {
  const int64_t n = g.num_nodes, e = g.num_edges();
  auto to_tensor = [](const std::vector<int64_t>& v) { return at::tensor(at::ArrayRef<int64_t>(v), at::kLong); };
  std::vector<int64_t> perm(e), sptr(n + 1, 0);
  std::iota(perm.begin(), perm.end(), 0);
  // Stable sort by source keeps destinations ascending within each source group.
  std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return g.src[a] < g.src[b]; });
  for (int64_t k = 0; k < e; ++k) ++sptr[g.src[k] + 1];
  for (int64_t i = 0; i < n; ++i) sptr[i + 1] += sptr[i];
  EdgeIndex ei;
  ei.num_nodes = n;
  ei.src = to_tensor(g.src);
  ei.dst = to_tensor(g.dst);
  ei.dst_ptr = to_tensor(g.row_ptr);
  ei.src_perm = to_tensor(perm);
  ei.src_ptr = to_tensor(sptr);
  return ei;
}

EdgeIndex EdgeIndex::disjoint_union(const std::vector<EdgeIndex>& parts) {
  std::vector<at::Tensor> src, dst, dst_ptr, src_perm, src_ptr;
  int64_t nodes = 0, edges = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    const EdgeIndex& e = parts[p];
    const bool last = p + 1 == parts.size();
    src.push_back(e.src + nodes);
    dst.push_back(e.dst + nodes);
    // Pointer arrays: every part's but the last drops its final entry (the next part's first).
    dst_ptr.push_back((last ? e.dst_ptr : e.dst_ptr.narrow(0, 0, e.num_nodes)) + edges);
    src_ptr.push_back((last ? e.src_ptr : e.src_ptr.narrow(0, 0, e.num_nodes)) + edges);
    src_perm.push_back(e.src_perm + edges);
    nodes += e.num_nodes;
    edges += e.num_edges();
  }
  if (parts.empty()) return {};
  return {nodes, at::cat(src), at::cat(dst), at::cat(dst_ptr), at::cat(src_perm), at::cat(src_ptr)};
}

EdgeIndex EdgeIndex::to(const at::Device& device) const {
  return {num_nodes, src.to(device), dst.to(device), dst_ptr.to(device), src_perm.to(device), src_ptr.to(device)};
}

}  // namespace tessera::gnn
