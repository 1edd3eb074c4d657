#include "gnn/ign_layers.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.hpp"

namespace tessera::gnn {
namespace {

void check(const at::Tensor& x, int64_t dims, const at::Tensor& w, int64_t count, const char* what) {
  if (x.dim() != dims) throw Error(cat(what, ": expected a ", dims, "-d input, got ", x.dim(), "-d"));
  if (w.dim() != 3 || w.size(0) != count || w.size(1) != x.size(-1))
    throw Error(cat(what, ": expected weights [", count, ", ", x.size(-1), ", D], got ", w.sizes()));
}

// Y[b, i, j, :] += v[b, i, :] on the diagonal i == j.
at::Tensor on_diagonal(const at::Tensor& v, int64_t m) {
  return at::diag_embed(v.transpose(1, 2)).permute({0, 2, 3, 1});
}

}  // namespace

int64_t ign_basis_count(IgnMap map) {
  switch (map) {
    case IgnMap::k2to2:
      return 15;
    case IgnMap::k2to1:
      return 5;
    case IgnMap::k1to2:
      return 5;
    case IgnMap::k1to1:
      return 2;
    case IgnMap::k2to0:
      return 2;
    case IgnMap::k1to0:
      return 1;
  }
  return 0;
}

at::Tensor ign_2to2(const at::Tensor& x, const at::Tensor& w) {
  check(x, 4, w, 15, "ign_2to2");
  const int64_t m = x.size(1);
  const double inv_m = 1.0 / m, inv_m2 = inv_m * inv_m;
  const at::Tensor diag = x.diagonal(0, 1, 2).transpose(1, 2);  // [B, m, C]: X_ii
  const at::Tensor mean_diag = diag.sum(1) * inv_m;             // [B, C]
  const at::Tensor rows = x.sum(2) * inv_m;                     // [B, m, C]: mean_k X_ik
  const at::Tensor cols = x.sum(1) * inv_m;                     // [B, m, C]: mean_k X_ki
  const at::Tensor all = x.sum({1, 2}) * inv_m2;                // [B, C]
  // Full terms (14, 15).
  at::Tensor y = at::matmul(x, w[13]) + at::matmul(x, w[14]).transpose(1, 2);
  // Terms indexed by j (6, 7, 11), by i (8, 9, 12), constants (10, 13).
  const at::Tensor by_j = at::matmul(cols, w[5]) + at::matmul(rows, w[6]) + at::matmul(diag, w[10]);
  const at::Tensor by_i = at::matmul(cols, w[7]) + at::matmul(rows, w[8]) + at::matmul(diag, w[11]);
  const at::Tensor constant = at::matmul(all, w[9]) + at::matmul(mean_diag, w[12]);
  y = y + by_j.unsqueeze(1) + by_i.unsqueeze(2) + constant.unsqueeze(1).unsqueeze(1);
  // Diagonal terms (1-5).
  const at::Tensor d = at::matmul(diag, w[0]) + at::matmul(mean_diag, w[1]).unsqueeze(1) + at::matmul(rows, w[2]) +
                       at::matmul(cols, w[3]) + at::matmul(all, w[4]).unsqueeze(1);
  return y + on_diagonal(d, m);
}

at::Tensor ign_2to1(const at::Tensor& x, const at::Tensor& w) {
  check(x, 4, w, 5, "ign_2to1");
  const int64_t m = x.size(1);
  const double inv_m = 1.0 / m;
  const at::Tensor diag = x.diagonal(0, 1, 2).transpose(1, 2);
  return at::matmul(diag, w[0]) + at::matmul(diag.sum(1) * inv_m, w[1]).unsqueeze(1) +
         at::matmul(x.sum(2) * inv_m, w[2]) + at::matmul(x.sum(1) * inv_m, w[3]) +
         at::matmul(x.sum({1, 2}) * (inv_m * inv_m), w[4]).unsqueeze(1);
}

at::Tensor ign_1to2(const at::Tensor& x, const at::Tensor& w) {
  check(x, 3, w, 5, "ign_1to2");
  const int64_t m = x.size(1);
  const at::Tensor mean = x.mean(1);  // [B, C]
  const at::Tensor d = at::matmul(x, w[0]) + at::matmul(mean, w[1]).unsqueeze(1);
  const at::Tensor y = at::matmul(x, w[2]).unsqueeze(2) + at::matmul(x, w[3]).unsqueeze(1) +
                       at::matmul(mean, w[4]).unsqueeze(1).unsqueeze(1);
  return y + on_diagonal(d, m);
}

at::Tensor ign_1to1(const at::Tensor& x, const at::Tensor& w) {
  check(x, 3, w, 2, "ign_1to1");
  return at::matmul(x, w[0]) + at::matmul(x.mean(1), w[1]).unsqueeze(1);
}

at::Tensor ign_2to0(const at::Tensor& x, const at::Tensor& w) {
  check(x, 4, w, 2, "ign_2to0");
  const int64_t m = x.size(1);
  return at::matmul(x.diagonal(0, 1, 2).sum(-1) / static_cast<double>(m), w[0]) + at::matmul(x.mean({1, 2}), w[1]);
}

at::Tensor ign_1to0(const at::Tensor& x, const at::Tensor& w) {
  check(x, 3, w, 1, "ign_1to0");
  return at::matmul(x.mean(1), w[0]);
}

IgnLayerImpl::IgnLayerImpl(int64_t pair_in, int64_t node_in, int64_t out) {
  // Uniform init scaled by fan-in (sum over basis elements and input channels).
  auto init = [&](const char* name, int64_t count, int64_t in) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(count * in, 1)));
    return register_parameter(name, at::empty({count, in, out}).uniform_(-bound, bound));
  };
  w22 = init("w22", 15, pair_in);
  w12 = init("w12", 5, node_in);
  w21 = init("w21", 5, pair_in);
  w11 = init("w11", 2, node_in);
  bias2 = register_parameter("bias2", at::zeros({out}));
  bias_diag = register_parameter("bias_diag", at::zeros({out}));
  bias1 = register_parameter("bias1", at::zeros({out}));
}

