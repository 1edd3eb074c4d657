// y = x · weightᵀ + bias for point-major activations x [m, in] and a weight in torch::nn::Linear's
// layout [out, in] (a view, e.g. a column block of a larger weight, is fine): the same values and
// gradients as at::addmm(bias, x, weight.t()), differentiable. On the CPU, in fp32/fp64, the
// forward and the input gradient go through linalg::product_with_weight (libxsmm, 1.3–1.4x MKL on
// the 128-wide MeshGraphNet layers at one thread) and the weight gradient through
// linalg::outer_product_sum (chunked, thread-independent; libxsmm's transposed-B kernel where it
// targets AVX-512, ~1.3x MKL there, BLAS per chunk elsewhere); it saves
// x and the weight, not its result, so the result may be modified in place (a ReLU, a residual).
// Elsewhere, under autocast, or without libxsmm, it is at::addmm / at::mm. Without autograd, inside
// a linalg::Bf16Products scope that holds the weight (bf16_products.hpp), it is the bf16 product. `mlp` below puts a
// whole MLP's layers, ReLUs and LayerNorm into the same panels.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "linalg/outer_product_sum.hpp"
#include "linalg/small_products.hpp"

namespace tessera::linalg {

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {});

// The layers of a multilayer perceptron (torch::nn::Linear layouts) as one differentiable function,
// one autograd node: x <- max(x, 0) first if `input_relu`; each hidden layer x <- max(x Wᵀ + b, 0);
// the output layer y = x Wᵀ + b, then its LayerNorm over the last dimension (if gamma and beta are
// given), then + residual (if given). The same values and gradients as those modules one by one.
// On the CPU in fp32/fp64 every product is product_with_weight's, the bias, the ReLUs and the norm
// run in the products' panels, and the backward masks each hidden layer's input gradient in its
// product's panels (product_with_weight_masked) instead of a separate ReLU pass. Saves each layer's
// input (a hidden layer's input is the previous ReLU's output, the mask) and the norm's statistics,
// not the result, which may be modified in place. Elsewhere and under autocast, the modules' ATen
// operations one by one.
struct MlpLayers {
  bool input_relu = false;
  std::vector<at::Tensor> weights;  // layer k: [out_k, in_k]
  std::vector<at::Tensor> biases;   // layer k: [out_k], or undefined for none
  at::Tensor gamma, beta;           // the output layer's LayerNorm (both, or neither)
  double eps = 1e-5;
};
at::Tensor mlp(const at::Tensor& x, const MlpLayers& layers, const at::Tensor& residual = {});

// mlp's forward as a building block of autograd nodes that extend it (gnn::edge_update), called
// with grad mode off (as in a node's forward), for the operands mlp takes its fused path on (mlp_by_blocks_applies).
// Blocks of about 512 rows go through every layer before the next block. With a prologue, prologue(start, size) first
// fills the block's rows of x (contiguous, allocated by the caller), which then stand for the first layer's saved input
// as they are (with input_relu, the prologue applies the ReLU itself): a layer that makes x from other operands runs in
// the same blocks. Returns each layer's saved input and the result in out.y (with the norm also z, mean and rstd): what
// mlp_backward_by_chunks takes (MlpBackwardInputs::ins, z, mean, rstd).
struct MlpForwardResult {
  std::vector<at::Tensor> ins;
  NormedProduct out;
};
using MlpPrologue = std::function<void(int64_t start, int64_t size)>;
// Whether mlp takes its fused path on these operands: libxsmm in the build, CPU, fp32/fp64 of one
// type throughout, 2-D x, no autocast.
bool mlp_by_blocks_applies(const at::Tensor& x, const MlpLayers& layers, const at::Tensor& residual = {});
MlpForwardResult mlp_forward_by_blocks(const at::Tensor& x, const MlpLayers& layers, const at::Tensor& residual = {},
                                       const MlpPrologue& prologue = {});

// An MLP's parameters as an autograd node's tensor inputs: each layer's weight and bias (an empty
// tensor of `options` for none: nodes take no undefined inputs), then gamma and beta with the norm;
// and back, for `layers` layers.
std::vector<at::Tensor> mlp_parameters(const MlpLayers& l, const at::TensorOptions& options);
MlpLayers mlp_layers_from(at::TensorList params, int64_t layers, bool norm, double eps, bool input_relu = false);

// What a node running mlp_forward_by_blocks saves for its backward, in the one layout mlp's node
// and its extensions share: each layer's saved input, then with the norm z, mean and rstd, then the
// parameters (mlp_parameters' order), which start at index mlp_saved_parameters_at(layers, norm).
std::vector<at::Tensor> mlp_saved(const MlpForwardResult& r, at::TensorList params);
int64_t mlp_saved_parameters_at(int64_t layers, bool norm);
// mlp_backward_by_chunks's inputs for upstream gradient gy from `saved` (that layout at its start),
// parameter i's gradient (mlp_parameters' order) asked for where needs_parameter(i); input_grad and
// input_relu are the caller's to set. And the gradients it returns, in mlp_parameters' order
// (undefined where not asked for).
MlpBackwardInputs mlp_backward_inputs(const at::Tensor& gy, at::TensorList saved, int64_t layers, bool norm,
                                      const std::function<bool(int64_t)>& needs_parameter);
std::vector<at::Tensor> mlp_parameter_grads(const MlpBackwardGrads& g, bool norm);

// The MLP in plain ATen operations, differentiable to any order (no residual): what a double
// backward through mlp's node or an extension of it recomputes.
at::Tensor mlp_in_aten(const at::Tensor& x, const MlpLayers& l);

}  // namespace tessera::linalg
