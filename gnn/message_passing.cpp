#include "gnn/message_passing.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <tuple>
#include <utility>

#include "core/error.hpp"
#include "gnn/kernels/gather_add.hpp"
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

struct GatherAdd : torch::autograd::Function<GatherAdd> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& ps, const at::Tensor& pr,
                            const EdgeIndex& ei, bool relu) {
    at::Tensor y = kernels::gather_add(q, ps, pr, ei.src, ei.dst, relu);
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["ps_type"] = ps.scalar_type();
    ctx->saved_data["pr_type"] = pr.scalar_type();
    ctx->save_for_backward({relu ? y : at::Tensor(), ei.src, ei.src_ptr, ei.src_perm, ei.dst, ei.dst_ptr});
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    auto s = ctx->get_saved_variables();
    const bool relu = ctx->saved_data["relu"].toBool();
    at::Tensor g, gr;
    // One pass through the ReLU and the destination sums where nothing needs to stay
    // differentiable (no double backward through it).
    if (relu && !(c10::GradMode::is_enabled() && (grad[0].requires_grad() || s[0].requires_grad())))
      std::tie(g, gr) = kernels::relu_backward_dst_sum(grad[0], s[0], s[5]);
    else {
      g = relu ? at::threshold_backward(grad[0], s[0], 0) : grad[0];
      gr = Gather::SegmentSum::apply(g, s[5], at::empty({0}, s[4].options()), s[4]);
    }
    at::Tensor gs = Gather::SegmentSum::apply(g, s[2], s[3], s[1]);
    return {
        g, gs.to(ctx->saved_data["ps_type"].toScalarType()), gr.to(ctx->saved_data["pr_type"].toScalarType()), {}, {}};
  }
};

}  // namespace

at::Tensor gather_add(const at::Tensor& q, const at::Tensor& ps, const at::Tensor& pr, const EdgeIndex& ei, bool relu) {
  if (q.dim() != 2 || ps.dim() != 2 || pr.dim() != 2 || q.size(0) != ei.num_edges() || ps.size(0) != ei.num_nodes ||
      pr.size(0) != ei.num_nodes || ps.size(1) != q.size(1) || pr.size(1) != q.size(1))
    throw Error(cat("gather_add: expected q [", ei.num_edges(), ", F] and ps, pr [", ei.num_nodes, ", F], got ",
                    q.sizes(), ", ", ps.sizes(), ", ", pr.sizes()));
  return GatherAdd::apply(q, ps, pr, ei, relu);
}

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
