#include "physics/periodic_grid.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.hpp"

namespace tessera::physics {

namespace {

// Integer wavenumbers in FFT order along a full axis: 0, 1, ..., N/2 − 1, −N/2, ..., −1.
at::Tensor fft_integers(int64_t n, const at::TensorOptions& o) {
  const at::Tensor k = at::arange(n, o);
  return at::where(k >= n / 2, k - n, k);
}

// Integer wavenumbers along the halved (rfft) axis: 0, ..., N/2.
at::Tensor rfft_integers(int64_t n, const at::TensorOptions& o) { return at::arange(n / 2 + 1, o); }

// i·k as a complex tensor.
at::Tensor times_i(const at::Tensor& k) { return at::complex(at::zeros_like(k), k); }

}  // namespace

at::TensorOptions real_options(const at::Tensor& field) {
  return field.options().dtype(at::toRealValueType(field.scalar_type())).requires_grad(false);
}

PeriodicGrid::PeriodicGrid(int64_t n, double length) : n_(n), length_(length) {
  if (n < 4 || n % 2) throw Error(cat("periodic grid: N must be even and >= 4, got ", n));
  if (!(length > 0) || !std::isfinite(length)) throw Error(cat("periodic grid: side length must be > 0, got ", length));
}

at::Tensor PeriodicGrid::x(const at::TensorOptions& o) const {
  return (at::arange(n_, o) * spacing()).view({-1, 1}).expand({n_, n_}).contiguous();
}

at::Tensor PeriodicGrid::y(const at::TensorOptions& o) const {
  return (at::arange(n_, o) * spacing()).view({1, -1}).expand({n_, n_}).contiguous();
}

at::Tensor PeriodicGrid::kx(const at::TensorOptions& o) const {
  return (fft_integers(n_, o) * (2 * std::numbers::pi / length_)).view({-1, 1});
}

at::Tensor PeriodicGrid::ky(const at::TensorOptions& o) const {
  return (rfft_integers(n_, o) * (2 * std::numbers::pi / length_)).view({1, -1});
}

at::Tensor PeriodicGrid::dealias_mask(const at::TensorOptions& o) const {
  // Keep |k| < N/3 on both axes, i.e. 3|k| < N in integers.
  const at::Tensor keep_x = (3 * fft_integers(n_, o.dtype(at::kLong)).abs() < n_).view({-1, 1});
  const at::Tensor keep_y = (3 * rfft_integers(n_, o.dtype(at::kLong)) < n_).view({1, -1});
  return at::logical_and(keep_x, keep_y).to(o.dtype());
}

void PeriodicGrid::check_field(const at::Tensor& f, const char* what) const {
  if (!f.defined()) throw Error(cat("periodic grid: ", what, " is undefined"));
  if (f.dim() < 2 || f.size(-1) != n_ || f.size(-2) != n_)
    throw Error(cat("periodic grid: ", what, " must be [..., ", n_, ", ", n_, "], got ", f.sizes()));
  if (!at::isFloatingType(f.scalar_type()))
    throw Error(cat("periodic grid: ", what, " must be floating point, got ", f.scalar_type()));
}

at::Tensor PeriodicGrid::rfft(const at::Tensor& f, const char* what) const {
  check_field(f, what);
  return at::fft_rfft2(f);
}

at::Tensor PeriodicGrid::irfft(const at::Tensor& fh) const {
  return at::fft_irfft2(fh, at::IntArrayRef{n_, n_}, {-2, -1});
}

// ---- spectral ---------------------------------------------------------------------------------

namespace {

// A first-derivative wavenumber without its Nyquist entry (index N/2 along the axis).
at::Tensor drop_nyquist(at::Tensor k, int64_t dim, int64_t n) {
  k = k.clone();
  k.select(dim, n / 2).zero_();
  return k;
}

}  // namespace

at::Tensor PeriodicGrid::dx(const at::Tensor& f) const {
  const at::Tensor fh = rfft(f, "field");
  return irfft(fh * times_i(drop_nyquist(kx(real_options(f)), 0, n_)));
}

at::Tensor PeriodicGrid::dy(const at::Tensor& f) const {
  const at::Tensor fh = rfft(f, "field");
  return irfft(fh * times_i(drop_nyquist(ky(real_options(f)), 1, n_)));
}

at::Tensor PeriodicGrid::laplacian(const at::Tensor& f) const {
  const at::Tensor fh = rfft(f, "field");
  const at::TensorOptions o = real_options(f);
  return irfft(fh * (-(kx(o).square() + ky(o).square())));
}

at::Tensor PeriodicGrid::inverse_laplacian(const at::Tensor& f) const {
  const at::Tensor fh = rfft(f, "field");
  const at::TensorOptions o = real_options(f);
  at::Tensor k2 = kx(o).square() + ky(o).square();
  at::Tensor inv = at::where(k2 > 0, -1.0 / at::where(k2 > 0, k2, at::ones_like(k2)), at::zeros_like(k2));
  return irfft(fh * inv);
}

at::Tensor PeriodicGrid::dealias(const at::Tensor& f) const {
  return irfft(rfft(f, "field") * dealias_mask(real_options(f)));
}

// ---- finite differences -----------------------------------------------------------------------

at::Tensor PeriodicGrid::dx_fd(const at::Tensor& f) const {
  check_field(f, "field");
  // roll by −1 brings f[i + 1] to index i.
  return (at::roll(f, {-1}, {-2}) - at::roll(f, {1}, {-2})) / (2 * spacing());
}

at::Tensor PeriodicGrid::dy_fd(const at::Tensor& f) const {
  check_field(f, "field");
  return (at::roll(f, {-1}, {-1}) - at::roll(f, {1}, {-1})) / (2 * spacing());
}

at::Tensor PeriodicGrid::laplacian_fd(const at::Tensor& f) const {
  check_field(f, "field");
  const double h2 = spacing() * spacing();
  return (at::roll(f, {-1}, {-2}) + at::roll(f, {1}, {-2}) + at::roll(f, {-1}, {-1}) + at::roll(f, {1}, {-1}) - 4 * f) /
         h2;
}

namespace {

// Eigenvalues of the 5-point Laplacian on the rfft2 spectrum, [N, N/2 + 1]:
// −(4/h²)(sin²(π k_x / N) + sin²(π k_y / N)) for integer wavenumbers k.
at::Tensor fd_laplacian_symbol(int64_t n, double h, const at::TensorOptions& o) {
  const double a = std::numbers::pi / static_cast<double>(n);
  const at::Tensor sx = at::sin(a * fft_integers(n, o)).square().view({-1, 1});
  const at::Tensor sy = at::sin(a * rfft_integers(n, o)).square().view({1, -1});
  return -(4 / (h * h)) * (sx + sy);
}

// 1 / symbol with the zero mode mapped to 0 (the zero-mean solution).
at::Tensor inverse_symbol(const at::Tensor& s) {
  const at::Tensor nonzero = s != 0;
  return at::where(nonzero, 1.0 / at::where(nonzero, s, at::ones_like(s)), at::zeros_like(s));
}

}  // namespace

at::Tensor PeriodicGrid::inverse_laplacian_fd(const at::Tensor& f) const {
  const at::Tensor fh = rfft(f, "field");
  return irfft(fh * inverse_symbol(fd_laplacian_symbol(n_, spacing(), real_options(f))));
}

// ---- vorticity --------------------------------------------------------------------------------

SpectralFactors PeriodicGrid::spectral_factors(const at::TensorOptions& o) const {
  SpectralFactors f;
  const at::Tensor kxo = kx(o), kyo = ky(o);
  f.ikx = times_i(drop_nyquist(kxo, 0, n_));
  f.iky = times_i(drop_nyquist(kyo, 1, n_));
  f.k2 = kxo.square() + kyo.square();
  f.inv_k2 = inverse_symbol(f.k2);
  f.mask = dealias_mask(o);
  return f;
}

at::Tensor PeriodicGrid::advection_spectrum(const at::Tensor& w_hat, const SpectralFactors& f, bool dealias) const {
  const at::Tensor wt = dealias ? w_hat * f.mask : w_hat;
  const at::Tensor psih = wt * f.inv_k2;  // ∆ψ = −ω: ψ̂ = ω̂ / |k|²
  const at::Tensor u = irfft(psih * f.iky), v = irfft(-psih * f.ikx);
  const at::Tensor wx = irfft(wt * f.ikx), wy = irfft(wt * f.iky);
  const at::Tensor adv_h = at::fft_rfft2(u * wx + v * wy);
  return dealias ? adv_h * f.mask : adv_h;
}

Velocity PeriodicGrid::velocity(const at::Tensor& w, Discretization d) const {
  if (d == Discretization::FiniteDifference) {
    const at::Tensor psi = inverse_laplacian_fd(-w);
    return {dy_fd(psi), -dx_fd(psi)};
  }
  const at::Tensor wh = rfft(w, "vorticity");
  const at::TensorOptions o = real_options(w);
  const at::Tensor k2 = kx(o).square() + ky(o).square();
  const at::Tensor psih = wh * inverse_symbol(k2);  // ∆ψ = −ω: ψ̂ = ω̂ / |k|²
  return {irfft(psih * times_i(drop_nyquist(ky(o), 1, n_))), irfft(psih * times_i(-drop_nyquist(kx(o), 0, n_)))};
}

at::Tensor PeriodicGrid::vorticity_rhs(const at::Tensor& w, double nu, const at::Tensor& forcing, Discretization d,
                                       bool dealias) const {
  if (!std::isfinite(nu) || nu < 0) throw Error(cat("vorticity rhs: viscosity must be >= 0, got ", nu));
  at::Tensor rhs;
  if (d == Discretization::FiniteDifference) {
    const Velocity vel = velocity(w, d);
    rhs = -(vel.u * dx_fd(w) + vel.v * dy_fd(w)) + nu * laplacian_fd(w);
  } else {
    const at::Tensor wh = rfft(w, "vorticity");
    const SpectralFactors f = spectral_factors(real_options(w));
    rhs = irfft(-advection_spectrum(wh, f, dealias) - nu * f.k2 * wh);
  }
  if (forcing.defined()) rhs = rhs + forcing;
  return rhs;
}

}  // namespace tessera::physics
