#include "gnn/message_passing.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include "gnn/kernels/segment_sum.hpp"

namespace tessera::gnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Gathers x rows by `index`; the backward segment-sums by (ptr, perm), the CSR of `index`.
// Autograd functions cannot take undefined tensors, so "no permutation" travels as an empty
// int64 tensor and becomes undefined only at the kernel call.
struct Gather : torch::autograd::Function<Gather> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& index, const at::Tensor& ptr,
                            const at::Tensor& perm) {
    ctx->save_for_backward({index, ptr, perm});
    return x.index_select(0, index);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    auto s = ctx->get_saved_variables();
    return {SegmentSum::apply(grad[0], s[1], s[2], s[0]), {}, {}, {}};
  }

  // Inner op so that the backward itself is differentiable (double backward).
  struct SegmentSum : torch::autograd::Function<SegmentSum> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& values, const at::Tensor& ptr,
                              const at::Tensor& perm, const at::Tensor& index) {
      ctx->save_for_backward({index, ptr, perm});
      return kernels::segment_sum(values, ptr, perm.numel() ? perm : at::Tensor());
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad) {
      auto s = ctx->get_saved_variables();
      return {Gather::apply(grad[0], s[0], s[1], s[2]), {}, {}, {}};
    }
  };
};

}  // namespace

at::Tensor gather_src(const at::Tensor& x, const EdgeIndex& ei) {
  return Gather::apply(x, ei.src, ei.src_ptr, ei.src_perm);
}

at::Tensor gather_dst(const at::Tensor& x, const EdgeIndex& ei) {
  return Gather::apply(x, ei.dst, ei.dst_ptr, at::empty({0}, ei.dst.options()));
}

at::Tensor scatter_sum_dst(const at::Tensor& m, const EdgeIndex& ei) {
  return Gather::SegmentSum::apply(m, ei.dst_ptr, at::empty({0}, ei.dst.options()), ei.dst);
}

}  // namespace tessera::gnn
