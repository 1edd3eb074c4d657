// NavierStokes: 2D incompressible Navier–Stokes on a triangle mesh with Taylor–Hood P2/P1
// elements, assembled by us into a PETSc MPIAIJ matrix and solved with a KSP configured from
// the options database (default: a direct LU through MUMPS, which works serially and in
// parallel; e.g. -ksp_type gmres -pc_type fieldsplit ... overrides it).
//
//   u_t + (u·∇)u − ν Δu + ∇p = 0,  ∇·u = 0      (p is pressure / density)
//
// Time: BDF2 (BDF1 on the first step or after a change of dt) with the advecting velocity
// extrapolated to t_{n+1} (2u^n − u^{n−1}), so each step is one linear solve and second order.
// Steady: Picard (Oseen) iteration. Boundary conditions come from node types: inflow (4)
// prescribed velocity, walls (6) no-slip, outflow (5) do-nothing (ν ∂u/∂n − p n = 0), the
// natural condition of this (Laplacian) form, as in the DFG benchmark. Boundary edges take the
// lower code of their two end vertices, so a wall/outflow corner edge is outflow.
//
// Forces on a boundary group are consistent reactions: minus the momentum residual summed over
// the group's velocity unknowns (the "volume integral" drag/lift of John 2004), much more
// accurate than integrating tractions of the discrete solution over the surface.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "mesh/mesh.hpp"
#include "solvers/taylor_hood.hpp"

namespace tessera::solvers {

struct FlowConfig {
  double viscosity = 1e-3;  // kinematic
  double density = 1.0;     // scales reported pressure and forces
  enum class Profile { Parabolic, Uniform } profile = Profile::Parabolic;
  double inflow_speed = 0.3;  // peak of the parabola across the mesh's y-extent, or uniform value
  // > 0: the inflow is inflow_speed * sin(2 pi t / inflow_period) at time t, from 0 at t = 0 (DFG
  // 2D-3: 16, over a half period); 0: constant.
  double inflow_period = 0;
  std::string force_group = "";  // boundary group whose forces are reported ("" = none)
  // Boundary loops on a circle get curved (isoparametric) cells; see TaylorHood.
  bool curved_boundaries = true;
};

// The inflow's speed at time t over its full speed: sin(2π t / inflow_period), or 1 for a constant
// inflow. It scales the Dirichlet values (the walls' are 0).
double inflow_scale(const FlowConfig& flow, double t);

// Linear solves. With refactor_every = k > 1 the LU factors are rebuilt every k-th time step
// only and GMRES, preconditioned by the stale factors and started from the extrapolated
// state, solves the current system to |r| <= rtol |b|:
// the matrix changes little from step to step, so a few Krylov iterations replace most
// factorisations (about 3x faster per step on CylinderFlow meshes; see docs/solvers.md).
struct LinearSolverConfig {
  int refactor_every = 1;
  double rtol = 1e-8;
};

struct Forces {
  double drag = 0, lift = 0;  // force of the fluid on the group, x and y
};

struct SolveInfo {
  int linear_iterations = 0;  // summed over nonlinear iterations
  int nonlinear_iterations = 1;
  double seconds = 0;
};

class NavierStokes {
 public:
  // Collective over `comm`; the mesh is replicated on every rank, rows are distributed. Errors
  // about the input carry the deck key they concern (Error::key): "mesh" (boundary types,
  // inverted cells), "forces.group", "flow.viscosity", "flow.density", "solver.refactor_every".
  NavierStokes(const mesh::Mesh& mesh, const FlowConfig& config, const Comm& comm = Comm::self(),
               const LinearSolverConfig& linear = {});
  ~NavierStokes();

  int64_t num_dofs() const;
  int64_t num_cells() const;
  // The boundary loops found on a circle and made curved (none with curved_boundaries off).
  const std::vector<BoundaryCircle>& curved_circles() const;
  double time() const;
  int64_t steps() const;

  // Collective. Steady state by Picard iteration until the relative velocity change is below
  // `rtol`; throws if it does not converge in `max_iterations`.
  SolveInfo solve_steady(double rtol, int max_iterations);
  // Collective. One time step; throws tessera::Error on a failed linear solve or a non-finite
  // solution (the previous state is kept).
  SolveInfo step(double dt);

  Forces forces() const;
  // A point located once in the mesh: its cell and barycentric coordinates.
  struct Probe {
    int64_t cell = -1;
    double lambda[3] = {0, 0, 0};
  };
  // Throws if the point is outside the mesh (without a key: the caller knows where it came from).
  Probe probe(double x, double y) const;
  // Pressure (times density) at a point, interpolated; throws if the point is outside the mesh.
  double pressure_at(double x, double y) const { return pressure_at(probe(x, y)); }
  double pressure_at(const Probe& p) const;
  // Velocity (u, v) at a located point: the P2 field there (exact for quadratic fields).
  std::array<double, 2> velocity_at(const Probe& p) const;
  // Fields at the mesh vertices: velocity (2 per vertex), pressure, vorticity (∂v/∂x − ∂u/∂y,
  // area-weighted average of the cells around each vertex).
  std::vector<double> vertex_velocity() const;
  // Replaces the velocity by vertex values (2 per vertex, as vertex_velocity() gives them) and
  // restarts the time history, so the next step is BDF1 from this state alone, on fresh LU
  // factors (a hand-over from a surrogate). Edge midpoints, which vertex data do not give, are
  // reconstructed: Quadratic (default) evaluates the least-squares quadratic through the
  // vertices of the cells around the edge's two ends, or also the next ring where those do not
  // determine one (exact for quadratic fields; the mean of the two ends if neither does);
  // Linear takes the mean. Inflow and wall unknowns keep the solver's boundary values; the
  // pressure is kept (only a Krylov start). Throws (no key) if the size is not 2 x vertices or
  // a value is not finite.
  enum class Midpoints { Quadratic, Linear };
  void set_vertex_velocity(const std::vector<double>& velocity, Midpoints midpoints = Midpoints::Quadratic);
  std::vector<double> vertex_pressure() const;

  // The time-stepping state, for restart files: ordered by P2 node (velocity, 2 per node: the
  // vertices, then the edges) and by vertex (pressure), which do not depend on the rank count,
  // unlike the unknowns' numbering. `previous_*` is the step before (BDF2's second level).
  struct TimeState {
    double time = 0, time_carry = 0, last_dt = 0;  // time_carry: the compensated sum's round-off
    int64_t steps = 0;
    std::vector<double> velocity, pressure, previous_velocity, previous_pressure;
  };
  TimeState time_state() const;
  // Continues from a saved state as the run that saved it would have: the next step is BDF2 when
  // its dt equals the saved last dt and a step had been taken, on fresh LU factors (so with
  // solver.refactor_every 1 the continuation is the uninterrupted run's to the bit at the same
  // rank count; with stale factors it agrees to the Krylov tolerance). Throws (no key) if a size
  // does not match this mesh, or a value is not finite.
  void set_time_state(const TimeState& state);
  std::vector<double> vertex_vorticity() const;
  double max_speed() const;
  // max over cells of |u| dt / h, h the cell's smallest height.
  double max_cfl(double dt) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::solvers
