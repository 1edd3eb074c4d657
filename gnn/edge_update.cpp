#include "gnn/edge_update.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "core/error.hpp"
#include "gnn/kernels/segment_sum.hpp"
#include "gnn/message_passing.hpp"
#include "linalg/outer_product_sum.hpp"
#include "linalg/small_products.hpp"

namespace tessera::gnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Tensor inputs: the placeholder q, the residual g, the first layer's weight block and bias (empty
// for none; their gradients are edge_latent_fan_out's), ps, pr, then `params`: rest's weights and
// biases (empty for none) layer by layer, then gamma and beta when `norm`.
struct EdgeUpdate : torch::autograd::Function<EdgeUpdate> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& g, const at::Tensor& weight,
                            const at::Tensor& bias, const at::Tensor& ps, const at::Tensor& pr, at::TensorList params,
                            const EdgeIndex& ei, int64_t layers, bool norm, double eps) {
    const linalg::MlpLayers rest = linalg::mlp_layers_from(params, layers, norm, eps);
    const at::Tensor gc = g.contiguous(), wt = linalg::transposed_weight(weight), psc = ps.contiguous(),
                     prc = pr.contiguous(), b = bias.numel() > 0 ? bias.contiguous() : at::Tensor();
    // a = max(g Wᵀ + b + ps[src] + pr[dst], 0), block by block, just before the rest reads it.
    const at::Tensor a = at::empty({gc.size(0), wt.size(1)}, gc.options());
    const linalg::MlpForwardResult r = linalg::mlp_forward_by_blocks(a, rest, gc, [&](int64_t start, int64_t size) {
      const auto rows = [&](const at::Tensor& t) { return t.narrow(0, start, size); };
      linalg::product_with_weight_gathered_into(rows(a), rows(gc), wt, b, psc, rows(ei.src), prc, rows(ei.dst), true);
    });
    std::vector<at::Tensor> saved = linalg::mlp_saved(r, params);  // r.ins: a, then each hidden output
    // For the sums by node, and for a double backward's recomputation.
    saved.insert(saved.end(), {ei.src, ei.src_ptr, ei.src_perm, ei.dst, ei.dst_ptr, g, weight, bias, ps, pr});
    ctx->save_for_backward(saved);
    ctx->saved_data["layers"] = layers;
    ctx->saved_data["norm"] = norm;
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["num_nodes"] = ei.num_nodes;
    return r.out.y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const int64_t layers = ctx->saved_data["layers"].toInt();
    const bool norm = ctx->saved_data["norm"].toBool();
    const int64_t first_param = linalg::mlp_saved_parameters_at(layers, norm), num_params = 2 * layers + (norm ? 2 : 0),
                  graph = first_param + num_params;
    const auto param = [&](int64_t i) -> const at::Tensor& { return s[first_param + i]; };
    const auto needs = [&](int64_t i) { return ctx->needs_input_grad(6 + i); };  // after q, g, w, b, ps, pr
    EdgeIndex ei;
    ei.num_nodes = ctx->saved_data["num_nodes"].toInt();
    ei.src = s[graph], ei.src_ptr = s[graph + 1], ei.src_perm = s[graph + 2], ei.dst = s[graph + 3],
    ei.dst_ptr = s[graph + 4];
    // One gradient per input of forward: q, g, weight, bias, ps, pr, the parameters, then the four
    // non-tensors.
    variable_list out(6 + num_params + 4);
    if (ctx->needs_input_grad(1)) out[1] = grads[0];  // the residual
    const bool dq_needed = ctx->needs_input_grad(0) || ctx->needs_input_grad(4) || ctx->needs_input_grad(5);

    linalg::MlpBackwardInputs chunked = linalg::mlp_backward_inputs(grads[0].contiguous(), s, layers, norm, needs);
    // The rest's input a is a ReLU's output: its gradient, masked by a > 0, is dq.
    chunked.input_grad = dq_needed, chunked.input_relu = true;
    if (!c10::GradMode::is_enabled() && linalg::mlp_backward_by_chunks_applies(chunked)) {
      const linalg::MlpBackwardGrads g = linalg::mlp_backward_by_chunks(chunked);
      const std::vector<at::Tensor> grads_in_order = linalg::mlp_parameter_grads(g, norm);
      std::copy(grads_in_order.begin(), grads_in_order.end(), out.begin() + 6);
      if (dq_needed) {
        // ps's and pr's gradients: dq's rows summed by source and by destination (segment_sum's
        // order, so the bits of gather_add's backward).
        if (ctx->needs_input_grad(4)) out[4] = kernels::segment_sum(g.input, ei.src_ptr, ei.src_perm);
        if (ctx->needs_input_grad(5)) out[5] = kernels::segment_sum(g.input, ei.dst_ptr, at::Tensor());
        if (ctx->needs_input_grad(0)) out[0] = g.input;
      }
      return out;
    }
    // A double backward (grad mode on): the update recomputed from its inputs with differentiable
    // operations, and its gradients taken through them with a graph of their own.
    const bool create_graph = c10::GradMode::is_enabled();
    const at::AutoGradMode recording(true);  // also where the chunks refused the operands otherwise
    const at::Tensor &g_in = s[graph + 5], &weight = s[graph + 6], &bias = s[graph + 7], &ps = s[graph + 8],
                     &pr = s[graph + 9];
    at::Tensor q = bias.numel() > 0 ? at::addmm(bias, g_in, weight.t()) : at::mm(g_in, weight.t());
    const at::Tensor x = linalg::mlp_in_aten(
        at::relu(q + gather_src(ps, ei) + gather_dst(pr, ei)),
        linalg::mlp_layers_from(at::TensorList(s).slice(first_param), layers, norm, ctx->saved_data["eps"].toDouble()));
    std::vector<at::Tensor> wrt;
    std::vector<int64_t> slot;
    for (const auto& [t, i] : {std::pair{q, 0}, {ps, 4}, {pr, 5}})
      if (ctx->needs_input_grad(i)) wrt.push_back(t), slot.push_back(i);
    for (int64_t i = 0; i < num_params; ++i)
      if (needs(i) && param(i).numel() > 0) wrt.push_back(param(i)), slot.push_back(6 + i);
    if (wrt.empty()) return out;
    const variable_list d =
        torch::autograd::grad({x}, wrt, {grads[0]}, /*retain_graph=*/true, create_graph, /*allow_unused=*/true);
    for (size_t i = 0; i < wrt.size(); ++i) out[slot[i]] = d[i];
    return out;
  }
};

}  // namespace

