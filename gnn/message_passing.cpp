#include "gnn/message_passing.hpp"

#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "core/error.hpp"
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

// y = q + ps[src] + pr[dst] (then ReLU), one pass over the edges on the CPU.
at::Tensor gather_add_cpu(const at::Tensor& q_in, const at::Tensor& ps_in, const at::Tensor& pr_in,
                          const at::Tensor& src_in, const at::Tensor& dst_in, bool relu) {
  const at::Tensor q = q_in.contiguous(), ps = ps_in.contiguous(), pr = pr_in.contiguous();
  const at::Tensor src = src_in.contiguous(), dst = dst_in.contiguous();
  const int64_t e = q.size(0), f = q.size(1);
  at::Tensor out = at::empty_like(q);
  const int64_t* s = src.data_ptr<int64_t>();
  const int64_t* d = dst.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, q.scalar_type(), "gather_add_cpu", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const scalar_t* qp = q.data_ptr<scalar_t>();
    const scalar_t* a = ps.data_ptr<scalar_t>();
    const scalar_t* b = pr.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    at::parallel_for(0, e, 256, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const scalar_t* __restrict__ qr = qp + k * f;
        const scalar_t* __restrict__ ar = a + s[k] * f;
        const scalar_t* __restrict__ br = b + d[k] * f;
        scalar_t* __restrict__ orow = o + k * f;
        if (relu)
          for (int64_t c = 0; c < f; ++c) {
            const acc_t v = acc_t(qr[c]) + acc_t(ar[c]) + acc_t(br[c]);
            orow[c] = scalar_t(v > acc_t(0) ? v : acc_t(0));
          }
        else
          for (int64_t c = 0; c < f; ++c) orow[c] = scalar_t(acc_t(qr[c]) + acc_t(ar[c]) + acc_t(br[c]));
      }
    });
  });
  return out;
}

// gather_add's backward through its ReLU on the CPU, in one pass over the edges in destination
// order (the order of EdgeIndex's edges): gm = g where y > 0, else 0 (the ReLU's backward), and
// each node's sum of its incoming gm rows, added in the same order as kernels::segment_sum (the
// same bits). One read of g and y instead of a ReLU pass and then a sum pass over its result.
std::pair<at::Tensor, at::Tensor> relu_backward_dst_sum_cpu(const at::Tensor& g_in, const at::Tensor& y_in,
                                                            const at::Tensor& dst_ptr_in) {
  const at::Tensor g = g_in.contiguous(), y = y_in.contiguous(), ptr = dst_ptr_in.contiguous();
  const int64_t n = ptr.numel() - 1, f = g.size(1);
  at::Tensor gm = at::empty_like(g), sums = at::empty({n, f}, g.options());
  const int64_t* p = ptr.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "relu_backward_dst_sum_cpu", [&] {
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const scalar_t* yp = y.data_ptr<scalar_t>();
    scalar_t* mp = gm.data_ptr<scalar_t>();
    scalar_t* sp = sums.data_ptr<scalar_t>();
    at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        scalar_t* __restrict__ srow = sp + i * f;
        for (int64_t k = p[i]; k < p[i + 1]; ++k) {
          const scalar_t* __restrict__ gr = gp + k * f;
          const scalar_t* __restrict__ yr = yp + k * f;
          scalar_t* __restrict__ mr = mp + k * f;
          for (int64_t c = 0; c < f; ++c) mr[c] = yr[c] > scalar_t(0) ? gr[c] : scalar_t(0);
          if (k == p[i])
            for (int64_t c = 0; c < f; ++c) srow[c] = mr[c];
          else
            for (int64_t c = 0; c < f; ++c) srow[c] += mr[c];
        }
        if (p[i] == p[i + 1]) std::fill(srow, srow + f, scalar_t(0));
      }
    });
  });
  return {gm, sums};
}

struct GatherAdd : torch::autograd::Function<GatherAdd> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& ps, const at::Tensor& pr,
                            const EdgeIndex& ei, bool relu) {
    const bool fused = q.device().is_cpu() && ps.device().is_cpu() && pr.device().is_cpu() &&
                       ps.scalar_type() == q.scalar_type() && pr.scalar_type() == q.scalar_type();
    at::Tensor y =
        fused ? gather_add_cpu(q, ps, pr, ei.src, ei.dst, relu)
              : q + ps.index_select(0, ei.src).to(q.scalar_type()) + pr.index_select(0, ei.dst).to(q.scalar_type());
    if (!fused && relu) y.relu_();
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
    // One fused pass where nothing needs to stay differentiable (no double backward through it).
    if (relu && grad[0].device().is_cpu() && grad[0].scalar_type() == s[0].scalar_type() &&
        (grad[0].scalar_type() == at::kFloat || grad[0].scalar_type() == at::kDouble) &&
        !(c10::GradMode::is_enabled() && (grad[0].requires_grad() || s[0].requires_grad())))
      std::tie(g, gr) = relu_backward_dst_sum_cpu(grad[0], s[0], s[5]);
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
