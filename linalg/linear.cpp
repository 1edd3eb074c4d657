#include "linalg/linear.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <tuple>

#include "core/error.hpp"
#include "linalg/bf16_products.hpp"
#include "linalg/outer_product_sum.hpp"
#include "linalg/sequential_blas.hpp"
#include "linalg/small_products.hpp"

namespace tessera::linalg {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Without a bias, `bias` is an empty tensor (autograd functions take no undefined inputs).
struct JitLinear : public torch::autograd::Function<JitLinear> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias) {
    const at::Tensor xc = x.contiguous();
    const bool has_bias = bias.numel() > 0;
    ctx->save_for_backward({xc, weight});
    ctx->saved_data["bias"] = has_bias;
    return product_with_weight(xc, transposed_weight(weight), has_bias ? bias.contiguous() : at::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1], gy = grads[0].contiguous();
    at::Tensor gx, gw, gb;
    if (ctx->needs_input_grad(0)) gx = product_with_weight(gy, weight.contiguous());
    std::tie(gw, gb) = weight_and_bias_grads(gy, x, ctx->needs_input_grad(1),
                                             ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2));
    return {gx, gw, gb};
  }
};

// Rows per block of linalg::mlp's forward (about: the m rows are split into equal blocks). 512 rows
// of 128 floats are 256 KB per tensor; a block's input, hidden outputs, pre-norm product and
// result fit a core's L2 together.
constexpr int64_t kMlpBlock = 512;

// linalg::mlp's node. Its tensor inputs: x, the residual (empty for none), then `params`: each
// layer's weight and bias (empty for none), then gamma and beta when `norm`. Saves each layer's
// input, the parameters and, with the norm, the pre-norm product and each row's mean and rstd.
struct JitMlp : public torch::autograd::Function<JitMlp> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& residual,
                            at::TensorList params, int64_t layers, bool input_relu, bool norm, double eps) {
    const MlpLayers l = mlp_layers_from(params, layers, norm, eps, input_relu);
    MlpForwardResult r = mlp_forward_by_blocks(x, l, residual.numel() > 0 ? residual : at::Tensor());
    std::vector<at::Tensor> saved = mlp_saved(r, params);
    saved.push_back(x);  // for a double backward's recomputation
    ctx->save_for_backward(saved);
    ctx->saved_data["layers"] = layers;
    ctx->saved_data["input_relu"] = input_relu;
    ctx->saved_data["norm"] = norm;
    ctx->saved_data["residual"] = residual.numel() > 0;
    ctx->saved_data["eps"] = eps;
    return r.out.y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const int64_t layers = ctx->saved_data["layers"].toInt();
    const bool input_relu = ctx->saved_data["input_relu"].toBool(), norm = ctx->saved_data["norm"].toBool();
    const int64_t first_param = mlp_saved_parameters_at(layers, norm), num_params = 2 * layers + (norm ? 2 : 0);
    const auto param = [&](int64_t i) -> const at::Tensor& { return s[first_param + i]; };
    const auto needs = [&](int64_t i) { return ctx->needs_input_grad(2 + i); };  // 0: x, 1: the residual
    // One gradient per input of forward: x, residual, the parameters, then the four non-tensors.
    variable_list out(2 + num_params + 4);
    at::Tensor gz = grads[0].contiguous();
    if (ctx->saved_data["residual"].toBool() && ctx->needs_input_grad(1)) out[1] = grads[0];
    // Every layer chunk by chunk of the points where the operands allow (they do on the CPU in
    // fp32/fp64, the forward's own outputs) and no double backward is being built; else the MLP
    // recomputed below.
    MlpBackwardInputs chunked = mlp_backward_inputs(gz, s, layers, norm, needs);
    chunked.input_grad = ctx->needs_input_grad(0), chunked.input_relu = input_relu;
    if (!c10::GradMode::is_enabled() && mlp_backward_by_chunks_applies(chunked)) {
      const MlpBackwardGrads g = mlp_backward_by_chunks(chunked);
      out[0] = g.input;
      const std::vector<at::Tensor> grads_in_order = mlp_parameter_grads(g, norm);
      std::copy(grads_in_order.begin(), grads_in_order.end(), out.begin() + 2);
      return out;
    }
    // A double backward (grad mode on): the MLP recomputed from its input with differentiable
    // operations, and its gradients taken through them with a graph of their own (the saved hidden
    // outputs and norm statistics were made unrecorded, so a backward built from them would miss
    // the second-order terms through them).
    const bool create_graph = c10::GradMode::is_enabled();
    const at::AutoGradMode recording(true);  // also where the chunks refused the operands otherwise
    const at::Tensor& x = s[first_param + num_params];
    const at::Tensor h = mlp_in_aten(x, mlp_layers_from(at::TensorList(s).slice(first_param), layers, norm,
                                                        ctx->saved_data["eps"].toDouble(), input_relu));
    std::vector<at::Tensor> wrt;
    std::vector<int64_t> slot;
    if (ctx->needs_input_grad(0)) wrt.push_back(x), slot.push_back(0);
    for (int64_t i = 0; i < num_params; ++i)
      if (needs(i) && param(i).numel() > 0) wrt.push_back(param(i)), slot.push_back(2 + i);
    if (wrt.empty()) return out;
    const variable_list d = torch::autograd::grad({h}, wrt, {gz}, /*retain_graph=*/true, create_graph,
                                                  /*allow_unused=*/true);
    for (size_t i = 0; i < wrt.size(); ++i) out[slot[i]] = d[i];
    return out;
  }
};

