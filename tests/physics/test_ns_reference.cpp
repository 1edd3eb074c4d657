// The NeuralStagger physics against independent references (docs/neuralstagger.md): the
// pseudo-spectral IFRK4 solver against the exact Taylor–Green decay and the laminar Kolmogorov
// state, its fourth-order convergence in time, conservation of energy and enstrophy by the
// truncated inviscid equations, decay of both with viscosity, the energy spectrum against the
// kinetic energy (Parseval), random initial fields, the θ-scheme residual of the solver's own
// trajectory against a perturbed one, and the staggered split/merge round trip. All fp64.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "core/error.hpp"
#include "physics/flow_statistics.hpp"
#include "physics/spectral_vorticity_solver.hpp"
#include "physics/stagger.hpp"
#include "physics/vorticity_residual.hpp"

using namespace tessera;
using namespace tessera::physics;

namespace {

double max_abs(const at::Tensor& a) { return a.abs().max().item<double>(); }
double rel(const at::Tensor& a, const at::Tensor& b) {
  return std::sqrt((a - b).square().sum().item<double>() / b.square().sum().item<double>());
}

VorticityStepOptions flow(double nu, double drag = 0, bool forced = false) {
  VorticityStepOptions o;
  o.nu = nu;
  o.drag = drag;
  if (forced) o.forcing = KolmogorovForcing{1.0, 4};
  return o;
}

}  // namespace

TEST_CASE("the reference solver decays the Taylor-Green vortex exactly", "[physics][ns]") {
  const PeriodicGrid grid(32);
  for (const double drag : {0.0, 0.1}) {
    const SpectralVorticitySolver solver(grid, flow(0.05, drag), 0.1);
    const at::Tensor w0 = taylor_green_vorticity(grid, 2, 0.05, drag, 0.0);
    const at::Tensor w1 = solver.advance(w0, 1.0);
    CHECK(max_abs(w1 - taylor_green_vorticity(grid, 2, 0.05, drag, 1.0)) < 1e-11);
  }
}

TEST_CASE("the reference solver advects a two-shell vorticity at the closed-form rate", "[physics][ns]") {
  // ω = cos x + cos 2y has ∂ω/∂t = −u·∇ω = 1.5 sin x sin 2y without viscosity (test_physics derives
  // it), which the exact states above lack. A short step's difference quotient converges to it at
  // first order in the step; a wrong sign of the advection term would give −1.5 sin x sin 2y.
  const PeriodicGrid grid(32);
  const SpectralVorticitySolver solver(grid, flow(0.0), 0.01);
  const at::Tensor w0 = at::cos(grid.x()) + at::cos(2 * grid.y());
  const at::Tensor rate = 1.5 * at::sin(grid.x()) * at::sin(2 * grid.y());
  auto error = [&](double dt) { return max_abs((solver.advance(w0, dt) - w0) / dt - rate); };
  const double e1 = error(1e-3), e2 = error(5e-4);
  CHECK(e1 < 1e-2);
  CHECK(e1 / e2 == Approx(2.0).epsilon(0.05));
}

TEST_CASE("the laminar Kolmogorov flow is a steady state of the reference solver", "[physics][ns]") {
  const PeriodicGrid grid(32);
  const VorticityStepOptions o = flow(0.05, 0.1, true);
  const at::Tensor laminar = kolmogorov_forcing(grid, *o.forcing) / (o.nu * 16 + o.drag);
  const SpectralVorticitySolver solver(grid, o, 0.05);
  // No advection: only RK4's error on the (constant) forcing under the integrating factor remains.
  CHECK(max_abs(solver.advance(laminar, 2.0) - laminar) < 1e-7);
  // A perturbed state does change.
  CHECK(max_abs(solver.advance(laminar + 0.1 * taylor_green_vorticity(grid, 1, 0, 0, 0), 2.0) - laminar) > 1e-3);
}

TEST_CASE("IFRK4 converges at fourth order in time", "[physics][ns]") {
  const PeriodicGrid grid(32);
  const VorticityStepOptions o = flow(0.01, 0.1, true);
  const at::Tensor w0 = random_vorticity(grid, RandomVorticityOptions{3, 4}, 2, 7);
  const double T = 0.4;
  const at::Tensor fine = SpectralVorticitySolver(grid, o, T / 256).advance(w0, T);
  const double e1 = rel(SpectralVorticitySolver(grid, o, T / 8).advance(w0, T), fine);
  const double e2 = rel(SpectralVorticitySolver(grid, o, T / 16).advance(w0, T), fine);
  INFO("errors " << e1 << " " << e2);
  CHECK(e1 / e2 > 12);  // 16 for fourth order
  CHECK(e1 / e2 < 20);
}

TEST_CASE("energy and enstrophy: conserved without viscosity, decaying with it", "[physics][ns]") {
  const PeriodicGrid grid(64);
  const at::Tensor w0 = random_vorticity(grid, RandomVorticityOptions{4, 5}, 2, 11);
  {  // The 2/3-truncated inviscid equations conserve both exactly; IFRK4 to its time error.
    const SpectralVorticitySolver solver(grid, flow(0.0), 0.005);
    const at::Tensor w = solver.advance(w0, 0.5);
    CHECK(max_abs(kinetic_energy(grid, w) / kinetic_energy(grid, w0) - 1) < 1e-6);
    CHECK(max_abs(enstrophy(w) / enstrophy(w0) - 1) < 1e-6);
    CHECK(rel(w, w0) > 0.1);  // and the flow did evolve
  }
  {  // Decaying turbulence: both fall monotonically, enstrophy faster (selective decay).
    const SpectralVorticitySolver solver(grid, flow(2e-3), 0.01);
    at::Tensor w = w0;
    at::Tensor e = kinetic_energy(grid, w), z = enstrophy(w);
    const at::Tensor e0 = e, z0 = z;
    for (int i = 0; i < 10; ++i) {
      w = solver.advance(w, 0.2);
      const at::Tensor e_next = kinetic_energy(grid, w), z_next = enstrophy(w);
      CHECK((e_next < e).all().item<bool>());
      CHECK((z_next < z).all().item<bool>());
      e = e_next;
      z = z_next;
    }
    CHECK(((z / z0) < (e / e0)).all().item<bool>());
  }
}

