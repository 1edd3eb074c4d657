#include "physics/flow_statistics.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.hpp"

namespace tessera::physics {

void RandomVorticityOptions::validate() const {
  if (!(peak_wavenumber > 0) || !std::isfinite(peak_wavenumber))
    throw Error(cat("random vorticity: the peak wavenumber must be > 0, got ", peak_wavenumber));
  if (!(rms > 0) || !std::isfinite(rms)) throw Error(cat("random vorticity: the rms must be > 0, got ", rms));
}

at::Tensor random_vorticity(const PeriodicGrid& grid, const RandomVorticityOptions& o, int64_t batch, uint64_t seed) {
  o.validate();
  if (batch < 1) throw Error(cat("random vorticity: batch must be >= 1, got ", batch));
  const int64_t n = grid.n();
  const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);
  // Integer wavenumber magnitudes on the rfft2 spectrum (the box is scaled out: shape only).
  const double scale = grid.length() / (2 * std::numbers::pi);
  const at::Tensor k = at::sqrt(grid.kx(f64).square() + grid.ky(f64).square()) * scale;
  const at::Tensor q = k / o.peak_wavenumber;
  // A shell of radius k holds about 2πk modes and E(k) sums ½|û|² over it, so |û|² ∝ E(k)/k per
  // mode; with |ω̂| = k|û| that is |ω̂|² ∝ k E(k).
  const at::Tensor amplitude = at::sqrt(k * q.pow(4) * at::exp(-2 * q.square())) * grid.dealias_mask(f64);
  // Field by field, each one's real then imaginary parts: field i is then the same for any batch
  // of more than i fields. (All real parts, then all imaginary ones, made every field, the first
  // too, depend on the batch: a rollout of 4 states did not contain the 2 of a rollout of 2; a
  // review found it, 2026-12-07. A batch of one is drawn as before.)
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<at::Tensor> spectra;
  for (int64_t b = 0; b < batch; ++b) {
    const at::Tensor re = at::normal(0.0, 1.0, {n, n / 2 + 1}, gen, f64);
    const at::Tensor im = at::normal(0.0, 1.0, {n, n / 2 + 1}, gen, f64);
    spectra.push_back(at::complex(re, im));
  }
  at::Tensor w = at::fft_irfft2(at::stack(spectra) * amplitude, at::IntArrayRef{n, n}, {-2, -1});
  w = w - w.mean({-2, -1}, true);
  const at::Tensor rms = at::sqrt(w.square().mean({-2, -1}, true));
  return w * (o.rms / rms);
}

at::Tensor taylor_green_vorticity(const PeriodicGrid& grid, int64_t k, double nu, double drag, double t,
                                  const at::TensorOptions& o) {
  const double kk = static_cast<double>(k) * 2 * std::numbers::pi / grid.length();
  const double decay = std::exp(-(2 * nu * kk * kk + drag) * t);
  return 2 * kk * kk * decay * at::cos(kk * grid.x(o)) * at::cos(kk * grid.y(o));
}

at::Tensor kinetic_energy(const PeriodicGrid& grid, const at::Tensor& w) {
  const Velocity v = grid.velocity(w);
  return 0.5 * (v.u.square() + v.v.square()).mean({-2, -1});
}

at::Tensor enstrophy(const at::Tensor& w) { return 0.5 * w.square().mean({-2, -1}); }

at::Tensor energy_spectrum(const PeriodicGrid& grid, const at::Tensor& w) {
  grid.check_field(w, "vorticity");
  const int64_t n = grid.n();
  const at::TensorOptions o = w.options().requires_grad(false);
  const at::Tensor k2 = grid.kx(o).square() + grid.ky(o).square();
  const at::Tensor wh = at::fft_rfft2(w) / static_cast<double>(n * n);  // Fourier coefficients
  // ½|û|² = ½|ω̂|²/|k|²; the rfft half-plane counts the columns 1 .. N/2 − 1 twice (their conjugates).
  at::Tensor density =
      0.5 * at::where(k2 > 0, wh.abs().square() / at::where(k2 > 0, k2, at::ones_like(k2)), at::zeros_like(k2));
  at::Tensor weight = at::full({1, n / 2 + 1}, 2.0, o);
  weight.select(1, 0).fill_(1);
  weight.select(1, n / 2).fill_(1);
  density = density * weight;
  const double scale = grid.length() / (2 * std::numbers::pi);
  const at::Tensor shell = at::round(at::sqrt(k2) * scale).to(at::kLong).clamp_max(n / 2).reshape({-1});
  const at::Tensor flat = density.reshape({-1, n * (n / 2 + 1)});
  at::Tensor spectrum = at::zeros({flat.size(0), n / 2 + 1}, o);
  spectrum.index_add_(1, shell, flat);
  std::vector<int64_t> shape(w.sizes().begin(), w.sizes().end() - 2);
  shape.push_back(n / 2 + 1);
  return spectrum.reshape(shape);
}

}  // namespace tessera::physics
