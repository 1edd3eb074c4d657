// The weight gradients of point-major layers: sums over the points of outer products, over fixed
// chunks of points whose partial sums are added in chunk order, so that no result depends on the
// thread count; and what the same chunk pass computes along with them while each chunk is in cache
// (the bias gradient, a layer norm's backward).
#pragma once
#include <ATen/core/Tensor.h>

#include <utility>

namespace tessera::linalg {

// The sum over points of outer products, aᵀ · b for point-major a [m, p] and b [m, n] -> [p, n]
// (the weight gradient gyᵀ · x of a point-major layer), over fixed chunks of points whose partial
// sums are added in chunk order, so the result does not depend on the threads. Each chunk is
// libxsmm's kernel with a transposed B where libxsmm targets AVX-512 (Auto; Jit: wherever libxsmm
// has the kernel) or one single-threaded BLAS product (Auto elsewhere; Blas).
enum class OuterSumKernel { Auto, Jit, Blas };
at::Tensor outer_product_sum(const at::Tensor& a, const at::Tensor& b, OuterSumKernel kernel = OuterSumKernel::Auto);
// Whether `kernel` takes libxsmm's chunk kernel (for fp32 or fp64 operands that need no copy) in
// this build on this machine: Jit wherever the build has libxsmm, Auto where libxsmm also targets
// AVX-512, Blas never.
bool outer_product_sum_takes_jit(OuterSumKernel kernel);
// outer_product_sum and a's column sums Σ_m a[m, :] [p]: a layer's weight and bias gradients from
// one read of gy (a = gy). Each chunk's column sums are taken, in double, right after its product,
// while that chunk of a is in cache, and added in chunk order, so they do not depend on the threads.
std::pair<at::Tensor, at::Tensor> outer_product_sum_and_column_sums(const at::Tensor& a, const at::Tensor& b,
                                                                    OuterSumKernel kernel = OuterSumKernel::Auto);

// A layer's weight gradient gyᵀ · x and bias gradient Σ gy, each only where asked for (undefined
// otherwise); both from one pass over gy's chunks when both are.
std::pair<at::Tensor, at::Tensor> weight_and_bias_grads(const at::Tensor& gy, const at::Tensor& x, bool weight,
                                                        bool bias);

// The backward of product_with_weight_layer_norm without its residual: from the gradient gy of y
// and the saved z, mean and rstd, the norm's input gradient gz, dgamma and dbeta, and the
// product's weight gradient gzᵀ · x (and bias gradient, gz's column sums, with `bias`), over
// outer_product_sum's chunks: each chunk's gz rows are computed and then multiplied while they are
// in cache, and every sum over the points is added in chunk order (thread-independent).
// The same values as at::native_layer_norm_backward followed by outer_product_sum(_and_column_sums),
// to rounding; operands the kernels do not take go exactly that way.
struct NormedProductGrads {
  at::Tensor gz, weight, bias, gamma, beta;
};
NormedProductGrads layer_norm_backward_and_weight_grads(const at::Tensor& gy, const at::Tensor& z,
                                                        const at::Tensor& mean, const at::Tensor& rstd,
                                                        const at::Tensor& gamma, const at::Tensor& x, bool bias);

}  // namespace tessera::linalg
