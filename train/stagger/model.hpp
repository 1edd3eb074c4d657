// The NeuralStagger model (docs/neuralstagger.md): s²·T coarse solvers that together advance a
// periodic N×N vorticity field by T neural steps.
//
// Input: every solver sees the whole state at time t, staggered into s² coarse channels per field
// (ω, and optionally the velocity (u, v) computed spectrally from ω, and the forcing), each
// scaled by a fixed normaliser. Output: solver g = τ·s² + p (τ = 0..T−1, p = i·s + j) predicts piece
// p (the points [i::s, j::s]) of the state at t + (τ+1)∆t, in residual form
//   ω_{t+τ+1}[p] = ω_t[p] + (τ + 1) ∆t · scale · net_g(features),
// so a fresh bank starts near persistence. The pieces of each τ interleave back into the full
// field, on which the physics loss is evaluated.
//
// Distributed inference: rank r runs a contiguous range of the solvers (as one grouped forward)
// and one allgather per round hands every rank all pieces; the assembled state is then known
// everywhere and the next round starts. Single-process and distributed rounds agree to rounding.
#pragma once
#include <ATen/core/Tensor.h>

#include <utility>

#include "core/comm.hpp"
#include "physics/periodic_grid.hpp"
#include "train/stagger/coarse_solvers.hpp"
#include "train/stagger/options.hpp"

namespace tessera::train::stagger {

// Fixed normalisers of inputs and outputs, measured once on random initial states (not data: the
// model's own input distribution) and stored with the parameters.
struct FeatureScales {
  double vorticity = 1, velocity = 1, forcing = 1, tendency = 1;
};

class StaggerModel {
 public:
  // Builds the bank (initialised from libtorch's global generator) for `options` on `tensor_options`.
  StaggerModel(const StaggerOptions& options, const FeatureScales& scales, const at::TensorOptions& tensor_options);

  // The features of states w [B, N, N]: [B, channels, N/s, N/s].
  at::Tensor features(const at::Tensor& w) const;
  // Pieces from solvers [first, last) for states w: [B, last − first, N/s, N/s] (residual form applied).
  at::Tensor solve(const at::Tensor& w, const at::Tensor& features, int64_t first, int64_t last) const;
  // All G pieces [B, G, n, n] -> the T predicted states [T, B, N, N].
  at::Tensor assemble(const at::Tensor& pieces) const;
  // One round on one process: the states at t + ∆t .. t + T∆t, [T, B, N, N]. Differentiable.
  at::Tensor forward(const at::Tensor& w) const;
  // One round with the solvers spread over `comm` (no autograd): same result as forward().
  at::Tensor forward_distributed(const at::Tensor& w, const Comm& comm) const;
  // The solver range [first, last) of `rank` among `ranks` (contiguous, sizes differ by ≤ 1).
  std::pair<int64_t, int64_t> solver_range(int rank, int ranks) const;

  const StaggerOptions& options() const { return options_; }
  const FeatureScales& scales() const { return scales_; }
  const physics::PeriodicGrid& grid() const { return grid_; }
  CoarseSolverBank& bank() { return bank_; }
  const CoarseSolverBank& bank() const { return bank_; }

 private:
  StaggerOptions options_;
  FeatureScales scales_;
  physics::PeriodicGrid grid_;
  at::Tensor forcing_pieces_;  // [1, s², n, n] scaled, or undefined
  CoarseSolverBank bank_;
};

// Input channels per coarse point for these options.
int64_t feature_channels(const StaggerOptions& options);
// Measures the normalisers on `samples` random initial states (seeded): rms of ω, |u|, f and of
// the right-hand side F(ω) of the vorticity equation.
FeatureScales measure_scales(const StaggerOptions& options, int64_t samples, uint64_t seed);

}  // namespace tessera::train::stagger
