// NavierStokes::set_vertex_velocity, the hand-over from a surrogate: vertex values in, boundary
// values kept, and a restart that forgets the history (BDF1 next). References: a fresh solver's
// first step (BDF1 from its initial state), the solver's own trajectory, exact Poiseuille flow.
// Also the time-stepping state of restart files (time_state / set_time_state), against the run
// that goes on without a stop. Run serially and under mpiexec -n 2 (COMM_WORLD against COMM_SELF).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "mesh/structured.hpp"
#include "solvers/navier_stokes.hpp"
#include "solvers/petsc_session.hpp"

using namespace tessera;
using solvers::FlowConfig;
using solvers::NavierStokes;

namespace {

constexpr double kH = 0.5;  // channel [0, 2] x [0, 0.5]

mesh::Mesh channel(int nx, int ny) {
  mesh::Mesh m = mesh::rectangle_grid(nx, ny, 2.0, kH);
  mesh::assign_node_types(
      m, {{"left", mesh::kInflow}, {"right", mesh::kOutflow}, {"bottom", mesh::kWall}, {"top", mesh::kWall}});
  return m;
}

FlowConfig flow(double peak, double nu) {
  FlowConfig f;
  f.inflow_speed = peak;
  f.viscosity = nu;
  return f;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (size_t k = 0; k < a.size(); ++k) d = std::max(d, std::abs(a[k] - b[k]));
  return d;
}

double parabola(double peak, double y) { return 4 * peak * y * (kH - y) / (kH * kH); }

}  // namespace

TEST_CASE("set_vertex_velocity: vertex values in, the solver's boundary values kept", "[cfd][hybrid]") {
  solvers::PetscSession petsc;
  const mesh::Mesh m = channel(8, 4);
  NavierStokes ns(m, flow(0.4, 0.01));
  std::vector<double> u(m.num_nodes() * 2);
  for (int64_t v = 0; v < m.num_nodes(); ++v) {
    u[v * 2] = 1 + std::sin(m.coords[v * 2]) * std::cos(m.coords[v * 2 + 1]);
    u[v * 2 + 1] = m.coords[v * 2] * m.coords[v * 2 + 1];
  }
  ns.set_vertex_velocity(u);
  const auto got = ns.vertex_velocity();
  int inflow = 0, wall = 0, free = 0;
  for (int64_t v = 0; v < m.num_nodes(); ++v) {
    const int32_t type = m.node_type[v];
    const double y = m.coords[v * 2 + 1];
    if (type == mesh::kInflow) {
      ++inflow;
      CHECK(got[v * 2] == Approx(parabola(0.4, y)).epsilon(0).margin(1e-14));
      CHECK(got[v * 2 + 1] == 0.0);
    } else if (type == mesh::kWall) {
      ++wall;
      CHECK(got[v * 2] == 0.0);
      CHECK(got[v * 2 + 1] == 0.0);
    } else {
      ++free;
      CHECK(got[v * 2] == u[v * 2]);
      CHECK(got[v * 2 + 1] == u[v * 2 + 1]);
    }
  }
  CHECK(inflow > 0);
  CHECK(wall > 0);
  CHECK(free > 0);

  CHECK_THROWS_WITH(ns.set_vertex_velocity(std::vector<double>(3, 0.0)), Catch::Contains("2 per vertex"));
  u[5] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(ns.set_vertex_velocity(u), Catch::Contains("not finite"));
}

