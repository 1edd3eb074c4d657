#include "linalg/linear.hpp"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

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
    return product_with_weight(xc, weight.t().contiguous(), has_bias ? bias.contiguous() : at::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1];
    const at::Tensor gy = grads[0].contiguous();
    at::Tensor gx, gw, gb;
    if (ctx->needs_input_grad(0)) gx = product_with_weight(gy, weight.contiguous());
    if (ctx->needs_input_grad(1)) gw = outer_product_sum(gy, x);
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) gb = gy.sum(0);
    return {gx, gw, gb};
  }
};

}  // namespace

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  // Under autocast (bf16 training) addmm is what autocast casts; the JIT path would stay fp32.
  const bool jit = small_products_have_jit() && x.device().is_cpu() && x.dim() == 2 &&
                   !at::autocast::is_autocast_enabled(at::kCPU) &&
                   (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble) &&
                   weight.scalar_type() == x.scalar_type() &&
                   (!bias.defined() || bias.scalar_type() == x.scalar_type());
  if (jit) return JitLinear::apply(x, weight, bias.defined() ? bias : at::empty({0}, x.options()));
  return bias.defined() ? at::addmm(bias, x, weight.t()) : at::mm(x, weight.t());
}

}  // namespace tessera::linalg
