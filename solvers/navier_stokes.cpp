#include "solvers/navier_stokes.hpp"

#include <petscksp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>
#include <set>

#include "core/error.hpp"
#include "core/kept_signal_dispositions.hpp"
#include "solvers/navier_stokes_impl.hpp"
#include "solvers/ns_element.hpp"
#include "solvers/petsc_session.hpp"
#include "solvers/taylor_hood.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_METIS
#include "mesh/graph.hpp"
#include "mesh/partition.hpp"
#endif

namespace tessera::solvers {

namespace {

#define TS_PETSC(call) petsc_check((call), #call)

std::vector<int32_t> vertex_ranks(const mesh::Mesh& m, int ranks) {
  std::vector<int32_t> part(m.num_nodes(), 0);
  if (ranks == 1) return part;
#if TESSERA_HAVE_METIS
  return mesh::partition_nodes(mesh::mesh_graph(m), ranks);
#else
  for (int64_t v = 0; v < m.num_nodes(); ++v) part[v] = static_cast<int32_t>(v * ranks / m.num_nodes());
  return part;
#endif
}

}  // namespace

NavierStokes::Impl::Impl(const mesh::Mesh& m, const FlowConfig& c, const Comm& cm, const LinearSolverConfig& l)
    : cfg(c), lin(l), comm(cm), vrank(vertex_ranks(m, cm.size())), th(m, vrank, cm.size(), c.curved_boundaries) {}

NavierStokes::Impl::~Impl() {
  if (ksp) KSPDestroy(&ksp);
  if (A) MatDestroy(&A);
  if (A_base) MatDestroy(&A_base);
  if (b) VecDestroy(&b);
  if (sol) VecDestroy(&sol);
  if (sol_all) VecDestroy(&sol_all);
  if (residual) VecDestroy(&residual);
  if (to_all) VecScatterDestroy(&to_all);
}

void NavierStokes::Impl::setup_boundary() {
  const auto& m = th.mesh();
  const int64_t nv = th.num_vertices();
  // Node type per P2 node; vertices on a boundary edge must carry a boundary type. Errors about the
  // types are keyed mesh.groups, where tessera-cfd's deck sets them (tessera-hybrid takes them from
  // its data and says so instead).
  std::vector<int32_t> type(th.num_p2_nodes(), mesh::kNormal);
  for (int64_t v = 0; v < nv; ++v) type[v] = m.node_type[v];
  int64_t counts[7] = {0};
  for (int64_t e = 0; e < th.num_edges(); ++e) {
    if (!th.is_boundary_edge(e)) continue;
    const int64_t a = th.edge_vertex(e, 0), b = th.edge_vertex(e, 1);
    for (int64_t v : {a, b})
      if (m.node_type[v] == mesh::kNormal)
        throw Error(cat("boundary node ", v, " at (", m.coords[v * 2], ", ", m.coords[v * 2 + 1],
                        ") has no boundary type (type 0, normal): every boundary node needs inflow (4), outflow (5) or "
                        "wall (6)"),
                    "mesh.groups");
    type[nv + e] = std::min(m.node_type[a], m.node_type[b]);
  }
  for (int64_t v = 0; v < nv; ++v) ++counts[std::clamp(m.node_type[v], 0, 6)];
  if (counts[mesh::kInflow] == 0) throw Error("the mesh has no inflow nodes (type 4)", "mesh.groups");
  if (counts[mesh::kOutflow] == 0)
    throw Error("the mesh has no outflow nodes (type 5): the do-nothing outflow fixes the pressure level",
                "mesh.groups");

  // The solver imposes u = (profile across y, 0) on the inflow, a straight boundary at the mesh's
  // smallest x (mesh::channel_inflow).
  const mesh::Box in = mesh::channel_inflow(m);
  const double ymin = in.y0, height = in.y1 - in.y0;
  dirichlet.assign(th.num_dofs(), 0);
  dirichlet_value.assign(th.num_dofs(), 0.0);
  for (int64_t n = 0; n < th.num_p2_nodes(); ++n) {
    if (type[n] != mesh::kInflow && type[n] != mesh::kWall) continue;
    double ux = 0;
    if (type[n] == mesh::kInflow) {
      const double y = th.node_coords(n)[1] - ymin;
      ux = cfg.profile == FlowConfig::Profile::Uniform ? cfg.inflow_speed
                                                       : 4 * cfg.inflow_speed * y * (height - y) / (height * height);
    }
    for (int c = 0; c < 2; ++c) {
      dirichlet[th.velocity_dof(n, c)] = 1;
      dirichlet_value[th.velocity_dof(n, c)] = c == 0 ? ux : 0.0;
    }
  }
}

double inflow_scale(const FlowConfig& flow, double t) {
  constexpr double kTwoPi = 6.283185307179586;
  return flow.inflow_period > 0 ? std::sin(kTwoPi * t / flow.inflow_period) : 1.0;
}

void NavierStokes::Impl::setup_forces() {
  force_node.assign(th.num_p2_nodes(), 0);
  if (cfg.force_group.empty()) return;
  const auto& m = th.mesh();
  const mesh::PhysicalGroup* g = m.find_group(cfg.force_group);
  if (!g) {
    std::string names;
    for (const auto& n : m.group_names()) names += (names.empty() ? "" : ", ") + n;
    throw Error(cat("force group '", cfg.force_group, "' ",
                    cfg.force_group == m.domain_name ? "is the mesh's cells (the domain), not a boundary group"
                                                     : "is not in the mesh",
                    " (groups: ", names, ")"),
                "forces.group");
  }
  if (g->dim != 1)
    throw Error(cat("force group '", cfg.force_group, "' must be a group of boundary lines"), "forces.group");
  for (int64_t f = 0; f < g->num_facets(); ++f) {
    const int64_t a = g->facets[f * 2], b = g->facets[f * 2 + 1];
    force_node[a] = force_node[b] = 1;
    const int64_t e = th.find_edge(std::min(a, b), std::max(a, b));
    if (e >= 0) force_node[th.num_vertices() + e] = 1;
  }
  for (int64_t c = 0; c < th.num_cells(); ++c)
    for (int i = 0; i < 6; ++i)
      if (force_node[th.cell_node(c, i)]) {
        force_cells.push_back(c);
        break;
      }
}

void NavierStokes::Impl::setup_petsc() {
  std::tie(row_begin, row_end) = th.owned_rows(comm.rank());
  const int64_t nlocal = row_end - row_begin;
  // Sparsity of the owned rows from the cells touching them (every such cell is assembled here,
  // so no entries travel between ranks).
  std::vector<std::vector<PetscInt>> cols(nlocal);
  int64_t dofs[15];
  for (int64_t c = 0; c < th.num_cells(); ++c) {
    th.cell_dofs(c, dofs);
    bool mine = false;
    for (int i = 0; i < 15; ++i)
      if (dofs[i] >= row_begin && dofs[i] < row_end) {
        mine = true;
        for (int j = 0; j < 15; ++j) cols[dofs[i] - row_begin].push_back(static_cast<PetscInt>(dofs[j]));
      }
    if (mine) local_cells.push_back(c);
  }
  std::vector<PetscInt> d_nnz(nlocal), o_nnz(nlocal);
  for (int64_t r = 0; r < nlocal; ++r) {
    auto& cl = cols[r];
    std::sort(cl.begin(), cl.end());
    cl.erase(std::unique(cl.begin(), cl.end()), cl.end());
    for (PetscInt col : cl) (col >= row_begin && col < row_end ? d_nnz[r] : o_nnz[r])++;
  }
  TS_PETSC(
      MatCreateAIJ(comm.mpi(), nlocal, nlocal, th.num_dofs(), th.num_dofs(), 0, d_nnz.data(), 0, o_nnz.data(), &A));
  TS_PETSC(MatSetOption(A, MAT_NO_OFF_PROC_ENTRIES, PETSC_TRUE));
  TS_PETSC(MatCreateVecs(A, &sol, &b));
  TS_PETSC(VecScatterCreateToAll(sol, &to_all, &sol_all));
  TS_PETSC(KSPCreate(comm.mpi(), &ksp));
  // Defaults: a parallel direct solve (GMRES on lagged factors when refactoring only every k
  // steps); the options database (-ksp_type, -pc_type, ...) wins.
  TS_PETSC(KSPSetType(ksp, lin.refactor_every > 1 ? KSPGMRES : KSPPREONLY));
  // No divergence test: PETSc's compares the first residual of our (extrapolated) initial guess
  // with |B b|, and at tiny time steps (dt = 1e-8) |B b| was 1e5 times smaller than the guess's
  // residual, so even fresh factors "diverged" at iteration 0. Non-convergence is still caught by
  // the 200-iteration limit.
  TS_PETSC(KSPSetTolerances(ksp, lin.rtol, 1e-50, 1e100, 200));
  PC pc;
  TS_PETSC(KSPGetPC(ksp, &pc));
  TS_PETSC(PCSetType(pc, PCLU));
  TS_PETSC(PCFactorSetMatSolverType(pc, MATSOLVERMUMPS));
  TS_PETSC(KSPSetFromOptions(ksp));
  KSPType type;
  TS_PETSC(KSPGetType(ksp, &type));
  // Krylov methods start from the current state (preonly accepts no initial guess).
  preonly = std::string(type) == KSPPREONLY;
  if (!preonly) TS_PETSC(KSPSetInitialGuessNonzero(ksp, PETSC_TRUE));
  if (preonly) TS_PETSC(VecDuplicate(b, &residual));
}

void NavierStokes::Impl::assemble(double mcoef, double boundary_scale) {
  int64_t dofs[15];
  PetscInt rows[15], cols[15];
  auto cell_rows = [&](int64_t c) {
    th.cell_dofs(c, dofs);
    for (int i = 0; i < 15; ++i) {
      cols[i] = static_cast<PetscInt>(dofs[i]);
      const bool owned = dofs[i] >= row_begin && dofs[i] < row_end && !dirichlet[dofs[i]];
      rows[i] = owned ? cols[i] : -1;  // negative rows are skipped by MatSetValues
    }
  };
  if (mcoef != base_coef) {
    // The part that does not depend on the state, with every entry of the 15 x 15 blocks, so
    // the pattern is fixed from here on.
    TS_PETSC(MatZeroEntries(A));
    CellMatrices cm;
    for (int64_t c : local_cells) {
      stokes_cell_matrices(th, quad, c, mcoef, cfg.viscosity, cm);
      cell_rows(c);
      TS_PETSC(MatSetValues(A, 15, rows, 15, cols, &cm.K[0][0], ADD_VALUES));
    }
    for (int64_t r = row_begin; r < row_end; ++r)
      if (dirichlet[r]) TS_PETSC(MatSetValue(A, static_cast<PetscInt>(r), static_cast<PetscInt>(r), 1.0, ADD_VALUES));
    TS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
    TS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
    TS_PETSC(MatSetOption(A, MAT_NEW_NONZERO_LOCATIONS, PETSC_FALSE));
    if (A_base)
      TS_PETSC(MatCopy(A, A_base, SAME_NONZERO_PATTERN));
    else
      TS_PETSC(MatDuplicate(A, MAT_COPY_VALUES, &A_base));
    base_coef = mcoef;
  } else {
    TS_PETSC(MatCopy(A_base, A, SAME_NONZERO_PATTERN));
  }
  // Convection (one 6 x 6 block per velocity component) and the right-hand side
  // −M (a1 u^n + a2 u^{n−1}) / dt on the velocity rows.
  std::vector<double> rhs(row_end - row_begin, 0.0);
  double C[6][6], M[6][6];
  PetscInt crow[6], ccol[6];
  for (int64_t c : local_cells) {
    convection_cell_matrix(th, quad, c, w.data(), C, M);
    cell_rows(c);
    for (int d = 0; d < 2; ++d) {
      for (int i = 0; i < 6; ++i) {
        crow[i] = rows[2 * i + d];
        ccol[i] = cols[2 * i + d];
        if (crow[i] < 0) continue;
        double s = 0;
        for (int j = 0; j < 6; ++j) s += M[i][j] * hist[dofs[2 * j + d]];
        rhs[dofs[2 * i + d] - row_begin] -= s;
      }
      TS_PETSC(MatSetValues(A, 6, crow, 6, ccol, &C[0][0], ADD_VALUES));
    }
  }
  for (int64_t r = row_begin; r < row_end; ++r)
    if (dirichlet[r]) rhs[r - row_begin] = boundary_scale * dirichlet_value[r];
  TS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  TS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscScalar* bp;
  TS_PETSC(VecGetArray(b, &bp));
  std::copy(rhs.begin(), rhs.end(), bp);
  TS_PETSC(VecRestoreArray(b, &bp));
}

int NavierStokes::Impl::solve_linear(const std::vector<double>& guess, bool refactor) {
  TS_PETSC(KSPSetOperators(ksp, A, A));
  TS_PETSC(KSPSetReusePreconditioner(ksp, refactor ? PETSC_FALSE : PETSC_TRUE));
  PetscScalar* sp;
  TS_PETSC(VecGetArray(sol, &sp));
  std::copy(guess.begin() + row_begin, guess.begin() + row_end, sp);
  TS_PETSC(VecRestoreArray(sol, &sp));
  {
    // A MUMPS built with METIS (PETSc's --download-metis on clusters) calls it at a symbolic
    // factorisation, and METIS replaces the interrupt handler for the call.
    const core::KeptSignalDispositions keep;
    TS_PETSC(KSPSolve(ksp, b, sol));
  }
  KSPConvergedReason reason;
  TS_PETSC(KSPGetConvergedReason(ksp, &reason));
  if (reason < 0) throw Error(cat("the linear solver failed: ", KSPConvergedReasons[reason]));
  if (preonly) {
    // One MatMult, against a factorisation and two triangular solves. -pc_type jacobi with
    // preonly gave velocities of 600 in a flow of peak 1.5, as "converged".
    PetscReal b_norm, r_norm;
    TS_PETSC(MatMult(A, sol, residual));
    TS_PETSC(VecAYPX(residual, -1.0, b));
    TS_PETSC(VecNorm(b, NORM_2, &b_norm));
    TS_PETSC(VecNorm(residual, NORM_2, &r_norm));
    if (b_norm > 0 && !(r_norm <= 1e-6 * b_norm)) {
      PC pc;
      PCType pc_type;
      TS_PETSC(KSPGetPC(ksp, &pc));
      TS_PETSC(PCGetType(pc, &pc_type));
      throw Error(cat("the linear solver's result leaves a relative residual |b - A x| / |b| = ", r_norm / b_norm,
                      ": -ksp_type preonly applies the preconditioner (", pc_type ? pc_type : "none",
                      ") once, which solves the system only when it is a direct factorisation on current factors "
                      "(-pc_type lu, the default); use a Krylov method (-ksp_type gmres) with other preconditioners"));
    }
  }
  PetscInt its;
  TS_PETSC(KSPGetIterationNumber(ksp, &its));
  TS_PETSC(VecScatterBegin(to_all, sol, sol_all, INSERT_VALUES, SCATTER_FORWARD));
  TS_PETSC(VecScatterEnd(to_all, sol, sol_all, INSERT_VALUES, SCATTER_FORWARD));
  const PetscScalar* ap;
  TS_PETSC(VecGetArrayRead(sol_all, &ap));
  std::vector<double> next(ap, ap + th.num_dofs());
  TS_PETSC(VecRestoreArrayRead(sol_all, &ap));
  for (double v : next)
    if (!std::isfinite(v)) throw Error("the solution is not finite (NaN or Inf)");
  x.swap(next);
  return static_cast<int>(its);
}

NavierStokes::NavierStokes(const mesh::Mesh& m, const FlowConfig& cfg, const Comm& comm,
                           const LinearSolverConfig& lin) {
  if (lin.refactor_every < 1)
    throw Error(cat("refactor_every must be >= 1, got ", lin.refactor_every), "solver.refactor_every");
  if (!(cfg.viscosity > 0)) throw Error(cat("the viscosity must be > 0, got ", cfg.viscosity), "flow.viscosity");
  if (!(cfg.density > 0)) throw Error(cat("the density must be > 0, got ", cfg.density), "flow.density");
  impl_ = std::make_unique<Impl>(m, cfg, comm, lin);
  auto& s = *impl_;
  s.setup_boundary();
  s.setup_forces();
  s.setup_petsc();
  // At rest inside, the boundary at its values at t = 0 (an impulsive start for a constant inflow).
  s.x = s.dirichlet_value;
  for (double& v : s.x) v *= inflow_scale(cfg, 0.0);
  s.x_prev = s.x_prev2 = s.w = s.x;
  s.hist.assign(s.x.size(), 0.0);
}

NavierStokes::~NavierStokes() = default;

const std::vector<BoundaryCircle>& NavierStokes::curved_circles() const { return impl_->th.curved_circles(); }
int64_t NavierStokes::num_dofs() const { return impl_->th.num_dofs(); }
int64_t NavierStokes::num_cells() const { return impl_->th.num_cells(); }
double NavierStokes::time() const { return impl_->t; }
int64_t NavierStokes::steps() const { return impl_->nsteps; }

SolveInfo NavierStokes::solve_steady(double rtol, int max_iterations) {
  auto& s = *impl_;
  const auto t0 = std::chrono::steady_clock::now();
  SolveInfo info;
  s.mass_coef = 0;
  std::fill(s.hist.begin(), s.hist.end(), 0.0);
  double change = 0;
  for (int it = 1; it <= max_iterations; ++it) {
    s.w = s.x;  // Oseen linearisation about the previous iterate
    s.assemble(0.0, inflow_scale(s.cfg, s.t));
    std::vector<double> before = s.x;
    info.linear_iterations += s.solve_linear(s.x);
    double diff = 0, norm = 0;
    for (int64_t n = 0; n < s.th.num_p2_nodes(); ++n)
      for (int c = 0; c < 2; ++c) {
        const int64_t k = s.th.velocity_dof(n, c);
        diff = std::max(diff, std::abs(s.x[k] - before[k]));
        norm = std::max(norm, std::abs(s.x[k]));
      }
    change = diff / std::max(norm, 1e-300);
    info.nonlinear_iterations = it;
    if (change < rtol) {
      s.w = s.x;
      s.x_prev = s.x_prev2 = s.x;
      info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return info;
    }
  }
  // Keyed to the deck's limit (it named no key; a review found it, 2026-12-07).
  throw Error(cat("the steady solve did not converge in ", max_iterations, " Picard iterations (relative change ",
                  change, " > ", rtol,
                  ", steady.rtol): raise it, or a flow that does not settle needs a transient "
                  "run"),
              "steady.max_iterations");
}

SolveInfo NavierStokes::step(double dt) {
  auto& s = *impl_;
  if (!(dt > 0)) throw Error(cat("time step must be > 0, got ", dt));
  const auto t0 = std::chrono::steady_clock::now();
  // BDF2 needs two equal previous steps; otherwise BDF1.
  const bool bdf2 = s.nsteps >= 1 && std::abs(dt - s.last_dt) <= 1e-12 * dt;
  const double a0 = bdf2 ? 1.5 : 1.0, a1 = bdf2 ? -2.0 : -1.0, a2 = bdf2 ? 0.5 : 0.0;
  for (size_t k = 0; k < s.x.size(); ++k) {
    s.w[k] = bdf2 ? 2 * s.x[k] - s.x_prev[k] : s.x[k];
    s.hist[k] = (a1 * s.x[k] + a2 * s.x_prev[k]) / dt;
  }
  s.mass_coef = a0 / dt;
  s.assemble(s.mass_coef, inflow_scale(s.cfg, s.t + dt));  // the boundary values of the new level
  std::vector<double> current = s.x;
  SolveInfo info;
  // Fresh factors every refactor_every steps; on stale ones a failed solve is retried with fresh
  // factors before it counts as a failure. The extrapolated state is the Krylov start.
  // preonly applies the factors once, which solves only on fresh ones: with it every step
  // refactors (a stale solve failed the residual check and was then retried on fresh factors:
  // two solves a step).
  const bool fresh = s.preonly || s.since_factor == 0 || s.since_factor >= s.lin.refactor_every;
  try {
    try {
      info.linear_iterations = s.solve_linear(s.w, fresh);
      s.since_factor = fresh ? 1 : s.since_factor + 1;
    } catch (const Error&) {
      if (fresh) throw;
      s.x = current;
      info.linear_iterations = s.solve_linear(s.w, true);
      s.since_factor = 1;
    }
  } catch (...) {
    s.x = current;
    throw;
  }
  s.x_prev2 = s.x_prev;
  s.x_prev = std::move(current);
  s.last_dt = dt;
  // Compensated sum: 10 steps of 0.005 are t = 0.05, not 0.049999999999999996 (the time stamps of
  // every output). t enters no equation, so the fields are as before.
  const double y = dt - s.t_carry, t_new = s.t + y;
  s.t_carry = (t_new - s.t) - y;
  s.t = t_new;
  ++s.nsteps;
  info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return info;
}

Forces NavierStokes::forces() const {
  const auto& s = *impl_;
  Forces f;
  CellMatrices cm;
  double C[6][6], M[6][6];
  int64_t dofs[15];
  for (int64_t c : s.force_cells) {
    stokes_cell_matrices(s.th, s.quad, c, s.mass_coef, s.cfg.viscosity, cm);
    convection_cell_matrix(s.th, s.quad, c, s.w.data(), C, M);
    s.th.cell_dofs(c, dofs);
    for (int i = 0; i < 6; ++i) {
      if (!s.force_node[s.th.cell_node(c, i)]) continue;
      for (int d = 0; d < 2; ++d) {
        double r = 0;
        for (int j = 0; j < 15; ++j) r += cm.K[2 * i + d][j] * s.x[dofs[j]];
        for (int j = 0; j < 6; ++j) r += C[i][j] * s.x[dofs[2 * j + d]] + M[i][j] * s.hist[dofs[2 * j + d]];
        (d == 0 ? f.drag : f.lift) -= r;
      }
    }
  }
  f.drag *= s.cfg.density;
  f.lift *= s.cfg.density;
  return f;
}

NavierStokes::Probe NavierStokes::probe(double px, double py) const {
  Probe p;
  p.cell = impl_->th.locate(px, py, p.lambda);
  // Holes are outside too: a probe placed inside the cylinder read "outside the mesh" alone.
  if (p.cell < 0)
    throw Error(cat("point (", px, ", ", py, ") is outside the mesh (or in a hole of it, as a cylinder)"));
  return p;
}

double NavierStokes::pressure_at(const Probe& probe) const {
  const auto& s = *impl_;
  double p = 0;
  for (int i = 0; i < 3; ++i) p += probe.lambda[i] * s.x[s.th.pressure_dof(s.th.cell_node(probe.cell, i))];
  return p * s.cfg.density;
}

std::array<double, 2> NavierStokes::velocity_at(const Probe& probe) const {
  const auto& s = *impl_;
  double phi[6];
  p2_values(probe.lambda, phi);  // reference coordinates: right for curved (isoparametric) cells too
  std::array<double, 2> u{0, 0};
  for (int i = 0; i < 6; ++i)
    for (int d = 0; d < 2; ++d) u[d] += phi[i] * s.x[s.th.velocity_dof(s.th.cell_node(probe.cell, i), d)];
  return u;
}

}  // namespace tessera::solvers
