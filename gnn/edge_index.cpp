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

EdgeIndex EdgeIndex::to(const at::Device& device) const {
  return {num_nodes, src.to(device), dst.to(device), dst_ptr.to(device), src_perm.to(device), src_ptr.to(device)};
}

}  // namespace tessera::gnn
