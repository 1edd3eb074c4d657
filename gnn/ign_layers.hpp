// The linear permutation-equivariant layers of 2-IGN (Maron et al., ICLR 2019; docs/references.md
// §7) as batched tensor ops over dense subgraphs of one size m: pair features x2 [B, m, m, C] and
// node features x1 [B, m, C]. Each map is a sum over its basis elements, each with a weight
// matrix w[b] [C, D]; pooled terms (sums over m or m*m entries) are divided by m or m*m, so the
// same weights suit subgraphs of different sizes.
//
// Basis elements (1-based, as in the tests and docs/spen.md); X pair input, x node input,
// sums normalised:
//   2->2 (15): Y_ii = X_ii | Y_ii = mean_k X_kk | Y_ii = mean_k X_ik | Y_ii = mean_k X_ki |
//              Y_ii = mean X | Y_ij = mean_k X_kj | Y_ij = mean_k X_jk | Y_ij = mean_k X_ki |
//              Y_ij = mean_k X_ik | Y_ij = mean X | Y_ij = X_jj | Y_ij = X_ii | Y_ij = mean_k X_kk |
//              Y_ij = X_ij | Y_ij = X_ji                       (1-5 on the diagonal only)
//   2->1 (5):  y_i = X_ii | mean_k X_kk | mean_k X_ik | mean_k X_ki | mean X
//   1->2 (5):  Y_ii = x_i | Y_ii = mean x | Y_ij = x_i | Y_ij = x_j | Y_ij = mean x
//   1->1 (2):  y_i = x_i | mean x
//   2->0 (2):  mean_k X_kk | mean X
//   1->0 (1):  mean x
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

namespace tessera::gnn {

enum class IgnMap { k2to2, k2to1, k1to2, k1to1, k2to0, k1to0 };
// Number of basis elements of a map: 15, 5, 5, 2, 2, 1.
int64_t ign_basis_count(IgnMap map);

// Each returns sum_b basis_b(x) @ w[b]; w: [count, C, D].
at::Tensor ign_2to2(const at::Tensor& x2, const at::Tensor& w);  // -> [B, m, m, D]
at::Tensor ign_2to1(const at::Tensor& x2, const at::Tensor& w);  // -> [B, m, D]
at::Tensor ign_1to2(const at::Tensor& x1, const at::Tensor& w);  // -> [B, m, m, D]
at::Tensor ign_1to1(const at::Tensor& x1, const at::Tensor& w);  // -> [B, m, D]
at::Tensor ign_2to0(const at::Tensor& x2, const at::Tensor& w);  // -> [B, D]
at::Tensor ign_1to0(const at::Tensor& x1, const at::Tensor& w);  // -> [B, D]

// One equivariant layer on (pairs, nodes): Y2 = 2->2(X2) + 1->2(X1) + bias + diagonal bias,
// Y1 = 2->1(X2) + 1->1(X1) + bias. Initialised with a seeded global generator (at::manual_seed).
class IgnLayerImpl : public torch::nn::Module {
 public:
  IgnLayerImpl(int64_t pair_in, int64_t node_in, int64_t out);
  // Returns {Y2 [B, m, m, out], Y1 [B, m, out]}.
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& x2, const at::Tensor& x1);
  at::Tensor w22, w12, w21, w11, bias2, bias_diag, bias1;
};
TORCH_MODULE(IgnLayer);

}  // namespace tessera::gnn
