#include "gnn/sparse_attention.hpp"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "core/error.hpp"
#include "gnn/kernels/sparse_attention.hpp"

namespace tessera::gnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

double resolve_scale(const at::Tensor& q, double scale) {
  return scale > 0 ? scale : 1.0 / std::sqrt(double(q.size(2)));
}

struct SparseAttention : torch::autograd::Function<SparseAttention> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const at::Tensor& src, const at::Tensor& dst, const at::Tensor& dst_ptr,
                            const at::Tensor& src_ptr, const at::Tensor& src_perm, double scale) {
    auto [out, lse] = kernels::sparse_attention_forward(q, k, v, {src, dst, dst_ptr, src_ptr, src_perm}, scale);
    ctx->save_for_backward({q, k, v, out, lse, src, dst, dst_ptr, src_ptr, src_perm});
    ctx->saved_data["scale"] = scale;
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    auto s = ctx->get_saved_variables();
    auto [dq, dk, dv] = kernels::sparse_attention_backward(
        grad[0], s[0], s[1], s[2], s[3], s[4], {s[5], s[6], s[7], s[8], s[9]}, ctx->saved_data["scale"].toDouble());
    return {dq, dk, dv, {}, {}, {}, {}, {}, {}};
  }
};

// Under autocast q, k, v arrive in whatever dtypes the ops before produced (bf16 from linear
// layers, fp32 after the rotary embedding): the kernels get them in the autocast dtype, as a
// matrix product would; otherwise in their promoted dtype.
at::ScalarType attention_dtype(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const auto device = q.device().type();
  if (at::autocast::is_autocast_enabled(device)) return at::autocast::get_autocast_dtype(device);
  return at::promote_types(at::promote_types(q.scalar_type(), k.scalar_type()), v.scalar_type());
}

}  // namespace

at::Tensor sparse_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const EdgeIndex& ei,
                            double scale) {
  const at::ScalarType dt = attention_dtype(q, k, v);
  // Inference (rollouts, no-grad evaluation): the kernel alone, nothing kept for a backward.
  if (!at::GradMode::is_enabled() || !(q.requires_grad() || k.requires_grad() || v.requires_grad()))
    return std::get<0>(kernels::sparse_attention_forward(
        q.to(dt), k.to(dt), v.to(dt), {ei.src, ei.dst, ei.dst_ptr, ei.src_ptr, ei.src_perm}, resolve_scale(q, scale)));
  return SparseAttention::apply(q.to(dt), k.to(dt), v.to(dt), ei.src, ei.dst, ei.dst_ptr, ei.src_ptr, ei.src_perm,
                                resolve_scale(q, scale));
}

void sparse_attention_into(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const EdgeIndex& ei,
                           const at::Tensor& out, double scale) {
  if (at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad()))
    throw Error("sparse_attention_into: inference only, but q, k or v requires grad (use sparse_attention)");
  kernels::sparse_attention_inference_into(q, k, v, {ei.src, ei.dst, ei.dst_ptr, ei.src_ptr, ei.src_perm},
                                           resolve_scale(q, scale), out);
}

at::Tensor dense_masked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const EdgeIndex& ei,
                                  double scale) {
  const int64_t n = q.size(0);
  at::Tensor mask = at::zeros({n, n}, q.options().dtype(at::kBool));  // mask[i, j]: edge j -> i
  mask.index_put_({ei.dst, ei.src}, true);
  at::Tensor scores = at::einsum("ihd,jhd->hij", {q, k}) * resolve_scale(q, scale);
  scores = scores.masked_fill(mask.logical_not().unsqueeze(0), -std::numeric_limits<double>::infinity());
  at::Tensor w = at::softmax(scores, -1);
  w = at::where(mask.any(1).view({1, n, 1}), w, at::zeros_like(w));  // rows without edges: 0, not NaN
  return at::einsum("hij,jhd->ihd", {w, v});
}

at::Tensor edge_attention_torch(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const EdgeIndex& ei,
                                double scale) {
  const int64_t n = q.size(0), h = q.size(1);
  at::Tensor s = (q.index_select(0, ei.dst) * k.index_select(0, ei.src)).sum(-1) * resolve_scale(q, scale);  // [E, H]
  at::Tensor m = at::full({n, h}, -std::numeric_limits<double>::infinity(), s.options())
                     .scatter_reduce(0, ei.dst.unsqueeze(1).expand({-1, h}), s, "amax", true);
  at::Tensor ex = at::exp(s - m.index_select(0, ei.dst).detach());
  at::Tensor den = at::zeros({n, h}, s.options()).index_add(0, ei.dst, ex);
  at::Tensor a = ex / den.index_select(0, ei.dst);
  return at::zeros_like(q).index_add(0, ei.dst, a.unsqueeze(-1) * v.index_select(0, ei.src));
}

}  // namespace tessera::gnn
