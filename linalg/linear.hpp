// y = x · weightᵀ + bias for point-major activations x [m, in] and a weight in torch::nn::Linear's
// layout [out, in] (a view, e.g. a column block of a larger weight, is fine): the same values and
// gradients as at::addmm(bias, x, weight.t()), differentiable. On the CPU, in fp32/fp64, the
// forward and the input gradient go through linalg::product_with_weight (libxsmm, 1.3–1.4x MKL on
// the 128-wide MeshGraphNet layers at one thread) and the weight gradient through
// linalg::outer_product_sum (chunked, thread-independent; libxsmm's transposed-B kernel where it
// targets AVX-512, ~1.3x MKL there, BLAS per chunk elsewhere); it saves
// x and the weight, not its result, so the result may be modified in place (a ReLU, a residual).
// Elsewhere, under autocast, or without libxsmm, it is at::addmm / at::mm.
#pragma once
#include <ATen/core/Tensor.h>

namespace tessera::linalg {

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {});

// max(linear(x, weight, bias), 0), the ReLU applied in the product's panels (no separate pass, no
// separate autograd node). This one saves its result for the backward: do not modify it in place.
at::Tensor linear_relu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {});

// layer_norm(linear(x, weight, bias), [out], gamma, beta, eps) + residual (if given), the norm and
// the residual applied in the product's panels: one pass over the rows instead of three. Saves
// what linear and layer_norm would (x, the weight, the pre-norm product, each row's mean and rstd),
// not its result, which may be modified in place.
at::Tensor linear_layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                             const at::Tensor& gamma, const at::Tensor& beta, double eps,
                             const at::Tensor& residual = {});

}  // namespace tessera::linalg
