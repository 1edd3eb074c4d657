// The hybrid rollout: a trained surrogate advances K steps, then the PETSc Navier-Stokes solver
// takes over from the surrogate's state for M steps (NavierStokes::set_vertex_velocity: BDF1
// restart, linear edge midpoints), and the surrogate continues from the solver's state;
// repeated over the trajectory. The trigger (options.hpp) is fixed or the divergence indicator
// (indicator.hpp). Surrogate steps impose the true velocity on fixed nodes (inflow, walls) as in
// train::rollout; solver steps impose the solver's own boundary conditions.
//
// Collective over `comm` (the solver's communicator): rank 0 runs the surrogate and its state is
// shared with every rank, so all ranks hand the solver the same state.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <optional>
#include <vector>

#include "core/comm.hpp"
#include "core/error.hpp"
#include "solvers/navier_stokes.hpp"
#include "train/evaluate.hpp"
#include "train/hybrid/options.hpp"

namespace tessera::train::hybrid {

// One surrogate pass from the state before step `step` (0-based, [N, 2] float32 on the host): the
// states after steps step + 1 .. step + J, [J, N, 2] (or [N, 2] for J = 1), boundary values
// already imposed. hybrid_rollout takes them in order while the schedule lets the surrogate run
// and drops the rest when the solver takes over, so a bundling model (model.bundle) pays one
// forward pass per J steps here as in train::rollout.
using SurrogateStep = std::function<at::Tensor(const at::Tensor& state, int64_t step)>;

// train::rollout's pass: predict_bundle on `on_device` (the trajectory on the model's device),
// then the true velocity on fixed nodes; J = model.bundle(), fewer at the trajectory's end.
SurrogateStep model_step(Simulator& model, const Normalizers& norms, const TrajectoryData& on_device);

struct HybridResult {
  Rollout rollout;                // predicted states 0..steps, RMSE and persistence per step
  std::vector<char> by_solver;    // per step 1..steps: taken by the solver
  std::vector<double> indicator;  // per step: divergence indicator of the state after it
  // per step: the indicator of the surrogate's state for it, kept or rejected (why the divergence
  // trigger gave the step to the solver); NaN where the schedule gave it to the solver
  std::vector<double> surrogate_indicator;
  int64_t rejected = 0;                                           // surrogate steps rejected by the divergence trigger
  double surrogate_seconds = 0, solver_seconds = 0, seconds = 0;  // wall time (max over ranks)
  // Why the run ended before its last step (the solver's step failed, or the surrogate's state
  // could not be handed over): the fields above hold the steps before it, so that the caller can
  // write them and then report this error.
  std::optional<Error> stopped_by;
  int64_t solver_steps() const;
  double solver_fraction() const;
};

// Rolls `truth` (whole, on the host, with its velocity series) out for `steps` steps of `dt`
// from its first state. `solver` is built on truth.mesh with the trajectory's fluid and inflow.
// Pass an empty `surrogate` only with a schedule that never calls it (K = 0, trigger fixed).
// `on_step`, when given, is called after each step (a progress line). A failure of the solver's
// step or of the hand-over ends the run early with `stopped_by` set rather than throwing.
HybridResult hybrid_rollout(const Schedule& schedule, const SurrogateStep& surrogate, solvers::NavierStokes& solver,
                            const TrajectoryData& truth, int64_t steps, double dt, const Comm& comm = Comm::self(),
                            const std::function<void()>& on_step = {});

}  // namespace tessera::train::hybrid
