#include "solvers/ns_element.hpp"

#include <algorithm>

namespace tessera::solvers {

void stokes_cell_matrices(const TaylorHood& th, const TriangleQuadrature& quad, int64_t c, double mcoef, double nu,
                          CellMatrices& cm) {
  std::fill(&cm.K[0][0], &cm.K[0][0] + 225, 0.0);
  std::fill(&cm.M[0][0], &cm.M[0][0] + 36, 0.0);
  for (int q = 0; q < TriangleQuadrature::kPoints; ++q) {
    const double* l = quad.lambda[q].data();
    double phi[6], gp[6][2];
    p2_values(l, phi);
    const double wq = quad.weight[q] * th.shape_gradients(c, l, gp);
    for (int i = 0; i < 6; ++i) {
      for (int j = 0; j < 6; ++j) {
        const double mass = wq * phi[i] * phi[j];
        const double a = mcoef * mass + wq * nu * (gp[i][0] * gp[j][0] + gp[i][1] * gp[j][1]);
        cm.M[i][j] += mass;
        cm.K[2 * i][2 * j] += a;
        cm.K[2 * i + 1][2 * j + 1] += a;
      }
      for (int k = 0; k < 3; ++k)
        for (int d = 0; d < 2; ++d) {
          const double bk = -wq * l[k] * gp[i][d];
          cm.K[12 + k][2 * i + d] += bk;
          cm.K[2 * i + d][12 + k] += bk;
        }
    }
  }
}

void convection_cell_matrix(const TaylorHood& th, const TriangleQuadrature& quad, int64_t c, const double* adv,
                            double C[6][6], double M[6][6]) {
  std::fill(&C[0][0], &C[0][0] + 36, 0.0);
  std::fill(&M[0][0], &M[0][0] + 36, 0.0);
  double wn[6][2];
  for (int i = 0; i < 6; ++i)
    for (int d = 0; d < 2; ++d) wn[i][d] = adv[th.velocity_dof(th.cell_node(c, i), d)];
  for (int q = 0; q < TriangleQuadrature::kPoints; ++q) {
    const double* l = quad.lambda[q].data();
    double phi[6], gp[6][2], wv[2] = {0, 0};
    p2_values(l, phi);
    const double wq = quad.weight[q] * th.shape_gradients(c, l, gp);
    for (int j = 0; j < 6; ++j)
      for (int d = 0; d < 2; ++d) wv[d] += phi[j] * wn[j][d];
    for (int j = 0; j < 6; ++j) {
      const double adv_j = wq * (wv[0] * gp[j][0] + wv[1] * gp[j][1]);
      for (int i = 0; i < 6; ++i) {
        C[i][j] += phi[i] * adv_j;
        M[i][j] += wq * phi[i] * phi[j];
      }
    }
  }
}

}  // namespace tessera::solvers
