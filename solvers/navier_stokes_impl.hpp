// Internal to solvers/navier_stokes*.cpp: the state of a NavierStokes solver (the PETSc objects,
// the Taylor-Hood space and the time history). navier_stokes.cpp sets it up, assembles and steps;
// navier_stokes_state.cpp reads and sets the state (vertex fields, the hand-over from vertex data).
#pragma once
#include <petscksp.h>

#include <cstdint>
#include <vector>

#include "solvers/navier_stokes.hpp"
#include "solvers/ns_element.hpp"
#include "solvers/taylor_hood.hpp"

namespace tessera::solvers {

struct NavierStokes::Impl {
  FlowConfig cfg;
  LinearSolverConfig lin;
  Comm comm;
  std::vector<int32_t> vrank;
  TaylorHood th;
  TriangleQuadrature quad;
  int64_t row_begin = 0, row_end = 0;
  std::vector<int64_t> local_cells;     // cells touching an owned row
  std::vector<char> dirichlet;          // per unknown
  std::vector<double> dirichlet_value;  // at the inflow's full speed (inflow_scale 1)
  std::vector<int64_t> force_cells;
  std::vector<char> force_node;  // per P2 node

  // Full-length state on every rank: current solution, the two previous ones, the advecting
  // velocity and the history term (a1 u^n + a2 u^{n-1}) / dt of the last solve.
  std::vector<double> x, x_prev, x_prev2, w, hist;
  double mass_coef = 0, last_dt = 0, t = 0;
  double t_carry = 0;  // the round-off that summing the steps into t has dropped (Kahan)
  int64_t nsteps = 0;
  int64_t since_factor = 0;  // time steps solved on the current factors

  // A = A_base (mass, viscous, pressure and Dirichlet rows for mass coefficient base_coef, which
  // changes only at the BDF1 -> BDF2 switch) + the convection blocks, reassembled every solve.
  Mat A = nullptr, A_base = nullptr;
  double base_coef = -1;
  Vec b = nullptr, sol = nullptr, sol_all = nullptr;
  VecScatter to_all = nullptr;
  KSP ksp = nullptr;
  // A preonly KSP applies its preconditioner once and reports convergence whatever it is: b − A x
  // is checked after each solve (`residual`), which only a direct factorisation passes.
  bool preonly = false;
  Vec residual = nullptr;

  Impl(const mesh::Mesh& m, const FlowConfig& c, const Comm& cm, const LinearSolverConfig& l);
  ~Impl();

  void setup_boundary();
  void setup_forces();
  void setup_petsc();
  // The system for mass coefficient `mcoef`, with the Dirichlet values times `boundary_scale`
  // (inflow_scale at the time of the level solved for).
  void assemble(double mcoef, double boundary_scale);
  // Solves A x = b into `x`; Krylov methods start from `guess` (full length).
  int solve_linear(const std::vector<double>& guess, bool refactor = true);
};

}  // namespace tessera::solvers
