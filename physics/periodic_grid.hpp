// Operators on periodic 2D fields on the square [0, L)² sampled on an N×N grid, as NeuralStagger's
// physics loss needs them (docs/references.md §9: 2D incompressible Navier–Stokes in vorticity
// form, ω_t + u·∇ω = ν∆ω + f, on periodic N×N grids).
//
// Layout: a field is [..., N, N] with f[..., i, j] = f(x_i, y_j), x_i = i h, y_j = j h, h = L / N
// (the "ij" meshgrid of jax-cfd); leading dimensions are batch. Every operator is made of
// differentiable torch ops, on any device and floating dtype.
//
// Discretisations:
//   spectral — through at::fft_rfft2 / at::fft_irfft2 (exact for band-limited fields). First
//     derivatives drop the Nyquist mode (its derivative is not real on the grid); the inverse
//     Laplacian returns the zero-mean solution. 2/3 dealiasing keeps |k_x|, |k_y| < N/3 (integer
//     wavenumbers), so a quadratic product of kept modes cannot alias onto a kept mode.
//   finite differences — second-order central differences through at::roll; the matching Poisson
//     solve (for the stream function) inverts the 5-point Laplacian exactly with its FFT
//     eigenvalues −(4/h²)(sin²(k_x h/2) + sin²(k_y h/2)).
// Velocity from vorticity: ∆ψ = −ω, u = ∂y ψ, v = −∂x ψ.
#pragma once
#include <ATen/core/Tensor.h>

#include <numbers>

namespace tessera::physics {

enum class Discretization { Spectral, FiniteDifference };

struct Velocity {
  at::Tensor u, v;  // x and y components, each [..., N, N]
};

// The spectral factors of one grid for one real dtype and device, on the rfft2 spectrum
// [N, N/2 + 1]: i·k_x and i·k_y without their Nyquist entries, |k|², 1/|k|² (0 for the zero
// mode) and the 2/3-rule mask. Built once by a caller that steps many times (the reference solver).
struct SpectralFactors {
  at::Tensor ikx, iky, k2, inv_k2, mask;
};

// The options of a field's real dtype (float for complex float, ...), without requires_grad: what
// the wavenumbers and factors of its spectrum are built with.
at::TensorOptions real_options(const at::Tensor& field);

class PeriodicGrid {
 public:
  // n: points per side, even and >= 4; length: side L of the square.
  explicit PeriodicGrid(int64_t n, double length = 2 * std::numbers::pi);

  int64_t n() const { return n_; }
  double length() const { return length_; }
  double spacing() const { return length_ / static_cast<double>(n_); }
  // Node coordinates X[i, j] = x_i, Y[i, j] = y_j, each [N, N].
  at::Tensor x(const at::TensorOptions& options = at::kDouble) const;
  at::Tensor y(const at::TensorOptions& options = at::kDouble) const;
  // Angular wavenumbers (2π/L)·k: along x [N, 1] in FFT order, along y [1, N/2 + 1] (rfft order).
  at::Tensor kx(const at::TensorOptions& options = at::kDouble) const;
  at::Tensor ky(const at::TensorOptions& options = at::kDouble) const;
  // The 2/3-rule mask on the rfft2 spectrum, [N, N/2 + 1] of 0/1.
  at::Tensor dealias_mask(const at::TensorOptions& options = at::kDouble) const;

  // Spectral operators.
  at::Tensor dx(const at::Tensor& f) const;
  at::Tensor dy(const at::Tensor& f) const;
  at::Tensor laplacian(const at::Tensor& f) const;
  // ψ with ∆ψ = f − mean(f) and mean(ψ) = 0.
  at::Tensor inverse_laplacian(const at::Tensor& f) const;
  // Zeroes the modes outside the 2/3 mask.
  at::Tensor dealias(const at::Tensor& f) const;
  // The factors for fields of `real` dtype and device (see SpectralFactors).
  SpectralFactors spectral_factors(const at::TensorOptions& real) const;
  // The spectrum of the advection term u·∇ω from the spectrum ŵ of ω (rfft2 layout), u from the
  // spectral Poisson solve. With `dealias`, the factors come from the 2/3-truncated spectrum and
  // the product's spectrum is truncated again, so no quadratic alias reaches a kept mode.
  at::Tensor advection_spectrum(const at::Tensor& w_hat, const SpectralFactors& f, bool dealias = true) const;

  // Second-order central finite differences.
  at::Tensor dx_fd(const at::Tensor& f) const;
  at::Tensor dy_fd(const at::Tensor& f) const;
  at::Tensor laplacian_fd(const at::Tensor& f) const;
  // ψ with ∆_h ψ = f − mean(f) (5-point Laplacian) and mean(ψ) = 0.
  at::Tensor inverse_laplacian_fd(const at::Tensor& f) const;

  // (u, v) = (∂y ψ, −∂x ψ) with ∆ψ = −ω, in the given discretisation.
  Velocity velocity(const at::Tensor& w, Discretization d = Discretization::Spectral) const;
  // −u·∇ω + ν∆ω + f of the vorticity equation. forcing: undefined (none) or broadcastable to w.
  // Spectral: the advection term is formed in physical space from spectral derivatives and, when
  // dealias is set, its spectrum is truncated by the 2/3 mask. Finite differences: central
  // differences throughout (dealias is ignored).
  at::Tensor vorticity_rhs(const at::Tensor& w, double nu, const at::Tensor& forcing = {},
                           Discretization d = Discretization::Spectral, bool dealias = true) const;

  // Throws tessera::Error unless f is a floating [..., N, N] field of this grid.
  void check_field(const at::Tensor& f, const char* what) const;

 private:
  at::Tensor rfft(const at::Tensor& f, const char* what) const;
  at::Tensor irfft(const at::Tensor& fh) const;

  int64_t n_;
  double length_;
};

}  // namespace tessera::physics