TEST_CASE("set_vertex_velocity restarts the history: the next step is BDF1 from the set state", "[cfd][hybrid]") {
  solvers::PetscSession petsc;
  const mesh::Mesh m = channel(10, 5);
  const double dt = 0.05;
  // A solver with a history of three steps, set back to rest, steps exactly like a fresh solver
  // (whose first step is BDF1 from rest); the second steps (BDF2 on equal histories) agree too.
  NavierStokes fresh(m, flow(1.0, 0.01)), reset(m, flow(1.0, 0.01));
  for (int k = 0; k < 3; ++k) reset.step(dt);
  reset.set_vertex_velocity(std::vector<double>(m.num_nodes() * 2, 0.0), NavierStokes::Midpoints::Linear);
  for (int k = 0; k < 2; ++k) {
    fresh.step(dt);
    reset.step(dt);
    const auto a = fresh.vertex_velocity(), b = reset.vertex_velocity();
    CHECK(max_diff(a, b) < 1e-12 * fresh.max_speed());
  }

  // A state handed over from the solver's own trajectory: two solvers with different histories
  // continue identically, close to the trajectory itself (BDF1 and reconstructed midpoints
  // instead of BDF2 and the solved P2 midpoints). Linear midpoints of this developing channel
  // flow (peak 1, 5 cells across) miss by up to the interpolation error of the inflow parabola,
  // (4 U / H^2) (dy / 2)^2; quadratic ones do better.
  NavierStokes truth(m, flow(1.0, 0.01)), late(m, flow(1.0, 0.01)), early(m, flow(1.0, 0.01)),
      linear(m, flow(1.0, 0.01));
  for (int k = 0; k < 6; ++k) truth.step(dt);
  const auto handed = truth.vertex_velocity();
  early.step(2 * dt);
  late.set_vertex_velocity(handed);
  early.set_vertex_velocity(handed);
  linear.set_vertex_velocity(handed, NavierStokes::Midpoints::Linear);
  truth.step(dt);
  late.step(dt);
  early.step(dt);
  linear.step(dt);
  const auto t7 = truth.vertex_velocity(), l7 = late.vertex_velocity(), e7 = early.vertex_velocity();
  CHECK(max_diff(l7, e7) < 1e-12 * truth.max_speed());
  const double change = max_diff(t7, handed), off = max_diff(l7, t7),
               off_linear = max_diff(linear.vertex_velocity(), t7);
  const double dy = kH / 5, midpoint_error = 4 * 1.0 / (kH * kH) * dy * dy / 4;
  INFO("one step's change " << change << ", off by " << off << " (linear midpoints: " << off_linear << ")");
  CHECK(change > 1e-3);  // the flow is still developing: the comparison is not trivial
  CHECK(off_linear < 0.6 * midpoint_error);
  CHECK(off < 0.8 * off_linear);
}

TEST_CASE("a Poiseuille profile set on a fresh solver stays Poiseuille", "[cfd][hybrid]") {
  solvers::PetscSession petsc;
  const int ny = 8;
  const mesh::Mesh m = channel(8, ny);
  const double peak = 0.4, nu = 0.05;
  std::vector<double> exact(m.num_nodes() * 2, 0.0);
  for (int64_t v = 0; v < m.num_nodes(); ++v) exact[v * 2] = parabola(peak, m.coords[v * 2 + 1]);
  // Linear midpoints of edges across the channel miss the parabola by up to (4 U / H^2) (dy / 2)^2;
  // quadratic ones are exact, so the profile is a solution from the start.
  const double dy = kH / ny, midpoint_error = 4 * peak / (kH * kH) * dy * dy / 4;
  double first[2];
  for (auto mode : {NavierStokes::Midpoints::Linear, NavierStokes::Midpoints::Quadratic}) {
    NavierStokes ns(m, flow(peak, nu));
    ns.set_vertex_velocity(exact, mode);
    ns.step(0.05);
    const double off = max_diff(ns.vertex_velocity(), exact);
    first[mode == NavierStokes::Midpoints::Linear ? 0 : 1] = off;
    CHECK(off < midpoint_error);
    // The flow returns to the exact profile.
    for (int k = 0; k < 200; ++k) ns.step(0.05);
    CHECK(max_diff(ns.vertex_velocity(), exact) < 1e-3 * off + 1e-12);
  }
  INFO("first-step deviation: linear " << first[0] << ", quadratic " << first[1]);
  CHECK(first[0] > 0.01 * midpoint_error);
  CHECK(first[1] < 1e-10);
}

TEST_CASE("set_vertex_velocity and the steps after it: np = 1 and np = 2 agree", "[cfd][hybrid][mpi]") {
  solvers::PetscSession petsc;
  const mesh::Mesh m = channel(10, 5);
  NavierStokes source(m, flow(1.0, 0.01));
  for (int k = 0; k < 4; ++k) source.step(0.05);
  const auto handed = source.vertex_velocity();
  NavierStokes serial(m, flow(1.0, 0.01), Comm::self()), parallel(m, flow(1.0, 0.01), Comm());
  serial.set_vertex_velocity(handed);
  parallel.set_vertex_velocity(handed);
  for (int k = 0; k < 3; ++k) {
    serial.step(0.05);
    parallel.step(0.05);
  }
  CHECK(max_diff(serial.vertex_velocity(), parallel.vertex_velocity()) < 1e-9 * serial.max_speed());
}