bool edge_update_fuses(const at::Tensor& g, const linalg::MlpLayers& rest) {
  // mlp_by_blocks_applies: libxsmm in the build, CPU, fp32/fp64 of one type, no autocast.
  return !rest.weights.empty() && !rest.input_relu && linalg::mlp_by_blocks_applies(g, rest, g);
}

at::Tensor edge_update(const EdgeLatentFanOut& uses, const at::Tensor& weight, const at::Tensor& bias,
                       const at::Tensor& ps, const at::Tensor& pr, const linalg::MlpLayers& rest, const EdgeIndex& ei) {
  const at::Tensor& g = uses.residual;
  const int64_t p = weight.size(0), f = g.size(1);
  if (!uses.q_deferred || weight.dim() != 2 || weight.size(1) != f || ps.dim() != 2 || pr.dim() != 2 ||
      ps.sizes() != pr.sizes() || ps.size(0) != ei.num_nodes || ps.size(1) != p || rest.weights.empty() ||
      rest.weights.front().size(1) != p || rest.weights.back().size(0) != f)
    throw Error(cat("edge_update: expected a deferred fan-out of g [", ei.num_edges(), ", ", f, "], weight [P, ", f,
                    "], ps and pr [", ei.num_nodes, ", P] and a rest from P to ", f, " columns; got q deferred ",
                    uses.q_deferred, ", weight ", weight.sizes(), ", ps ", ps.sizes(), ", pr ", pr.sizes()));
  const std::vector<at::Tensor> params = linalg::mlp_parameters(rest, g.options());
  return EdgeUpdate::apply(uses.q, g, weight, bias.defined() ? bias : at::empty({0}, g.options()), ps, pr,
                           at::TensorList(params), ei, static_cast<int64_t>(rest.weights.size()), rest.gamma.defined(),
                           rest.eps);
}

}  // namespace tessera::gnn
