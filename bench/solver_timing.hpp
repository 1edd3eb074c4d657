// Time per step of tessera's Navier-Stokes solver, shared by the benchmarks that measure it.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>

#include "core/comm.hpp"
#include "mesh/mesh.hpp"
#include "solvers/navier_stokes.hpp"

namespace tessera::bench {

struct SolverTiming {
  double ms_per_step = 0, its_per_step = 0;
  int64_t dofs = 0;
};

// `steps` steps of `dt` after 10 untimed ones (the first factorisations), on `comm`; after each
// timed step `after_step` takes out what the caller's use of the solver would (forces, fields).
inline SolverTiming time_solver_steps(const mesh::Mesh& m, const solvers::FlowConfig& flow, double dt, int steps,
                                      const Comm& comm, const std::function<void(solvers::NavierStokes&)>& after_step) {
  solvers::NavierStokes ns(m, flow, comm, {5, 1e-8});
  for (int k = 0; k < 10; ++k) ns.step(dt);
  SolverTiming t;
  t.dofs = ns.num_dofs();
  comm.barrier();
  const auto t0 = std::chrono::steady_clock::now();
  int its = 0;
  for (int k = 0; k < steps; ++k) {
    its += ns.step(dt).linear_iterations;
    after_step(ns);
  }
  comm.barrier();
  t.ms_per_step = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / steps;
  t.its_per_step = double(its) / steps;
  return t;
}

}  // namespace tessera::bench
