// Interpolation of a Lagrangian prediction back to the fixed grid (physics/lagrangian_grid.hpp)
// against the exact transported field: exact where the moving points land on grid points, within
// the linear-interpolation bound h²/8 max|f''| elsewhere, for far-travelled and shuffled points.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "core/error.hpp"
#include "physics/lagrangian_grid.hpp"
#include "tests/physics/constants.hpp"

using namespace tessera;
using namespace tessera::physics;

namespace {
using test::f64;
using test::pi;
}  // namespace

TEST_CASE("transported points are interpolated back to the grid", "[lagrangian]") {
  const int64_t n = 256;
  const double h = 2 * pi / n;
  const at::Tensor x0 = at::arange(n, f64) * h;
  const at::Tensor xg = x0.clone();
  // Speed 70 over t ∈ [0, 1]: points wrap around the period many times.
  const at::Tensor t = at::linspace(0, 1, 100, f64).reshape({-1, 1});
  const at::Tensor x_l = x0.reshape({1, -1}) + 70 * t;
  const at::Tensor u = at::sin(x0).reshape({1, -1}).expand({100, n});
  const at::Tensor g = lagrangian_to_grid(x_l, u, n);
  const at::Tensor exact = at::sin(xg.reshape({1, -1}) - 70 * t);
  const double err = (g - exact).abs().max().item<double>();
  CHECK(err < h * h / 8 * 1.0001);
  CHECK(err > h * h / 100);  // off-grid shifts do show the interpolation error
  // Shifts by whole grid spacings (and negative positions) are exact.
  const at::Tensor shifts = at::tensor({-3.0, 0.0, 5.0, 1000.0}, f64).reshape({-1, 1}) * h;
  const at::Tensor g2 = lagrangian_to_grid(x0.reshape({1, -1}) + shifts, u.narrow(0, 0, 4), n);
  CHECK((g2 - at::sin(xg.reshape({1, -1}) - shifts)).abs().max().item<double>() < 1e-9);
}

TEST_CASE("shuffled non-uniform points", "[lagrangian]") {
  at::manual_seed(3);
  const int64_t m = 300, n = 128;
  // Jittered points around a uniform grid, shuffled, shifted by whole periods at random.
  at::Tensor x = (at::arange(m, f64) + 0.45 * (2 * at::rand({m}, f64) - 1)) * (2 * pi / m);
  const at::Tensor perm = at::randperm(m, at::TensorOptions().dtype(at::kLong));
  x = x.index_select(0, perm) + 2 * pi * at::randint(-3, 4, {m}, f64);
  auto f = [](const at::Tensor& y) { return at::cos(2 * y) + 0.3 * at::sin(y); };
  const at::Tensor g = lagrangian_to_grid(x.reshape({1, -1}), f(x).reshape({1, -1}), n);
  const double hmax = 1.9 * 2 * pi / m;
  const at::Tensor xg = at::arange(n, f64) * (2 * pi / n);
  CHECK((g[0] - f(xg)).abs().max().item<double>() < hmax * hmax / 8 * 4.3);
  CHECK_THROWS_AS(lagrangian_to_grid(x.reshape({1, -1}), f(x).reshape({-1, 1}), n), Error);
}
