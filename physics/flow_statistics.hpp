// Initial fields and diagnostics for 2D periodic vorticity fields (periodic_grid.hpp):
// seeded Gaussian random vorticity of a given energy spectrum (the random initial states that
// NeuralStagger trains from and is tested on), the Taylor–Green vortex (an exact solution), and
// kinetic energy, enstrophy and the shell-summed energy spectrum.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "physics/periodic_grid.hpp"

namespace tessera::physics {

struct RandomVorticityOptions {
  // Energy spectrum E(k) ∝ (k/k_p)^4 exp(−2 (k/k_p)²), which peaks at k = k_p (integer
  // wavenumbers, box 2π); modes outside the 2/3 mask are zero, and so is the mean.
  double peak_wavenumber = 4;
  double rms = 1;  // root-mean-square vorticity of each sample
  // Throws tessera::Error for a peak <= 0 or rms <= 0.
  void validate() const;
};

// `batch` independent fields [batch, N, N], double on the CPU, from `seed` (same seed, same fields
// on every machine: drawn by libtorch's CPU generator). Field i depends on the seed and i alone
// (the same in any batch of more than i fields).
at::Tensor random_vorticity(const PeriodicGrid& grid, const RandomVorticityOptions& options, int64_t batch,
                            uint64_t seed);

// The Taylor–Green vortex ω = 2k² cos(kx) cos(ky) e^{−(2νk² + α)t} (velocity amplitude k, box 2π);
// its advection term vanishes, so it is an exact solution of the forced-free equation.
at::Tensor taylor_green_vorticity(const PeriodicGrid& grid, int64_t k, double nu, double drag, double t,
                                  const at::TensorOptions& options = at::kDouble);

// ½ mean(u² + v²) over the grid, per leading index ([...]).
at::Tensor kinetic_energy(const PeriodicGrid& grid, const at::Tensor& w);
// ½ mean(ω²), per leading index.
at::Tensor enstrophy(const at::Tensor& w);
// E(k) for integer shells k = 0 .. N/2 (|k| rounded to the nearest integer), [..., N/2 + 1];
// sums to kinetic_energy.
at::Tensor energy_spectrum(const PeriodicGrid& grid, const at::Tensor& w);

}  // namespace tessera::physics
