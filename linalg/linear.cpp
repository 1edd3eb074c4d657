#include "linalg/linear.hpp"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <tuple>

#include "linalg/outer_product_sum.hpp"
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

// linalg::mlp's node. Its tensor inputs: x, the residual (empty for none), then `params`: each
// layer's weight and bias (empty for none), then gamma and beta when `norm`. Saves each layer's
// input, the parameters and, with the norm, the pre-norm product and each row's mean and rstd.
struct JitMlp : public torch::autograd::Function<JitMlp> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& residual,
                            at::TensorList params, int64_t layers, bool input_relu, bool norm, double eps) {
    const auto bias = [&](int64_t k) {
      return params[2 * k + 1].numel() > 0 ? params[2 * k + 1].contiguous() : at::Tensor();
    };
    std::vector<at::Tensor> saved;
    at::Tensor in = input_relu ? x.clamp_min(0) : x.contiguous();
    for (int64_t k = 0; k + 1 < layers; ++k) {
      saved.push_back(in);
      in = product_with_weight(in, transposed_weight(params[2 * k]), bias(k), true);
    }
    saved.push_back(in);
    const int64_t last = layers - 1;
    const at::Tensor w = transposed_weight(params[2 * last]),
                     res = residual.numel() > 0 ? residual.contiguous() : at::Tensor();
    at::Tensor y;
    if (norm) {
      NormedProduct r = product_with_weight_layer_norm(in, w, bias(last), params[2 * layers].contiguous(),
                                                       params[2 * layers + 1].contiguous(), eps, res);
      saved.insert(saved.end(), {r.z, r.mean, r.rstd});
      y = r.y;
    } else {
      y = product_with_weight(in, w, bias(last));
      if (res.defined()) y.add_(res);
    }
    saved.insert(saved.end(), params.begin(), params.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["layers"] = layers;
    ctx->saved_data["input_relu"] = input_relu;
    ctx->saved_data["norm"] = norm;
    ctx->saved_data["residual"] = residual.numel() > 0;
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const int64_t layers = ctx->saved_data["layers"].toInt();
    const bool input_relu = ctx->saved_data["input_relu"].toBool(), norm = ctx->saved_data["norm"].toBool();
    const int64_t stats = norm ? 3 : 0, first_param = layers + stats, num_params = 2 * layers + (norm ? 2 : 0);
    const auto param = [&](int64_t i) -> const at::Tensor& { return s[first_param + i]; };
    const auto needs = [&](int64_t i) { return ctx->needs_input_grad(2 + i); };  // 0: x, 1: the residual
    // One gradient per input of forward: x, residual, the parameters, then the four non-tensors.
    variable_list out(2 + num_params + 4);
    at::Tensor gz = grads[0].contiguous();
    if (ctx->saved_data["residual"].toBool() && ctx->needs_input_grad(1)) out[1] = grads[0];
    // With the norm and the last layer's weight to train, the norm's backward and that layer's
    // weight and bias gradients are one pass over chunks of the points (each chunk's norm gradient
    // multiplied while in cache); otherwise ATen's norm backward, then the layers below.
    const int64_t last = layers - 1;
    const bool last_bias = param(2 * last + 1).numel() > 0 && needs(2 * last + 1);
    const bool fused_last = norm && needs(2 * last);
    if (fused_last) {
      NormedProductGrads g = layer_norm_backward_and_weight_grads(gz, s[layers], s[layers + 1], s[layers + 2],
                                                                  param(2 * layers), s[last], last_bias);
      gz = g.gz;
      out[2 + 2 * last] = g.weight;
      if (last_bias) out[3 + 2 * last] = g.bias;
      if (needs(2 * layers)) out[2 + 2 * layers] = g.gamma;
      if (needs(2 * layers + 1)) out[3 + 2 * layers] = g.beta;
    } else if (norm) {
      const at::Tensor& z = s[layers];
      auto [gz_norm, ggamma, gbeta] =
          at::native_layer_norm_backward(gz, z, {z.size(1)}, s[layers + 1], s[layers + 2], param(2 * layers),
                                         param(2 * layers + 1), {true, needs(2 * layers), needs(2 * layers + 1)});
      gz = gz_norm.contiguous();
      out[2 + 2 * layers] = ggamma, out[3 + 2 * layers] = gbeta;
    }
    for (int64_t k = layers - 1; k >= 0; --k) {
      const at::Tensor& in = s[k];
      if (k != last || !fused_last)  // else they came with the norm's backward
        std::tie(out[2 + 2 * k], out[3 + 2 * k]) =
            weight_and_bias_grads(gz, in, needs(2 * k), param(2 * k + 1).numel() > 0 && needs(2 * k + 1));
      const at::Tensor w = param(2 * k).contiguous();
      if (k > 0)  // the previous layer's ReLU: its output `in` is the mask
        gz = product_with_weight_masked(gz, w, in);
      else if (ctx->needs_input_grad(0))
        out[0] = input_relu ? product_with_weight_masked(gz, w, in) : product_with_weight(gz, w);
    }
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

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (jit_applies(x, weight, bias))
    return JitLinear::apply(x, weight, bias.defined() ? bias : at::empty({0}, x.options()));
  return bias.defined() ? at::addmm(bias, x, weight.t()) : at::mm(x, weight.t());
}

at::Tensor mlp(const at::Tensor& x, const MlpLayers& l, const at::Tensor& residual) {
  const int64_t layers = static_cast<int64_t>(l.weights.size());
  const bool norm = l.gamma.defined();
  TORCH_CHECK(layers > 0 && l.biases.size() == l.weights.size() && norm == l.beta.defined(),
              "linalg::mlp: one bias slot per weight, and gamma and beta together");
  for (int64_t k = 0; k < layers; ++k)
    TORCH_CHECK(l.weights[k].dim() == 2 && l.weights[k].size(1) == (k ? l.weights[k - 1].size(0) : x.size(-1)),
                "linalg::mlp: layer ", k, "'s weight ", l.weights[k].sizes(), " does not take its input's width");
  bool jit = (!residual.defined() || residual.scalar_type() == x.scalar_type()) &&
             (!norm || (l.gamma.dim() == 1 && l.beta.dim() == 1 && l.gamma.scalar_type() == x.scalar_type() &&
                        l.beta.scalar_type() == x.scalar_type()));
  for (int64_t k = 0; k < layers; ++k) jit = jit && jit_applies(x, l.weights[k], l.biases[k]);
  if (jit) {
    std::vector<at::Tensor> params;
    for (int64_t k = 0; k < layers; ++k)
      params.insert(params.end(), {l.weights[k], l.biases[k].defined() ? l.biases[k] : at::empty({0}, x.options())});
    if (norm) params.insert(params.end(), {l.gamma, l.beta});
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