bool jit_applies(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  // Under autocast (bf16 training) addmm is what autocast casts; the JIT path would stay fp32.
  return small_products_have_jit() && x.device().is_cpu() && x.dim() == 2 &&
         !at::autocast::is_autocast_enabled(at::kCPU) &&
         (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble) && weight.scalar_type() == x.scalar_type() &&
         (!bias.defined() || bias.scalar_type() == x.scalar_type());
}

}  // namespace

MlpForwardResult mlp_forward_by_blocks(const at::Tensor& x, const MlpLayers& l, const at::Tensor& residual,
                                       const MlpPrologue& prologue) {
  const int64_t layers = static_cast<int64_t>(l.weights.size()), m = x.size(0), last = layers - 1;
  const bool norm = l.gamma.defined();
  // Each layer's input (saved: a hidden layer's is the previous ReLU's output, its mask), the
  // weights transposed, the biases, and the outputs, all made once; then filled block by block.
  MlpForwardResult r;
  r.ins.push_back(prologue ? x : l.input_relu ? x.clamp_min(0) : x.contiguous());
  std::vector<at::Tensor> wt, bias;
  for (int64_t k = 0; k < layers; ++k) {
    wt.push_back(transposed_weight(l.weights[k]));
    bias.push_back(l.biases[k].defined() ? l.biases[k].contiguous() : at::Tensor());
    if (k < last) r.ins.push_back(at::empty({m, wt.back().size(1)}, x.options()));
  }
  const int64_t n = wt[last].size(1);
  const at::Tensor res = residual.defined() ? residual.contiguous() : at::Tensor();
  const at::Tensor gamma = norm ? l.gamma.contiguous() : at::Tensor(), beta = norm ? l.beta.contiguous() : at::Tensor();
  r.out.y = at::empty({m, n}, x.options());
  if (norm)
    r.out.z = at::empty({m, n}, x.options()), r.out.mean = at::empty({m, 1}, x.options()),
    r.out.rstd = at::empty({m, 1}, x.options());
  // Blocks of about kMlpBlock rows, each through every layer before the next block: a layer's
  // output is still in the core's cache when the next layer reads it (docs/design.md). Their count
  // follows the threads (a multiple of them, for equal shares), so their bounds fall on multiples
  // of the products' panel: each row is then computed by the same kernel call, a full panel's or
  // the last rows' short one, at every thread count. Bounds between panels put rows into a block's
  // short last panel at one thread count and into a full panel at another, and libxsmm's kernel
  // for the short panel gave them other bits (a MeshGraphNet's output at 1,426 and 2,201 nodes
  // on an AVX-512 Xeon; docs/design.md).
  const int64_t threads = at::get_num_threads();
  const int64_t blocks =
      std::min(m, (std::max<int64_t>(1, (m + kMlpBlock - 1) / kMlpBlock) + threads - 1) / threads * threads);
  const auto bound = [&](int64_t c) { return c == blocks ? m : c * m / blocks / kPointMajorPanel * kPointMajorPanel; };
  const at::ThreadLocalState caller;  // the caller's grad mode, on torch's worker threads
  at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
    const at::ThreadLocalStateGuard guard(caller);
    const SequentialBlas one_thread;  // a block's products where libxsmm has no kernel
    for (int64_t c = begin; c < end; ++c) {
      const int64_t start = bound(c), size = bound(c + 1) - start;
      if (size == 0) continue;
      const auto rows = [&](const at::Tensor& t) { return t.narrow(0, start, size); };
      if (prologue) prologue(start, size);
      for (int64_t k = 0; k < last; ++k)
        product_with_weight_into(rows(r.ins[k + 1]), rows(r.ins[k]), wt[k], bias[k], true);
      if (norm) {
        product_with_weight_layer_norm_into({rows(r.out.z), rows(r.out.y), rows(r.out.mean), rows(r.out.rstd)},
                                            rows(r.ins[last]), wt[last], bias[last], gamma, beta, l.eps,
                                            res.defined() ? rows(res) : at::Tensor());
      } else {
        product_with_weight_into(rows(r.out.y), rows(r.ins[last]), wt[last], bias[last]);
        if (res.defined()) rows(r.out.y).add_(rows(res));
      }
    }
  });
  return r;
}

