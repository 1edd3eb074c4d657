#include "gnn/edge_latent_fan_out.hpp"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <tuple>

#include "core/error.hpp"
#include "gnn/kernels/segment_sum.hpp"
#include "gnn/message_passing.hpp"
#include "linalg/linear.hpp"
#include "linalg/outer_product_sum.hpp"
#include "linalg/small_products.hpp"

namespace tessera::gnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Outputs q (with `defer_q` a placeholder), residual (g itself: autograd gives the returned input a
// view with this node as its function) and agg (empty without `scatter`). Without a bias, `bias` is
// an empty tensor.
struct FanOut : torch::autograd::Function<FanOut> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& g, const at::Tensor& weight,
                               const at::Tensor& bias, const EdgeIndex& ei, bool scatter, bool defer_q) {
    const bool has_bias = bias.numel() > 0;
    const at::Tensor gc = g.contiguous();
    // A deferred q is never read (edge_update computes it): untouched memory costs no pass.
    at::Tensor q =
        defer_q ? at::empty({g.size(0), weight.size(0)}, g.options())
                : linalg::product_with_weight(gc, linalg::transposed_weight(weight), has_bias ? bias : at::Tensor());
    // Autograd functions return no undefined tensors: without `scatter`, an empty one.
    at::Tensor agg = scatter ? kernels::segment_sum(gc, ei.dst_ptr, at::Tensor()) : at::empty({0}, g.options());
    if (!scatter) ctx->mark_non_differentiable({agg});
    ctx->save_for_backward({gc, weight, ei.dst, ei.dst_ptr});
    ctx->saved_data["bias"] = has_bias;
    ctx->saved_data["num_nodes"] = ei.num_nodes;
    ctx->set_materialize_grads(false);  // an unused output's gradient stays undefined
    return {q, g, agg};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const at::Tensor &g = s[0], &weight = s[1], &dst = s[2], &dst_ptr = s[3];
    const at::Tensor &dq = grads[0], &dres = grads[1], &dagg = grads[2];
    const bool bias = ctx->saved_data["bias"].toBool();
    at::Tensor dg, dw, db;
    if (c10::GradMode::is_enabled()) {  // building a double backward: differentiable operations
      if (ctx->needs_input_grad(0)) {
        dg = dres.defined() ? dres : at::zeros_like(g);
        if (dq.defined()) dg = dg + dq.mm(weight);
        if (dagg.defined()) {
          EdgeIndex ei;
          ei.num_nodes = ctx->saved_data["num_nodes"].toInt(), ei.dst = dst, ei.dst_ptr = dst_ptr;
          dg = dg + gather_dst(dagg, ei);
        }
      }
      if (dq.defined() && ctx->needs_input_grad(1)) dw = dq.t().mm(g);
      if (dq.defined() && bias && ctx->needs_input_grad(2)) db = dq.sum(0);
      return {dg, dw, db, {}, {}, {}};
    }
    const at::Tensor dqc = dq.defined() ? dq.contiguous() : at::Tensor();
    const at::Tensor c = dres.defined() ? dres.contiguous() : at::Tensor();
    const at::Tensor table = dagg.defined() ? dagg.contiguous() : at::Tensor();
    if (dqc.defined() && ctx->needs_input_grad(0) && ctx->needs_input_grad(1)) {
      // dg's rows chunk by chunk of the weight gradient's pass, each while dq's chunk is in cache.
      const at::Tensor w = weight.contiguous();
      dg = at::empty({dqc.size(0), w.size(1)}, dqc.options());
      std::tie(dw, db) = linalg::weight_and_bias_grads_then(
          dqc, g, bias && ctx->needs_input_grad(2), [&](int64_t start, int64_t size) {
            const auto rows = [&](const at::Tensor& t) { return t.defined() ? t.narrow(0, start, size) : t; };
            linalg::product_with_weight_plus_into(rows(dg), rows(dqc), w, rows(c), table,
                                                  table.defined() ? rows(dst) : at::Tensor());
          });
      return {dg, dw, db, {}, {}, {}};
    }
    if (ctx->needs_input_grad(0)) {
      if (dqc.defined())
        dg = linalg::product_with_weight_plus(dqc, weight.contiguous(), c, table, table.defined() ? dst : at::Tensor());
      else {
        dg = c.defined() ? c.clone() : at::zeros_like(g);
        if (table.defined()) dg.add_(table.index_select(0, dst));
      }
    }
    if (dqc.defined())
      std::tie(dw, db) =
          linalg::weight_and_bias_grads(dqc, g, ctx->needs_input_grad(1), bias && ctx->needs_input_grad(2));
    return {dg, dw, db, {}, {}, {}};
  }
};

}  // namespace

EdgeLatentFanOut edge_latent_fan_out(const at::Tensor& g, const at::Tensor& weight, const at::Tensor& bias,
                                     const EdgeIndex& ei, bool scatter, bool defer_q) {
  if (g.dim() != 2 || g.size(0) != ei.num_edges() || weight.dim() != 2 || weight.size(1) != g.size(1) ||
      (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0))))
    throw Error(cat("edge_latent_fan_out: expected g [", ei.num_edges(), ", F], weight [P, F] and bias [P], got ",
                    g.sizes(), ", ", weight.sizes(), ", ", bias.defined() ? bias.sizes() : at::IntArrayRef{}));
  const auto type = g.scalar_type();
  const bool one_type = weight.scalar_type() == type && (!bias.defined() || bias.scalar_type() == type);
  if (!one_type || at::autocast::is_autocast_enabled(g.device().type()))
    return {linalg::linear(g, weight, bias), g, scatter ? scatter_sum_dst(g, ei) : at::Tensor()};
  variable_list out =
      FanOut::apply(g, weight, bias.defined() ? bias : at::empty({0}, g.options()), ei, scatter, defer_q);
  return {out[0], out[1], scatter ? out[2] : at::Tensor(), defer_q};
}

}  // namespace tessera::gnn
