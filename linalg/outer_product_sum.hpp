// The weight gradients of point-major layers: sums over the points of outer products, over fixed
// chunks of points whose partial sums are added in chunk order, so that no result depends on the
// thread count; and what the same chunk pass computes along with them while each chunk is in cache
// (the bias gradient, a layer norm's backward).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

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
// The weight gradient gyᵀ · x (and with `bias` Σ gy), and after each chunk's product then(start,
// size) on that chunk's rows, on the same thread while gy's and x's rows are in cache: another
// reader of gy (a layer's input gradient gy · W into a row range of a tensor made beforehand) reads
// them there instead of from memory. `then` runs once per chunk, the chunks on torch's threads (with
// the caller's grad mode); it must write only its own rows.
using ChunkCallback = std::function<void(int64_t start, int64_t size)>;
std::pair<at::Tensor, at::Tensor> weight_and_bias_grads_then(const at::Tensor& gy, const at::Tensor& x, bool bias,
                                                             const ChunkCallback& then);

// The backward of a whole MLP (linalg::mlp) over chunks of about 512 points, every layer's part
// of one chunk before the next chunk: the norm's input gradient, then layer by layer from the last
// the weight gradient gzᵀ · in_k and bias gradient Σ gz (only where asked for) and the input
// gradient (gz · W_k) ⊙ (in_k > 0), each chunk's gz kept in the core's cache from the product that
// makes it to the two that read it (docs/design.md). Every sum over the points is a per-chunk partial
// added in chunk order, so no result depends on the threads. `ins[k]` is layer k's saved input
// (for k > 0 the previous ReLU's output, its mask; for k = 0 with `input_relu` max(x, 0)).
// Operands must be contiguous fp32/fp64 CPU tensors of one type (mlp_backward_by_chunks_applies).
struct MlpBackwardInputs {
  at::Tensor gy;                             // [m, n]: the gradient of the MLP's result (before any residual)
  std::vector<at::Tensor> ins, weights;      // layer k: ins[k] [m, in_k], weights[k] [out_k, in_k]
  std::vector<bool> weight_grad, bias_grad;  // per layer: which gradients to compute
  bool input_grad = false, input_relu = false;
  at::Tensor z, mean, rstd, gamma;  // the norm's saved pre-norm product [m, n], mean and rstd [m, 1]; undefined: none
  bool gamma_grad = false, beta_grad = false;
};
struct MlpBackwardGrads {
  at::Tensor input;                         // [m, in_0], if input_grad
  std::vector<at::Tensor> weights, biases;  // per layer, where asked for
  at::Tensor gamma, beta;                   // where asked for
};
bool mlp_backward_by_chunks_applies(const MlpBackwardInputs& in);
MlpBackwardGrads mlp_backward_by_chunks(const MlpBackwardInputs& in);

}  // namespace tessera::linalg
