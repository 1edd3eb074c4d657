// The pseudo-spectral reference solver of 2D incompressible Navier–Stokes in vorticity form on a
// periodic N×N grid,
//   ω_t + u·∇ω = ν∆ω − αω + f,   ∆ψ = −ω, (u, v) = (∂y ψ, −∂x ψ),
// the ground truth and numerical baseline of the NeuralStagger family (docs/neuralstagger.md,
// docs/references.md §9).
//
// Space: Fourier (rfft2 through libtorch); the advection term is formed in physical space from the
// 2/3-truncated spectrum and truncated again (no aliasing). Time: fourth-order Runge–Kutta with an
// integrating factor (IFRK4; Cox & Matthews 2002, Trefethen's "Spectral Methods in MATLAB"): the
// linear part −(ν|k|² + α) is integrated exactly, RK4 handles advection and forcing, so the viscous
// stiffness puts no limit on the step and a field with no advection (Taylor–Green) decays exactly.
// Batched over leading dimensions; differentiable (it is plain torch ops), on any device.
#pragma once
#include <ATen/core/Tensor.h>

#include "physics/periodic_grid.hpp"
#include "physics/vorticity_residual.hpp"

namespace tessera::physics {

class SpectralVorticitySolver {
 public:
  // nu, drag and forcing are taken from `options` (its dt and θ are the neural step's, not ours);
  // `max_dt` caps the internal RK4 step: advance() subdivides longer intervals evenly.
  SpectralVorticitySolver(const PeriodicGrid& grid, const VorticityStepOptions& options, double max_dt);

  // ω after time `duration` from ω [..., N, N] (the zero mode is kept; forcing has none).
  at::Tensor advance(const at::Tensor& w, double duration) const;
  // One IFRK4 step of length h on the spectrum ŵ (rfft2 layout); exposed for the convergence test.
  at::Tensor step_spectrum(const at::Tensor& w_hat, double h) const;
  // Internal steps advance() takes for `duration`.
  int64_t substeps(double duration) const;

  const PeriodicGrid& grid() const { return grid_; }

 private:
  // The spectral factors every step uses, built once per real dtype and device.
  struct Factors {
    SpectralFactors grid;
    at::Tensor linear, forcing_hat;  // linear: −(ν|k|² + α)
  };
  const Factors& factors(const at::TensorOptions& real) const;
  at::Tensor nonlinear(const at::Tensor& w_hat, const Factors& f) const;  // FFT of −u·∇ω + f, dealiased

  PeriodicGrid grid_;
  VorticityStepOptions options_;
  double max_dt_;
  mutable Factors cached_;
};

}  // namespace tessera::physics
