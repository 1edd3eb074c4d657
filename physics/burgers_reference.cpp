#include "physics/burgers_reference.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"

namespace tessera::physics {
namespace {

const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kCPU, at::kDouble).contiguous().reshape(-1);
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// The Fourier-collocation right-hand side −½ ∂x(u²) of the dealiased spectrum û (rfft layout).
struct Spectral {
  int64_t n;
  at::Tensor ik, mask;  // i k and the 2/3-rule mask, [n/2 + 1]
  explicit Spectral(int64_t n_) : n(n_) {
    at::Tensor k = at::arange(n / 2 + 1, f64);
    ik = at::complex(at::zeros_like(k), k);
    mask = (k < double(n) / 3.0).to(at::kDouble);
  }
  at::Tensor nonlinear(const at::Tensor& uh) const {
    const at::Tensor u = at::fft_irfft(uh * mask, n);
    return -0.5 * ik * at::fft_rfft(u * u) * mask;
  }
};

// Lawson (integrating-factor) RK4 from û over the output times; returns [K, n] physical fields.
at::Tensor integrate(const Spectral& s, double nu, at::Tensor uh, const std::vector<double>& times, double t0,
                     double dt_max) {
  const at::Tensor k2 = at::arange(s.n / 2 + 1, f64).pow(2);
  std::vector<at::Tensor> out;
  double t = t0;
  for (double target : times) {
    const double span = target - t;
    if (span > 0) {
      const int64_t steps = static_cast<int64_t>(std::ceil(span / dt_max - 1e-12));
      const double dt = span / double(steps);
      const at::Tensor e_half = at::exp(-nu * k2 * (dt / 2)), e_full = e_half * e_half;
      for (int64_t i = 0; i < steps; ++i) {
        const at::Tensor a = dt * s.nonlinear(uh);
        const at::Tensor b = dt * s.nonlinear(e_half * (uh + a / 2));
        const at::Tensor c = dt * s.nonlinear(e_half * uh + b / 2);
        const at::Tensor d = dt * s.nonlinear(e_full * uh + e_half * c);
        uh = e_full * uh + (e_full * a + 2 * e_half * (b + c) + d) / 6;
      }
      t = target;
    }
    out.push_back(at::fft_irfft(uh, s.n));
  }
  return at::stack(out);
}

}  // namespace

at::Tensor burgers_cole_hopf(double nu, double C, const at::Tensor& t, const at::Tensor& x, double step) {
  if (!(nu > 0)) throw Error(cat("Cole–Hopf reference: the viscosity must be > 0, got ", nu));
  if (!(step > 0)) throw Error(cat("Cole–Hopf reference: the quadrature step must be > 0, got ", step));
  const std::vector<double> times = to_vector(t);
  const at::Tensor xs = x.detach().to(at::kCPU, at::kDouble).reshape({-1, 1});
  // The integrand is bounded by e^{−η²} times weights whose largest value is at least e^{−1/ν}
  // (at η = 0), so |η| ≤ √(1/ν + 60) keeps everything above e^{−60} of the total.
  const double half = std::sqrt(1.0 / nu + 60.0);
  const int64_t q = 2 * static_cast<int64_t>(std::ceil(half / step)) + 1;
  const at::Tensor eta = at::linspace(-half, half, q, f64).reshape({1, -1});
  std::vector<at::Tensor> rows;
  for (double tk : times) {
    if (tk < 0) throw Error(cat("Cole–Hopf reference: negative time ", tk));
    if (tk == 0) {
      rows.push_back(at::sin(xs.reshape(-1)) + C);
      continue;
    }
    const double s = std::sqrt(4 * nu * tk);
    // Blocks of points: a fine grid's [M, Q] temporaries (2048 x 2531 doubles, 41 MB each) were
    // mapped and unmapped for every time, two thirds of an evaluation's run in the kernel.
    constexpr int64_t kPoints = 128;
    std::vector<at::Tensor> parts;
    for (int64_t i0 = 0; i0 < xs.size(0); i0 += kPoints) {
      const at::Tensor y = (xs.slice(0, i0, std::min(xs.size(0), i0 + kPoints)) - C * tk) - s * eta;  // [m, Q]
      const at::Tensor e = -eta * eta - (1 - at::cos(y)) / (2 * nu);
      const at::Tensor w = at::exp(e - std::get<0>(e.max(1, true)));
      parts.push_back(C + (s / tk) * (w * eta).sum(1) / w.sum(1));
    }
    rows.push_back(at::cat(parts));
  }
  return at::stack(rows);
}

SpectralBurgers burgers_spectral(double nu, const at::Tensor& u0, const at::Tensor& t, double dt) {
  if (nu < 0) throw Error(cat("spectral Burgers: the viscosity must be >= 0, got ", nu));
  if (!(dt > 0)) throw Error(cat("spectral Burgers: the time step must be > 0, got ", dt));
  const int64_t n = u0.numel();
  if (n < 4 || n % 2) throw Error(cat("spectral Burgers: needs an even number of points >= 4, got ", n));
  const std::vector<double> times = to_vector(t);
  for (size_t i = 0; i < times.size(); ++i)
    if (times[i] < 0 || (i > 0 && times[i] < times[i - 1]))
      throw Error("spectral Burgers: output times must be >= 0 and increasing");
  const Spectral s(n);
  const at::Tensor uh = at::fft_rfft(u0.detach().to(at::kCPU, at::kDouble).reshape(-1));
  const at::Tensor coarse = integrate(s, nu, uh, times, 0.0, dt);
  SpectralBurgers r;
  r.u = integrate(s, nu, uh, times, 0.0, dt / 2);
  // Explicit RK4 on the advection is stable for |λ| dt ≤ 2√2 with |λ| = k max|u| up to the largest
  // kept mode: a larger step gave NaN figures and no error (C = 70 at dt = 2e-4, N = 1024).
  if (!at::isfinite(coarse).all().item<bool>() || !at::isfinite(r.u).all().item<bool>()) {
    const double umax = u0.detach().abs().max().item<double>();
    throw Error(cat("spectral Burgers: the integration blew up (non-finite values) with time step ", dt, " on ", n,
                    " points; explicit RK4 on the advection needs a step below about 2.8 / (k_max max|u0|) = ",
                    2.8 / (((n + 2) / 3 - 1) * std::max(umax, 1e-300)), " here (k_max ", (n + 2) / 3 - 1, ", max|u0| ",
                    umax, ")"));
  }
  r.time_error = (coarse - r.u).abs().max().item<double>() / 15.0;
  const at::Tensor mag = at::fft_rfft(r.u, c10::nullopt, -1).abs();  // [K, n/2 + 1]
  const int64_t kept = (n + 2) / 3;                                  // modes k < n/3
  const int64_t top = std::max<int64_t>(1, kept / 6);
  const at::Tensor tail = mag.narrow(1, kept - top, top).amax(1) / mag.amax(1);
  r.spectral_tail = tail.max().item<double>();
  return r;
}

}  // namespace tessera::physics
