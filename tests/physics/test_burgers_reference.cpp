// Burgers references (physics/burgers_reference.hpp) against each other and against published and
// structural facts: Cole–Hopf (quadrature) vs the pseudo-spectral integrator at small times, the
// maximum-slope benchmark of Basdevant et al. (1986), conservation of the mean, and the step-doubling
// error estimate bounding the true time error.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "core/error.hpp"
#include "physics/burgers_reference.hpp"
#include "tests/physics/constants.hpp"

using namespace tessera;
using namespace tessera::physics;

namespace {

using test::f64;
using test::pi;

at::Tensor grid(int64_t n) { return at::arange(n, f64) * (2 * pi / double(n)); }

}  // namespace

TEST_CASE("Cole–Hopf and the pseudo-spectral integrator agree at small times", "[burgers]") {
  const at::Tensor times = at::tensor({0.0, 0.05, 0.1, 0.2, 0.3}, f64);
  for (double nu : {0.1, 0.01}) {
    const at::Tensor x = grid(512);
    const at::Tensor exact = burgers_cole_hopf(nu, 0.0, times, x);
    const SpectralBurgers s = burgers_spectral(nu, at::sin(x), times, 2e-3);
    const double diff = (exact - s.u).abs().max().item<double>();
    INFO("nu " << nu << ": max difference " << diff << ", time-error estimate " << s.time_error << ", tail "
               << s.spectral_tail);
    CHECK(diff < 1e-9);
    CHECK(s.time_error < 1e-9);
    CHECK(s.spectral_tail < 1e-12);
  }
  // With the offset C the solution travels at speed C (Galilean shift inside Cole–Hopf; the
  // integrator sees the plain initial condition sin x + C).
  const double C = 1.5, nu = 0.05;
  const at::Tensor x = grid(256);
  const at::Tensor exact = burgers_cole_hopf(nu, C, times, x);
  const SpectralBurgers s = burgers_spectral(nu, at::sin(x) + C, times, 1e-3);
  CHECK((exact - s.u).abs().max().item<double>() < 1e-9);
  // ... and is not the unshifted solution.
  CHECK((exact - burgers_cole_hopf(nu, 0.0, times, x) - C).abs().max().item<double>() > 0.1);
}

TEST_CASE("Cole–Hopf reproduces the maximum slope of Basdevant et al. (1986)", "[burgers]") {
  // u_t + u u_x = (0.01/π) u_xx on [−1, 1], u0 = −sin(πx): the slope at x = 0 is steepest,
  // u_x = −152.00516, at t = 1.6037/π. With X = πx + π, T = πt this is our problem with ν = 0.01 at
  // T = 1.6037, and u_X = u_x / π at X = π.
  const double h = 1e-5;
  const at::Tensor x = at::tensor({pi - h, pi + h}, f64);
  const at::Tensor u = burgers_cole_hopf(0.01, 0.0, at::tensor({1.6037}, f64), x);
  const double slope = (u[0][1] - u[0][0]).item<double>() / (2 * h);
  CHECK(slope == Approx(-152.00516 / pi).epsilon(1e-5));
}

TEST_CASE("Cole–Hopf conserves the mean and has the initial condition at t = 0", "[burgers]") {
  const at::Tensor x = grid(256);
  const at::Tensor u = burgers_cole_hopf(0.01, 2.0, at::tensor({0.0, 0.5, 1.0}, f64), x);
  CHECK((u[0] - at::sin(x) - 2.0).abs().max().item<double>() < 1e-15);
  for (int k = 0; k < 3; ++k) CHECK(u[k].mean().item<double>() == Approx(2.0).epsilon(0).margin(1e-10));
  // A front steepens towards t = 1 (the inviscid solution breaks at t = 1): neighbours differ by
  // ~10 times more than at t = 0.
  CHECK((u[2].roll(-1) - u[2]).abs().max().item<double>() > 0.2);
  CHECK_THROWS_AS(burgers_cole_hopf(0.0, 0.0, at::tensor({1.0}, f64), x), Error);
}

TEST_CASE("the step-doubling estimate bounds the time error of the spectral integrator", "[burgers]") {
  const at::Tensor x = grid(128);
  const at::Tensor times = at::tensor({0.4}, f64);
  const at::Tensor exact = burgers_cole_hopf(0.1, 0.0, times, x);
  const SpectralBurgers coarse = burgers_spectral(0.1, at::sin(x), times, 0.1);
  const SpectralBurgers fine = burgers_spectral(0.1, at::sin(x), times, 0.05);
  const double err_coarse = (coarse.u - exact).abs().max().item<double>();
  const double err_fine = (fine.u - exact).abs().max().item<double>();
  INFO("errors " << err_coarse << ", " << err_fine << "; estimates " << coarse.time_error << ", " << fine.time_error);
  CHECK(err_coarse > 1e-9);  // the step is large enough to show a time error
  CHECK(err_coarse < 3 * coarse.time_error);
  CHECK(err_coarse > coarse.time_error / 3);
  CHECK(err_coarse / err_fine == Approx(16).epsilon(0.3));  // fourth order
  CHECK_THROWS_AS(burgers_spectral(0.1, at::sin(grid(7)), times, 0.1), Error);
  // A step far above the advective limit (C = 70: about 4.6e-4 on 256 points) is an error naming
  // the limit, not NaN figures.
  CHECK_THROWS_WITH(burgers_spectral(0.01, at::sin(grid(256)) + 70, at::tensor({0.5}, f64), 0.01),
                    Catch::Contains("blew up") && Catch::Contains("= 0.00046"));
  // Within it the same case integrates (the check does not refuse a stable step).
  CHECK(burgers_spectral(0.01, at::sin(grid(256)) + 70, at::tensor({0.01}, f64), 1e-4).u.isfinite().all().item<bool>());
}
