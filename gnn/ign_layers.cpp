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

std::pair<at::Tensor, at::Tensor> IgnLayerImpl::forward(const at::Tensor& x2, const at::Tensor& x1) {
  const int64_t m = x2.size(1);
  const at::Tensor eye = at::eye(m, x2.options()).unsqueeze(-1);  // [m, m, 1]
  at::Tensor y2 = ign_2to2(x2, w22) + ign_1to2(x1, w12) + bias2 + eye * bias_diag;
  at::Tensor y1 = ign_2to1(x2, w21) + ign_1to1(x1, w11) + bias1;
  return {y2, y1};
}

}  // namespace tessera::gnn
