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

}  // namespace tessera::linalg
