#include "train/hybrid/indicator.hpp"

#include <cmath>

#include "core/error.hpp"

namespace tessera::train::hybrid {

double divergence_indicator(const mesh::Mesh& m, const std::vector<double>& u) {
  if (static_cast<int64_t>(u.size()) != 2 * m.num_nodes())
    throw Error(cat("divergence_indicator: ", u.size(), " values for ", m.num_nodes(), " vertices"));
  double div2 = 0, grad2 = 0;
  for (int64_t c = 0; c < m.num_cells(); ++c) {
    const int64_t* v = &m.cells[c * 3];
    double x[3], y[3];
    for (int i = 0; i < 3; ++i) x[i] = m.coords[v[i] * 2], y[i] = m.coords[v[i] * 2 + 1];
    const double twice_area = (x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0]);
    if (twice_area == 0) continue;
    // grad λ_i = (y_j - y_k, x_k - x_j) / 2A for (i, j, k) cyclic; g[comp][dir] = ∂u_comp/∂dir.
    double g[2][2] = {{0, 0}, {0, 0}};
    for (int i = 0; i < 3; ++i) {
      const int j = (i + 1) % 3, k = (i + 2) % 3;
      const double gx = (y[j] - y[k]) / twice_area, gy = (x[k] - x[j]) / twice_area;
      for (int comp = 0; comp < 2; ++comp) {
        g[comp][0] += u[v[i] * 2 + comp] * gx;
        g[comp][1] += u[v[i] * 2 + comp] * gy;
      }
    }
    const double area = 0.5 * std::abs(twice_area), div = g[0][0] + g[1][1];
    div2 += area * div * div;
    grad2 += area * (g[0][0] * g[0][0] + g[0][1] * g[0][1] + g[1][0] * g[1][0] + g[1][1] * g[1][1]);
  }
  return grad2 > 0 ? std::sqrt(div2 / grad2) : 0.0;
}

}  // namespace tessera::train::hybrid