// The four maps of a layer, fused. Every term of 2->2, 1->2, 2->1 and 1->1 other than the two
// full ones (X and its transpose) is a per-node vector broadcast along rows, along columns or onto
// the diagonal, or a per-subgraph constant. Their input vectors (column means, row means, diagonal,
// node features) go through one matmul, the pooled ones (means over everything, over the diagonal,
// over the nodes) through another, and the [B, m, m, out] output is touched by three in-place
// adds. Summing the separate maps instead costs about ten full-size temporaries and their
// backward reductions (tested equal to the sum of ign_2to2, ign_1to2, ign_2to1 and ign_1to1).
std::pair<at::Tensor, at::Tensor> IgnLayerImpl::forward(const at::Tensor& x2, const at::Tensor& x1) {
  check(x2, 4, w22, 15, "IgnLayer pairs");
  check(x1, 3, w12, 5, "IgnLayer nodes");
  const int64_t m = x2.size(1), out = w22.size(2);
  const double inv_m = 1.0 / m;
  const at::Tensor diag = x2.diagonal(0, 1, 2).transpose(1, 2);  // [B, m, Cp]
  const at::Tensor rows = x2.sum(2) * inv_m, cols = x2.sum(1) * inv_m;
  const at::Tensor mean_diag = diag.sum(1) * inv_m, all = x2.sum({1, 2}) * (inv_m * inv_m), mean1 = x1.mean(1);
  // Output blocks of the node matmul: by column j, by row i, diagonal, node output.
  const at::Tensor w_node =
      at::cat({at::cat({w22[5], w22[7], w22[3], w21[3]}, 1), at::cat({w22[6], w22[8], w22[2], w21[2]}, 1),
               at::cat({w22[10], w22[11], w22[0], w21[0]}, 1), at::cat({w12[3], w12[2], w12[0], w11[0]}, 1)},
              0);
  // Output blocks of the pooled matmul: pair constant, diagonal constant, node constant.
  const at::Tensor w_pool = at::cat({at::cat({w22[9], w22[4], w21[4]}, 1), at::cat({w22[12], w22[1], w21[1]}, 1),
                                     at::cat({w12[4], w12[1], w11[1]}, 1)},
                                    0);
  const at::Tensor node = at::matmul(at::cat({cols, rows, diag, x1}, -1), w_node);  // [B, m, 4 out]
  const at::Tensor pool =
      at::matmul(at::cat({all, mean_diag, mean1}, -1), w_pool) + at::cat({bias2, bias_diag, bias1});  // [B, 3 out]
  const at::Tensor by_j = node.narrow(-1, 0, out), by_i = node.narrow(-1, out, out);
  const at::Tensor on_diag = node.narrow(-1, 2 * out, out) + pool.narrow(-1, out, out).unsqueeze(1);
  const at::Tensor full = at::matmul(x2, at::cat({w22[13], w22[14]}, 1));  // [B, m, m, 2 out]
  at::Tensor y2 = full.narrow(-1, 0, out) + full.narrow(-1, out, out).transpose(1, 2);
  y2.add_(by_i.unsqueeze(2));
  y2.add_((by_j + pool.narrow(-1, 0, out).unsqueeze(1)).unsqueeze(1));
  y2.diagonal(0, 1, 2).add_(on_diag.transpose(1, 2));
  at::Tensor y1 = node.narrow(-1, 3 * out, out) + pool.narrow(-1, 2 * out, out).unsqueeze(1);
  return {y2, y1};
}

}  // namespace tessera::gnn