TEST_CASE("energy spectrum sums to the kinetic energy and peaks where asked", "[physics][ns]") {
  const PeriodicGrid grid(64);
  const at::Tensor w = random_vorticity(grid, RandomVorticityOptions{6, 2}, 8, 3);
  const at::Tensor spectrum = energy_spectrum(grid, w);
  REQUIRE(spectrum.sizes() == at::IntArrayRef({8, 33}));
  CHECK(max_abs(spectrum.sum(-1) / kinetic_energy(grid, w) - 1) < 1e-12);
  const int64_t peak = spectrum.mean(0).argmax().item<int64_t>();
  CHECK(peak >= 5);
  CHECK(peak <= 7);
  // A single mode: all its energy in its shell.
  const at::Tensor tg = taylor_green_vorticity(grid, 3, 0, 0, 0);  // modes (±3, ±3): |k| = 4.24 -> shell 4
  const at::Tensor s = energy_spectrum(grid, tg);
  CHECK(std::abs(s[4].item<double>() / kinetic_energy(grid, tg).item<double>() - 1) < 1e-12);
}

TEST_CASE("random vorticity: seeded, zero mean, the asked rms, resolved", "[physics][ns]") {
  const PeriodicGrid grid(32);
  const RandomVorticityOptions o{4, 3};
  const at::Tensor a = random_vorticity(grid, o, 3, 5), b = random_vorticity(grid, o, 3, 5);
  CHECK(at::equal(a, b));
  CHECK(!at::equal(a, random_vorticity(grid, o, 3, 6)));
  // Field i depends on the seed and i alone: a batch of 2 is the first 2 of a batch of 3, and a
  // batch of 1 the first (every field changed with the batch until 2026-12-07).
  CHECK(at::equal(random_vorticity(grid, o, 2, 5), a.slice(0, 0, 2)));
  // (one field's inverse FFT rounds otherwise than a batch's: equal to round-off)
  CHECK(max_abs(random_vorticity(grid, o, 1, 5) - a.slice(0, 0, 1)) < 1e-12);
  CHECK(max_abs(random_vorticity(grid, o, 1, 5) - a.slice(0, 1, 2)) > 0.1);
  CHECK(max_abs(a.mean({-2, -1})) < 1e-12);
  CHECK(max_abs(at::sqrt(a.square().mean({-2, -1})) - 3) < 1e-12);
  CHECK(max_abs(grid.dealias(a) - a) < 1e-12);
  CHECK_THROWS_WITH(random_vorticity(grid, RandomVorticityOptions{0, 1}, 1, 0), Catch::Contains("peak wavenumber"));
}

TEST_CASE("the step residual of the reference trajectory is at truncation level", "[physics][ns]") {
  const PeriodicGrid grid(64);
  VorticityStepOptions o = flow(1e-3, 0.1, true);
  const at::Tensor w0 = random_vorticity(grid, RandomVorticityOptions{4, 4}, 2, 21);
  const double scale = std::sqrt(vorticity_rhs(grid, o, w0).square().mean().item<double>());
  double previous = 0;
  for (const double dt : {0.04, 0.02, 0.01}) {
    o.dt = dt;
    const SpectralVorticitySolver solver(grid, o, dt / 8);
    const at::Tensor w1 = solver.advance(w0, dt);
    const double r = std::sqrt(vorticity_step_residual(grid, o, w0, w1).square().mean().item<double>()) / scale;
    // A 1% perturbation of the step leaves a residual of about 0.01 |ω| / ∆t.
    const at::Tensor bumped = w1 + 0.01 * w0.abs().max() * taylor_green_vorticity(grid, 2, 0, 0, 0) / 8;
    const double rb = std::sqrt(vorticity_step_residual(grid, o, w0, bumped).square().mean().item<double>()) / scale;
    INFO("dt " << dt << ": residual " << r << ", perturbed " << rb);
    CHECK(r < 0.01);
    CHECK(rb > 20 * r);
    if (previous > 0) CHECK(previous / r > 3.5);  // Crank–Nicolson: second order in ∆t
    previous = r;
  }
}

TEST_CASE("staggered split and merge are an exact round trip", "[physics][stagger]") {
  const at::Tensor f = at::randn({3, 2, 12, 12}, at::kDouble);
  for (const int64_t s : {1, 2, 3, 4, 6}) {
    const at::Tensor pieces = stagger_split(f, s);
    REQUIRE(pieces.sizes() == at::IntArrayRef({3, 2, s * s, 12 / s, 12 / s}));
    CHECK(at::equal(stagger_merge(pieces, s), f));
    // Piece i s + j is field[i::s, j::s].
    for (int64_t i = 0; i < s; ++i)
      for (int64_t j = 0; j < s; ++j)
        CHECK(at::equal(pieces.select(2, i * s + j), f.slice(2, i, 12, s).slice(3, j, 12, s)));
  }
  CHECK_THROWS_WITH(stagger_split(f, 5), Catch::Contains("not divisible by s = 5"));
  CHECK_THROWS_WITH(stagger_merge(f, 2), Catch::Contains("pieces must be"));
}
