#include "train/stagger/rollout.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <vector>

#include "core/counted.hpp"
#include "core/error.hpp"

namespace tessera::train::stagger {

at::Tensor model_rollout(const StaggerModel& model, const at::Tensor& w0, int64_t steps, const Comm& comm,
                         core::Progress* progress) {
  c10::InferenceMode inference;
  std::vector<at::Tensor> states;
  at::Tensor w = w0;
  while (static_cast<int64_t>(states.size()) < steps) {
    const at::Tensor round = model.forward_distributed(w, comm);  // [T, B, N, N]
    const size_t before = states.size();
    for (int64_t tau = 0; tau < round.size(0) && static_cast<int64_t>(states.size()) < steps; ++tau)
      states.push_back(round[tau]);
    if (progress) progress->advance(static_cast<int64_t>(states.size() - before));
    w = round[round.size(0) - 1];
  }
  return at::stack(states, 0);
}

at::Tensor reference_rollout(const physics::SpectralVorticitySolver& solver, const at::Tensor& w0, int64_t steps,
                             double dt, core::Progress* progress) {
  c10::InferenceMode inference;
  std::vector<at::Tensor> states;
  at::Tensor w = w0;
  for (int64_t k = 0; k < steps; ++k) {
    states.push_back(w = solver.advance(w, dt));
    // An unstable reference (a time step too large for the flow) gave NaN errors in the tables,
    // and the run ended normally.
    if (!at::isfinite(w).all().item<bool>())
      throw Error(cat("NeuralStagger reference: the spectral solver's state is not finite after ",
                      core::counted(k + 1, "step", "steps"), " of ", dt, " (",
                      core::counted(solver.substeps(dt), "internal step", "internal steps"),
                      " each): its time step is too "
                      "large for this flow; choose a smaller stagger.reference_dt (or stagger.dt)"));
    if (progress) progress->advance();
  }
  return at::stack(states, 0);
}

at::Tensor relative_l2(const at::Tensor& a, const at::Tensor& b) {
  return at::sqrt((a - b).square().sum({-2, -1}) / b.square().sum({-2, -1}));
}

physics::SpectralVorticitySolver reference_solver(const StaggerOptions& o) {
  return physics::SpectralVorticitySolver(physics::PeriodicGrid(o.n), o.physics, o.reference_dt);
}

}  // namespace tessera::train::stagger