// The time-stepping state for restart files (NavierStokes::TimeState). Reference: the same solver
// run on without a stop.
TEST_CASE("time_state / set_time_state: a continuation is the uninterrupted run, to the bit with fresh factors",
          "[cfd][restart]") {
  solvers::PetscSession petsc;
  const mesh::Mesh m = channel(10, 5);
  for (const int refactor_every : {1, 5}) {
    CAPTURE(refactor_every);
    const solvers::LinearSolverConfig linear{refactor_every, 1e-10};
    NavierStokes run(m, flow(1.0, 0.01), Comm::self(), linear);
    for (int k = 0; k < 4; ++k) run.step(0.05);
    const NavierStokes::TimeState saved = run.time_state();
    CHECK(saved.steps == 4);
    CHECK(saved.time == Approx(0.2).epsilon(1e-15));
    CHECK(saved.last_dt == 0.05);
    CHECK(saved.velocity.size() == saved.previous_velocity.size());
    CHECK(max_diff(saved.velocity, saved.previous_velocity) > 1e-3);  // two levels, not one twice
    NavierStokes continued(m, flow(1.0, 0.01), Comm::self(), linear);
    continued.set_time_state(saved);
    CHECK(continued.time() == run.time());
    CHECK(continued.steps() == 4);
    CHECK(continued.vertex_velocity() == run.vertex_velocity());
    for (int k = 0; k < 3; ++k) {
      run.step(0.05);
      continued.step(0.05);
    }
    CHECK(continued.steps() == 7);
    CHECK(continued.time() == run.time());
    if (refactor_every == 1) {  // the same matrices and right-hand sides: the same bits
      CHECK(continued.vertex_velocity() == run.vertex_velocity());
      CHECK(continued.vertex_pressure() == run.vertex_pressure());
      CHECK(continued.forces().drag == run.forces().drag);
    } else {  // fresh factors where the run had stale ones: the Krylov tolerance's difference
      CHECK(max_diff(continued.vertex_velocity(), run.vertex_velocity()) < 1e-8 * run.max_speed());
    }
  }
}

TEST_CASE("set_time_state: the history is used (BDF2 next), and a state of another mesh is refused", "[cfd][restart]") {
  solvers::PetscSession petsc;
  const mesh::Mesh m = channel(10, 5);
  NavierStokes run(m, flow(1.0, 0.01));
  for (int k = 0; k < 2; ++k) run.step(0.05);
  NavierStokes::TimeState saved = run.time_state();
  // Without its previous level the next step differs: the continuation above used it.
  NavierStokes::TimeState one_level = saved;
  one_level.previous_velocity = saved.velocity;
  one_level.previous_pressure = saved.pressure;
  NavierStokes a(m, flow(1.0, 0.01)), b(m, flow(1.0, 0.01));
  a.set_time_state(saved);
  b.set_time_state(one_level);
  a.step(0.05);
  b.step(0.05);
  CHECK(max_diff(a.vertex_velocity(), b.vertex_velocity()) > 1e-6);

  NavierStokes other(channel(12, 5), flow(1.0, 0.01));
  CHECK_THROWS_WITH(other.set_time_state(saved),
                    Catch::Contains("the state's velocity has") && Catch::Contains("2 per P2 node"));
  NavierStokes::TimeState bad = saved;
  bad.previous_pressure[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(a.set_time_state(bad), Catch::Contains("previous pressure holds a value that is not finite"));
  bad = saved;
  bad.steps = -1;
  CHECK_THROWS_WITH(a.set_time_state(bad), Catch::Contains("is not valid"));
}

TEST_CASE("a state saved at one rank count continues at another: np = 1 and np = 2 agree", "[cfd][restart][mpi]") {
  solvers::PetscSession petsc;
  const mesh::Mesh m = channel(10, 5);
  const solvers::LinearSolverConfig direct{1, 1e-10};
  NavierStokes parallel_run(m, flow(1.0, 0.01), Comm(), direct);  // saved at this run's rank count
  for (int k = 0; k < 4; ++k) parallel_run.step(0.05);
  const NavierStokes::TimeState saved = parallel_run.time_state();
  NavierStokes serial(m, flow(1.0, 0.01), Comm::self(), direct);
  serial.set_time_state(saved);
  for (int k = 0; k < 3; ++k) {
    serial.step(0.05);
    parallel_run.step(0.05);
  }
  // The state's order is the rank count's own numbering undone: saved again, it is the same.
  CHECK(max_diff(serial.time_state().velocity, parallel_run.time_state().velocity) < 1e-9 * serial.max_speed());
  CHECK(max_diff(serial.vertex_pressure(), parallel_run.vertex_pressure()) < 1e-9);
}
