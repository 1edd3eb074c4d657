#include "physics/spectral_vorticity_solver.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.hpp"

namespace tessera::physics {

SpectralVorticitySolver::SpectralVorticitySolver(const PeriodicGrid& grid, const VorticityStepOptions& options,
                                                 double max_dt)
    : grid_(grid), options_(options), max_dt_(max_dt) {
  options_.validate();
  if (!(max_dt > 0) || !std::isfinite(max_dt))
    throw Error(cat("spectral solver: the internal time step must be > 0, got ", max_dt));
}

int64_t SpectralVorticitySolver::substeps(double duration) const {
  if (!(duration >= 0) || !std::isfinite(duration))
    throw Error(cat("spectral solver: duration must be >= 0, got ", duration));
  return static_cast<int64_t>(std::ceil(duration / max_dt_ - 1e-12));
}

const SpectralVorticitySolver::Factors& SpectralVorticitySolver::factors(const at::TensorOptions& o) const {
  if (cached_.linear.defined() && cached_.linear.dtype() == o.dtype() && cached_.linear.device() == o.device())
    return cached_;
  Factors f;
  f.grid = grid_.spectral_factors(o);
  f.linear = -(options_.nu * f.grid.k2 + options_.drag);
  if (options_.forcing) f.forcing_hat = at::fft_rfft2(kolmogorov_forcing(grid_, *options_.forcing, o));
  cached_ = f;
  return cached_;
}

at::Tensor SpectralVorticitySolver::nonlinear(const at::Tensor& w_hat, const Factors& f) const {
  const at::Tensor nl = -grid_.advection_spectrum(w_hat, f.grid, /*dealias=*/true);
  return f.forcing_hat.defined() ? nl + f.forcing_hat : nl;
}

at::Tensor SpectralVorticitySolver::step_spectrum(const at::Tensor& w_hat, double h) const {
  const Factors& f = factors(real_options(w_hat));
  const at::Tensor e = at::exp(f.linear * (h / 2)), e2 = e.square();
  // IFRK4 (Trefethen, kdv.m): the linear factor is applied exactly between the stages.
  const at::Tensor k1 = h * nonlinear(w_hat, f);
  const at::Tensor k2 = h * nonlinear(e * (w_hat + k1 / 2), f);
  const at::Tensor k3 = h * nonlinear(e * w_hat + k2 / 2, f);
  const at::Tensor k4 = h * nonlinear(e2 * w_hat + e * k3, f);
  return e2 * w_hat + (e2 * k1 + 2 * e * (k2 + k3) + k4) / 6;
}

at::Tensor SpectralVorticitySolver::advance(const at::Tensor& w, double duration) const {
  grid_.check_field(w, "vorticity");
  const int64_t steps = substeps(duration);
  if (steps == 0) return w.clone();
  const double h = duration / static_cast<double>(steps);
  at::Tensor w_hat = at::fft_rfft2(w);
  for (int64_t i = 0; i < steps; ++i) w_hat = step_spectrum(w_hat, h);
  return at::fft_irfft2(w_hat, at::IntArrayRef{grid_.n(), grid_.n()}, {-2, -1});
}

}  // namespace tessera::physics
