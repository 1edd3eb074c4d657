// Pointwise kernels for inference (no autograd: rollouts, evaluation). The training path keeps
// ATen's differentiable ops; these give the same values up to rounding in one pass over memory
// instead of one ATen op (and one temporary) per arithmetic step.
#pragma once
#include <ATen/core/Tensor.h>

#include <tuple>

namespace tessera::gnn::kernels {

// x * rsqrt(mean(x^2, last dim) + eps) * weight: RMSNorm's forward. x: [..., D], weight: [D].
at::Tensor rms_norm_inference(const at::Tensor& x, const at::Tensor& weight, double eps);

// gate = silu(gate) * up in place (up undefined: silu alone). Same shapes, one dtype.
void silu_mul_(at::Tensor& gate, const at::Tensor& up);

// qkv: [N, 3, H, D] contiguous (q, k, v of each node); cos, sin: [N, R] with 2 R <= D. Returns q
// and k with each head's pairs (x[2r], x[2r + 1]), r < R, turned by the angle whose cos and sin
// are given (the rotary embedding; channels from 2 R on unchanged), and v, all three contiguous
// [N, H, D].
std::tuple<at::Tensor, at::Tensor, at::Tensor> rope_split_inference(const at::Tensor& qkv, const at::Tensor& cos,
                                                                    const at::Tensor& sin);

// The ATen forms, differentiable, for training and for inputs the CPU kernels do not take:
// rotate_pairs turns x [N, H, D]'s pairs like rope_split_inference (cos, sin: [N, R]); rms_norm
// is rms_norm_inference's formula.
at::Tensor rotate_pairs(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

namespace cpu {
at::Tensor rms_norm_inference(const at::Tensor& x, const at::Tensor& weight, double eps);
void silu_mul_(at::Tensor& gate, const at::Tensor& up);
std::tuple<at::Tensor, at::Tensor, at::Tensor> rope_split_inference(const at::Tensor& qkv, const at::Tensor& cos,
                                                                    const at::Tensor& sin);
}  // namespace cpu

}  // namespace tessera::gnn::kernels
