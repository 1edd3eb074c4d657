#include "physics/lagrangian_grid.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.hpp"

namespace tessera::physics {

at::Tensor lagrangian_to_grid(const at::Tensor& x_l, const at::Tensor& u, int64_t n, double period) {
  if (x_l.dim() != 2 || x_l.sizes() != u.sizes())
    throw Error(cat("lagrangian_to_grid: x_L and u must both be [K, M], got ", x_l.sizes(), " and ", u.sizes()));
  const int64_t k = x_l.size(0), m = x_l.size(1);
  if (m < 2 || n < 1) throw Error(cat("lagrangian_to_grid: needs >= 2 points and >= 1 grid point, got ", m, ", ", n));
  const at::Tensor xs = x_l.detach().to(at::kCPU, at::kDouble).contiguous();
  const at::Tensor us = u.detach().to(at::kCPU, at::kDouble).contiguous();
  at::Tensor out = at::empty({k, n}, at::TensorOptions().dtype(at::kDouble));
  const double* px = xs.data_ptr<double>();
  const double* pu = us.data_ptr<double>();
  double* po = out.data_ptr<double>();
  std::vector<double> x(m), v(m);
  std::vector<int64_t> order(m);
  for (int64_t r = 0; r < k; ++r) {
    for (int64_t i = 0; i < m; ++i) {
      double w = std::fmod(px[r * m + i], period);
      if (w < 0) w += period;
      x[i] = w;
    }
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return x[a] < x[b]; });
    std::vector<double> xsort(m), usort(m);
    for (int64_t i = 0; i < m; ++i) {
      xsort[i] = x[order[i]];
      usort[i] = pu[r * m + order[i]];
    }
    // Grid point g lies between sorted points j−1 and j (periodically: before the first point its
    // left neighbour is the last point shifted by −L; after the last, the first shifted by +L).
    int64_t j = 0;
    for (int64_t g = 0; g < n; ++g) {
      const double xg = period * double(g) / double(n);
      while (j < m && xsort[j] <= xg) ++j;
      const double xa = j == 0 ? xsort[m - 1] - period : xsort[j - 1];
      const double ua = j == 0 ? usort[m - 1] : usort[j - 1];
      const double xb = j == m ? xsort[0] + period : xsort[j];
      const double ub = j == m ? usort[0] : usort[j];
      const double w = xb > xa ? (xg - xa) / (xb - xa) : 0.0;
      po[r * n + g] = (1 - w) * ua + w * ub;
    }
  }
  return out;
}

}  // namespace tessera::physics
