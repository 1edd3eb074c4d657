// gather_add: the first layer of a MeshGraphNet edge MLP with its node blocks applied per node.
//   y[e, :] = q[e, :] + ps[src[e], :] + pr[dst[e], :], then max(y, 0) with `relu`,
// one pass over the edges instead of two gathers, two sums and an activation. And its backward
// through the ReLU, gm = g where y > 0 (else 0) and each node's sum of its incoming gm rows, in
// one pass over the edges in destination order. The CPU kernels take q, ps, pr of one fp type
// (gather_add: also bf16 and half, summed in fp32; the backward: fp32 and fp64); everything else
// (CUDA, mixed types) goes through the same ATen operations the kernels replace.
#pragma once
#include <ATen/core/Tensor.h>

#include <utility>

namespace tessera::gnn::kernels {

// q: [E, F]; ps, pr: [N, F]; src, dst: [E] int64 -> [E, F] in q's type.
at::Tensor gather_add(const at::Tensor& q, const at::Tensor& ps, const at::Tensor& pr, const at::Tensor& src,
                      const at::Tensor& dst, bool relu);

// g, y: [E, F] (y: gather_add's result with the ReLU, edges sorted by destination); dst_ptr: the
// destinations' CSR [N + 1] -> (gm [E, F], sums [N, F]). The sums are added in segment_sum's
// order, so they have its bits.
std::pair<at::Tensor, at::Tensor> relu_backward_dst_sum(const at::Tensor& g, const at::Tensor& y,
                                                        const at::Tensor& dst_ptr);

namespace cpu {
at::Tensor gather_add(const at::Tensor& q, const at::Tensor& ps, const at::Tensor& pr, const at::Tensor& src,
                      const at::Tensor& dst, bool relu);
std::pair<at::Tensor, at::Tensor> relu_backward_dst_sum(const at::Tensor& g, const at::Tensor& y,
                                                        const at::Tensor& dst_ptr);
}  // namespace cpu

}  // namespace tessera::gnn::kernels
