#include "linalg/linear.hpp"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include "linalg/small_products.hpp"

namespace tessera::linalg {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The gradients of y = x Wᵀ + b (then a ReLU whose output is `relu_out`, if defined) for x, W and
// b, as ctx asks (its inputs 0, 1, 2), and an undefined fourth (JitLinear's flag).
variable_list linear_backward(AutogradContext* ctx, const at::Tensor& gy_in, const at::Tensor& x, const at::Tensor& weight,
                              const at::Tensor& relu_out, bool has_bias) {
  const at::Tensor gy = relu_out.defined() ? at::threshold_backward(gy_in, relu_out, 0) : gy_in;
  at::Tensor gx, gw, gb;
  if (ctx->needs_input_grad(0)) gx = product_with_weight(gy, weight.contiguous());
  if (ctx->needs_input_grad(1)) gw = outer_product_sum(gy, x);
  if (has_bias && ctx->needs_input_grad(2)) gb = gy.sum(0);
  return {gx, gw, gb, {}};
}

// Without a bias, `bias` is an empty tensor (autograd functions take no undefined inputs). With
// `relu`, the result is max(x Wᵀ + b, 0), applied in the product's panels; the result is then
// saved too (its positive entries are the mask of the backward), so it must not be modified in
// place (autograd's version check says so if it is).
struct JitLinear : public torch::autograd::Function<JitLinear> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                            bool relu) {
    const at::Tensor xc = x.contiguous();
    const bool has_bias = bias.numel() > 0;
    at::Tensor y = product_with_weight(xc, weight.t().contiguous(), has_bias ? bias.contiguous() : at::Tensor(), relu);
    ctx->save_for_backward({xc, weight, relu ? y : at::Tensor()});
    ctx->saved_data["bias"] = has_bias;
    ctx->saved_data["relu"] = relu;
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1];
    return linear_backward(ctx, grads[0].contiguous(), x, weight, saved[2], ctx->saved_data["bias"].toBool());
  }
};

// layer_norm(x Wᵀ + b; gamma, beta, eps) (+ residual), the norm in the product's panels. Saves x, W,
// the pre-norm z (as layer_norm would) and the rows' mean and rstd; the result is not saved. Without
// a bias or a residual, those inputs are empty tensors.
struct JitLinearLayerNorm : public torch::autograd::Function<JitLinearLayerNorm> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                            const at::Tensor& gamma, const at::Tensor& beta, double eps, const at::Tensor& residual) {
    const at::Tensor xc = x.contiguous();
    const bool has_bias = bias.numel() > 0, has_residual = residual.numel() > 0;
    NormedProduct r = product_with_weight_layer_norm(xc, weight.t().contiguous(),
                                                     has_bias ? bias.contiguous() : at::Tensor(), gamma.contiguous(),
                                                     beta.contiguous(), eps, has_residual ? residual.contiguous() : at::Tensor());
    ctx->save_for_backward({xc, weight, r.z, r.mean, r.rstd, gamma, beta});
    ctx->saved_data["bias"] = has_bias;
    ctx->saved_data["residual"] = has_residual;
    return r.y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const at::Tensor &x = s[0], &weight = s[1], &z = s[2], &gamma = s[5], &beta = s[6];
    const at::Tensor gy = grads[0].contiguous();
    const auto [gz_raw, ggamma, gbeta] = at::native_layer_norm_backward(
        gy, z, {z.size(1)}, s[3], s[4], gamma, beta,
        {ctx->needs_input_grad(0) || ctx->needs_input_grad(1) || ctx->needs_input_grad(2), ctx->needs_input_grad(3),
         ctx->needs_input_grad(4)});
    variable_list g = gz_raw.defined()
                          ? linear_backward(ctx, gz_raw.contiguous(), x, weight, at::Tensor(), ctx->saved_data["bias"].toBool())
                          : variable_list{{}, {}, {}};
    at::Tensor gres;
    if (ctx->saved_data["residual"].toBool() && ctx->needs_input_grad(5)) gres = grads[0];  // 5: eps is not a tensor
    return {g[0], g[1], g[2], ggamma, gbeta, {}, gres};
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
    return JitLinear::apply(x, weight, bias.defined() ? bias : at::empty({0}, x.options()), false);
  return bias.defined() ? at::addmm(bias, x, weight.t()) : at::mm(x, weight.t());
}

at::Tensor linear_relu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (jit_applies(x, weight, bias))
    return JitLinear::apply(x, weight, bias.defined() ? bias : at::empty({0}, x.options()), true);
  return (bias.defined() ? at::addmm(bias, x, weight.t()) : at::mm(x, weight.t())).relu_();
}

at::Tensor linear_layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                             const at::Tensor& gamma, const at::Tensor& beta, double eps, const at::Tensor& residual) {
  const bool affine = gamma.defined() && beta.defined() && gamma.dim() == 1 && beta.dim() == 1 &&
                      gamma.scalar_type() == x.scalar_type() && beta.scalar_type() == x.scalar_type();
  if (jit_applies(x, weight, bias) && affine && (!residual.defined() || residual.scalar_type() == x.scalar_type()))
    return JitLinearLayerNorm::apply(x, weight, bias.defined() ? bias : at::empty({0}, x.options()), gamma, beta, eps,
                                     residual.defined() ? residual : at::empty({0}, x.options()));
  at::Tensor y = at::layer_norm(linear(x, weight, bias), {weight.size(0)}, gamma, beta, eps);
  return residual.defined() ? y + residual : y;
}

}  // namespace tessera::linalg
