// Rollouts of a NeuralStagger model and of the spectral reference, and the relative L2 error
// between them: shared by validation, tessera-rollout and bench/bench_stagger.
#pragma once
#include <ATen/core/Tensor.h>

#include "core/comm.hpp"
#include "core/progress.hpp"
#include "physics/spectral_vorticity_solver.hpp"
#include "train/stagger/model.hpp"

namespace tessera::train::stagger {

// The model's states at steps 1..steps from w0 [B, N, N]: [steps, B, N, N] (no autograd; rounds
// of T steps, the solvers spread over `comm`; the last round is cut at `steps`). `progress`, if
// given, advances by the steps of each round.
at::Tensor model_rollout(const StaggerModel& model, const at::Tensor& w0, int64_t steps, const Comm& comm,
                         core::Progress* progress = nullptr);
// The reference solver's states at t = k ∆t, k = 1..steps: [steps, B, N, N]. `progress`, if given,
// advances by one per step.
at::Tensor reference_rollout(const physics::SpectralVorticitySolver& solver, const at::Tensor& w0, int64_t steps,
                             double dt, core::Progress* progress = nullptr);
// ‖a − b‖ / ‖b‖ per leading index, in fp64 (a blown-up fp32 state's squares overflow fp32).
at::Tensor relative_l2(const at::Tensor& a, const at::Tensor& b);

// "" for a rollout that stayed bounded; else a warning naming the first step where the relative
// error (`error` [steps, states]) passes 10 (1000 %) or is NaN, and the first where a state of
// `predicted` [steps, ...] is not finite. A rollout that blows up is a result, not an error, but
// it ended with inf and NaN errors in the CSV, exit 0 and not a word (a review found it, 2026-12-07).
std::string blow_up_warning(const at::Tensor& predicted, const at::Tensor& error, double dt);
// The same for a rollout seen a chunk of steps at a time.
class BlowUp {
 public:
  // The chunk's states [n, ...] and errors [n, states], its first step being `before` + 1.
  void update(const at::Tensor& predicted, const at::Tensor& error, int64_t before);
  std::string warning(double dt) const;  // blow_up_warning's

 private:
  int64_t large_ = 0, broken_ = 0;  // 1-based steps, 0: none yet
};
// The spectral reference solver of the model's physics.
physics::SpectralVorticitySolver reference_solver(const StaggerOptions& options);

}  // namespace tessera::train::stagger
