// Element matrices of the Navier–Stokes operator on one Taylor–Hood cell (straight, or curved
// with an isoparametric map), by the degree-5 quadrature. Split in the part that does not depend on the state
// (assembled once per mass coefficient) and the convection block (reassembled every solve).
#pragma once
#include <cstdint>

#include "solvers/taylor_hood.hpp"

namespace tessera::solvers {

// 15 x 15, row-major, unknowns (ux, uy) of the 6 P2 nodes then p of the 3 vertices:
//   mass_coef (u, v) + ν (∇u, ∇v) − (p, ∇·v) − (∇·u, q),
// and the 6 x 6 P2 mass matrix.
struct CellMatrices {
  double K[15][15];
  double M[6][6];
};
void stokes_cell_matrices(const TaylorHood& th, const TriangleQuadrature& quad, int64_t cell, double mass_coef,
                          double viscosity, CellMatrices& out);

// C[i][j] = ((w·∇)φ_j, φ_i) for the advecting velocity `adv` (full-length unknown vector), one
// component's block, and the 6 x 6 P2 mass matrix.
void convection_cell_matrix(const TaylorHood& th, const TriangleQuadrature& quad, int64_t cell, const double* adv,
                            double C[6][6], double M[6][6]);

}  // namespace tessera::solvers