std::vector<at::Tensor> mlp_parameters(const MlpLayers& l, const at::TensorOptions& options) {
  std::vector<at::Tensor> params;
  for (size_t k = 0; k < l.weights.size(); ++k)
    params.insert(params.end(), {l.weights[k], l.biases[k].defined() ? l.biases[k] : at::empty({0}, options)});
  if (l.gamma.defined()) params.insert(params.end(), {l.gamma, l.beta});
  return params;
}

std::vector<at::Tensor> mlp_saved(const MlpForwardResult& r, at::TensorList params) {
  std::vector<at::Tensor> saved = r.ins;
  if (r.out.z.defined()) saved.insert(saved.end(), {r.out.z, r.out.mean, r.out.rstd});
  saved.insert(saved.end(), params.begin(), params.end());
  return saved;
}

int64_t mlp_saved_parameters_at(int64_t layers, bool norm) { return layers + (norm ? 3 : 0); }

MlpBackwardInputs mlp_backward_inputs(const at::Tensor& gy, at::TensorList saved, int64_t layers, bool norm,
                                      const std::function<bool(int64_t)>& needs_parameter) {
  const at::TensorList params = saved.slice(mlp_saved_parameters_at(layers, norm));
  MlpBackwardInputs in;
  in.gy = gy;
  for (int64_t k = 0; k < layers; ++k) {
    in.ins.push_back(saved[k]);
    in.weights.push_back(params[2 * k].contiguous());
    in.weight_grad.push_back(needs_parameter(2 * k));
    in.bias_grad.push_back(params[2 * k + 1].numel() > 0 && needs_parameter(2 * k + 1));
  }
  if (norm) {
    in.z = saved[layers], in.mean = saved[layers + 1], in.rstd = saved[layers + 2];
    in.gamma = params[2 * layers];
    in.gamma_grad = needs_parameter(2 * layers), in.beta_grad = needs_parameter(2 * layers + 1);
  }
  return in;
}

std::vector<at::Tensor> mlp_parameter_grads(const MlpBackwardGrads& g, bool norm) {
  std::vector<at::Tensor> out;
  for (size_t k = 0; k < g.weights.size(); ++k) out.insert(out.end(), {g.weights[k], g.biases[k]});
  if (norm) out.insert(out.end(), {g.gamma, g.beta});
  return out;
}

