// Time per step of tessera's Navier-Stokes solver, shared by the benchmarks that measure it.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "bench/timing.hpp"
#include "core/comm.hpp"
#include "mesh/mesh.hpp"
#include "solvers/navier_stokes.hpp"

namespace tessera::bench {

struct SolverTiming {
  double ms_per_step = 0, its_per_step = 0;
  int64_t dofs = 0;
};

// `steps` steps of `dt` after 10 untimed ones (the first factorisations), on `comm`, with the LU
// factors refreshed every `refactor_every` steps (tessera-cfd's default 5); after each
// timed step `after_step` takes out what the caller's use of the solver would (forces, fields).
// With `windows` > 1, that many windows of `steps` steps follow each other and ms_per_step is the
// median of their means (as a caller timing its other side by the median of as many windows
// needs, so that neither side alone has a slow spell filtered out). The windows are consecutive
// stretches of the developing flow, not repeats of one stretch.
inline SolverTiming time_solver_steps(const mesh::Mesh& m, const solvers::FlowConfig& flow, double dt, int steps,
                                      const Comm& comm, const std::function<void(solvers::NavierStokes&)>& after_step,
                                      int windows = 1, int refactor_every = 5) {
  solvers::NavierStokes ns(m, flow, comm, {refactor_every, 1e-8});
  for (int k = 0; k < 10; ++k) ns.step(dt);
  SolverTiming t;
  t.dofs = ns.num_dofs();
  int its = 0;
  std::vector<double> ms;
  windows = std::max(windows, 1);
  for (int w = 0; w < windows; ++w) {
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < steps; ++k) {
      its += ns.step(dt).linear_iterations;
      after_step(ns);
    }
    comm.barrier();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / steps);
  }
  t.ms_per_step = median(ms);
  t.its_per_step = double(its) / (double(steps) * windows);
  return t;
}

}  // namespace tessera::bench
