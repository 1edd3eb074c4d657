#include "gnn/kernels/gather_add.hpp"

#include <ATen/ATen.h>

#include "gnn/kernels/segment_sum.hpp"

namespace tessera::gnn::kernels {

at::Tensor gather_add(const at::Tensor& q, const at::Tensor& ps, const at::Tensor& pr, const at::Tensor& src,
                      const at::Tensor& dst, bool relu) {
  if (q.device().is_cpu() && ps.device().is_cpu() && pr.device().is_cpu() && ps.scalar_type() == q.scalar_type() &&
      pr.scalar_type() == q.scalar_type())
    return cpu::gather_add(q, ps, pr, src, dst, relu);
  at::Tensor y = q + ps.index_select(0, src).to(q.scalar_type()) + pr.index_select(0, dst).to(q.scalar_type());
  return relu ? y.relu_() : y;
}

std::pair<at::Tensor, at::Tensor> relu_backward_dst_sum(const at::Tensor& g, const at::Tensor& y,
                                                        const at::Tensor& dst_ptr) {
  if (g.device().is_cpu() && y.device().is_cpu() && g.scalar_type() == y.scalar_type() &&
      (g.scalar_type() == at::kFloat || g.scalar_type() == at::kDouble))
    return cpu::relu_backward_dst_sum(g, y, dst_ptr);
  at::Tensor gm = at::threshold_backward(g, y, 0);
  return {gm, segment_sum(gm, dst_ptr, at::Tensor())};
}

}  // namespace tessera::gnn::kernels
