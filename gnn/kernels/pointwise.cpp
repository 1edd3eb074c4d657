#include "gnn/kernels/pointwise.hpp"

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace tessera::gnn::kernels {
namespace {

// What the CPU kernels take: fp32/fp64, contiguous, on the CPU. Anything else (CUDA, bf16 under
// autocast) runs the ATen ops the training path uses.
bool cpu_kernel_applies(const at::Tensor& t) {
  return t.device().is_cpu() && (t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble) && t.is_contiguous();
}

}  // namespace

at::Tensor rms_norm_inference(const at::Tensor& x, const at::Tensor& weight, double eps) {
  if (x.dim() < 1 || weight.dim() != 1 || weight.size(0) != x.size(-1))
    throw Error(cat("rms_norm: weight ", weight.sizes(), " does not match the last dimension of x ", x.sizes()));
  if (cpu_kernel_applies(x) && weight.scalar_type() == x.scalar_type() && weight.device().is_cpu())
    return cpu::rms_norm_inference(x, weight.contiguous(), eps);
  return rms_norm(x, weight, eps);
}

void silu_mul_(at::Tensor& gate, const at::Tensor& up) {
  if (up.defined() && (up.sizes() != gate.sizes() || up.scalar_type() != gate.scalar_type()))
    throw Error(cat("silu_mul: gate ", gate.sizes(), " and up ", up.sizes(), " must have one shape and dtype"));
  if (cpu_kernel_applies(gate) && (!up.defined() || up.device().is_cpu())) return cpu::silu_mul_(gate, up);
  at::silu_(gate);
  if (up.defined()) gate.mul_(up);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> rope_split_inference(const at::Tensor& qkv, const at::Tensor& cos,
                                                                    const at::Tensor& sin) {
  if (qkv.dim() != 4 || qkv.size(1) != 3 || cos.dim() != 2 || cos.sizes() != sin.sizes() ||
      cos.size(0) != qkv.size(0) || 2 * cos.size(1) > qkv.size(3))
    throw Error(cat("rope_split: expected qkv [N, 3, H, D] and cos, sin [N, R] with 2 R <= D; got ", qkv.sizes(), ", ",
                    cos.sizes(), ", ", sin.sizes()));
  if (cpu_kernel_applies(qkv) && cos.scalar_type() == qkv.scalar_type() && sin.scalar_type() == qkv.scalar_type() &&
      cos.device().is_cpu())
    return cpu::rope_split_inference(qkv, cos.contiguous(), sin.contiguous());
  // Elsewhere: the same rotation in ATen ops.
  return {rotate_pairs(qkv.select(1, 0), cos, sin), rotate_pairs(qkv.select(1, 1), cos, sin),
          qkv.select(1, 2).contiguous()};
}

at::Tensor rotate_pairs(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t r = cos.size(1), d = x.size(2);
  const at::Tensor even = x.narrow(2, 0, 2 * r).slice(2, 0, 2 * r, 2),
                   odd = x.narrow(2, 0, 2 * r).slice(2, 1, 2 * r, 2);
  const at::Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);
  at::Tensor out = at::stack({even * c - odd * s, even * s + odd * c}, -1).flatten(2);
  return 2 * r < d ? at::cat({out, x.narrow(2, 2 * r, d - 2 * r)}, 2) : out;
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  return x * at::rsqrt(x.pow(2).mean(-1, true) + eps) * weight;
}

}  // namespace tessera::gnn::kernels