MlpLayers mlp_layers_from(at::TensorList params, int64_t layers, bool norm, double eps, bool input_relu) {
  MlpLayers l;
  l.input_relu = input_relu, l.eps = eps;
  for (int64_t k = 0; k < layers; ++k) {
    l.weights.push_back(params[2 * k]);
    l.biases.push_back(params[2 * k + 1].numel() > 0 ? params[2 * k + 1] : at::Tensor());
  }
  if (norm) l.gamma = params[2 * layers], l.beta = params[2 * layers + 1];
  return l;
}

at::Tensor mlp_in_aten(const at::Tensor& x, const MlpLayers& l) {
  at::Tensor h = l.input_relu ? at::relu(x) : x;
  for (size_t k = 0; k < l.weights.size(); ++k) {
    const at::Tensor& w = l.weights[k];
    h = l.biases[k].defined() ? at::addmm(l.biases[k], h, w.t()) : at::mm(h, w.t());
    if (k + 1 < l.weights.size()) h = at::relu(h);
  }
  return l.gamma.defined() ? at::layer_norm(h, {h.size(1)}, l.gamma, l.beta, l.eps) : h;
}

bool mlp_by_blocks_applies(const at::Tensor& x, const MlpLayers& l, const at::Tensor& residual) {
  const int64_t layers = static_cast<int64_t>(l.weights.size());
  const bool norm = l.gamma.defined();
  bool jit = (!residual.defined() || residual.scalar_type() == x.scalar_type()) &&
             (!norm || (l.gamma.dim() == 1 && l.beta.dim() == 1 && l.gamma.scalar_type() == x.scalar_type() &&
                        l.beta.scalar_type() == x.scalar_type()));
  for (int64_t k = 0; k < layers; ++k) jit = jit && jit_applies(x, l.weights[k], l.biases[k]);
  return jit;
}

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  // Inference inside a Bf16Products scope that holds this weight: the bf16 product.
  if (const Bf16Products* scope = Bf16Products::current();
      scope && !c10::GradMode::is_enabled() && x.dim() == 2 && x.scalar_type() == at::kFloat && x.device().is_cpu())
    if (const at::Tensor* packed = scope->packed(weight)) return product_with_bf16_weight(x, *packed, bias);
  if (jit_applies(x, weight, bias))
    return JitLinear::apply(x, weight, bias.defined() ? bias : at::empty({0}, x.options()));
  return bias.defined() ? at::addmm(bias, x, weight.t()) : at::mm(x, weight.t());
}

at::Tensor mlp(const at::Tensor& x, const MlpLayers& l, const at::Tensor& residual) {
  const int64_t layers = static_cast<int64_t>(l.weights.size());
  const bool norm = l.gamma.defined();
  if (!(layers > 0 && l.biases.size() == l.weights.size() && norm == l.beta.defined()))
    throw Error("linalg::mlp: one bias slot per weight, and gamma and beta together");
  for (int64_t k = 0; k < layers; ++k)
    if (!(l.weights[k].dim() == 2 && l.weights[k].size(1) == (k ? l.weights[k - 1].size(0) : x.size(-1))))
      throw Error(
          cat("linalg::mlp: layer ", k, "'s weight ", l.weights[k].sizes(), " does not take its input's width"));
  if (mlp_by_blocks_applies(x, l, residual)) {
    const std::vector<at::Tensor> params = mlp_parameters(l, x.options());
    // As an at::TensorList: a std::vector would be taken for a non-tensor argument (no gradients).
    return JitMlp::apply(x, residual.defined() ? residual : at::empty({0}, x.options()), at::TensorList(params), layers,
                         l.input_relu, norm, l.eps);
  }
  at::Tensor h = l.input_relu ? at::relu(x) : x;
  for (int64_t k = 0; k + 1 < layers; ++k) h = linear(h, l.weights[k], l.biases[k]).relu_();
  h = linear(h, l.weights[layers - 1], l.biases[layers - 1]);
  if (norm) h = at::layer_norm(h, {h.size(-1)}, l.gamma, l.beta, l.eps);
  return residual.defined() ? h + residual : h;
}

}  // namespace tessera::linalg
