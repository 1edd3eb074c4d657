#include "train/stagger/rollout.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <string>
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
  // In fp64: a blown-up fp32 state (|w| ~ 1e18) overflowed its squares' sum to inf, although the
  // state itself was finite. (The rollout hands over a chunk of steps at a time, so the fp64
  // copies stay small.)
  const at::Tensor a64 = a.to(at::kDouble), b64 = b.to(at::kDouble);
  return at::sqrt((a64 - b64).square().sum({-2, -1}) / b64.square().sum({-2, -1}));
}

void BlowUp::update(const at::Tensor& predicted, const at::Tensor& error, int64_t before) {
  const auto first = [&](const at::Tensor& flags) {  // 1-based step of the first true flag, or 0
    const at::Tensor at = flags.nonzero();
    return at.numel() ? before + at[0][0].item<int64_t>() + 1 : int64_t{0};
  };
  if (!large_) large_ = first((error > 10).logical_or(error.isnan()).any(1));
  if (!broken_) broken_ = first(predicted.isfinite().flatten(1).all(1).logical_not());
}

std::string BlowUp::warning(double dt) const {
  if (!large_ && !broken_) return "";
  std::string where;
  if (large_) where = cat("its relative error passes 10 at step ", large_, " (t = ", double(large_) * dt, ")");
  if (broken_)
    where += cat(large_ ? ", and its " : "its ", "state is not finite from step ", broken_,
                 " (t = ", double(broken_) * dt, ")");
  return cat("the model's rollout blew up: ", where,
             "; the errors and fields after it are those of a diverged state (a model trained longer, or a shorter "
             "rollout.steps)");
}

std::string blow_up_warning(const at::Tensor& predicted, const at::Tensor& error, double dt) {
  BlowUp b;
  b.update(predicted, error, 0);
  return b.warning(dt);
}

physics::SpectralVorticitySolver reference_solver(const StaggerOptions& o) {
  return physics::SpectralVorticitySolver(physics::PeriodicGrid(o.n), o.physics, o.reference_dt);
}

}  // namespace tessera::train::stagger
