// tessera_physics against independent references: Taylor-mode jets against torch autograd,
// PDE residuals of exact solutions (and of wrong ones), grid operators against analytic
// derivatives and the vorticity step residual of the Taylor–Green vortex. All in double precision.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "physics/periodic_grid.hpp"
#include "physics/point_derivatives.hpp"
#include "physics/residuals_1d.hpp"
#include "physics/taylor_mlp.hpp"
#include "physics/vorticity_residual.hpp"
#include "tests/physics/constants.hpp"

using namespace tessera;
using namespace tessera::physics;

namespace {

using test::f64;
using test::pi;

double max_abs(const at::Tensor& a) { return a.abs().max().item<double>(); }
double max_diff(const at::Tensor& a, const at::Tensor& b) { return max_abs(a - b); }

// Random points (t, x) in [0, 1] × [−2π, 4π] (outside one period too: the jet must not care).
std::pair<at::Tensor, at::Tensor> random_points(int64_t n) {
  return {at::rand({n}, f64), at::rand({n}, f64) * 6 * pi - 2 * pi};
}

double jet_diff(const Jet1D& a, const Jet1D& b) {
  return std::max({max_diff(a.u, b.u), max_diff(a.u_t, b.u_t), max_diff(a.u_x, b.u_x), max_diff(a.u_xx, b.u_xx)});
}

}  // namespace

// ---- jets ---------------------------------------------------------------------------------------

TEST_CASE("Taylor-mode jet of a tanh MLP equals autograd", "[physics][jet]") {
  at::manual_seed(1);
  double worst = 0;
  for (auto [width, depth] : {std::pair<int64_t, int64_t>{8, 1}, {16, 3}, {50, 5}, {32, 8}}) {
    TanhMlp mlp(TanhMlpOptions{width, depth, 2});
    mlp->to(at::kDouble);
    // Larger weights than the default init, so the tanh layers are well inside their nonlinear range.
    {
      at::NoGradGuard no_grad;
      for (auto& p : mlp->parameters()) p.mul_(2.0);
    }
    auto [t, x] = random_points(100);
    const Jet1D jet = mlp->jet(t, x);
    REQUIRE(jet.u.sizes() == at::IntArrayRef{100, 2});
    CHECK(max_diff(jet.u, mlp->forward(t, x)) < 1e-12);
    for (int64_t c = 0; c < 2; ++c) {
      const Jet1D ref = autograd_jet(
          [&](const at::Tensor& tt, const at::Tensor& xx) { return mlp->forward(tt, xx).select(1, c); }, t, x, false);
      const double d = jet_diff(jet.channel(c), ref);
      worst = std::max(worst, d);
      CHECK(d < 1e-10);
      // The derivatives are not trivially small (the comparison has teeth).
      CHECK(max_abs(ref.u_xx) > 1e-2);
      CHECK(max_abs(ref.u_t) > 1e-2);
    }
  }
  std::printf("[physics] Taylor jet vs autograd: max |difference| = %.3e\n", worst);
}

TEST_CASE("loss gradients through the Taylor jet equal those through autograd", "[physics][jet]") {
  at::manual_seed(2);
  for (auto [width, depth] : {std::pair<int64_t, int64_t>{12, 2}, {50, 5}}) {
    TanhMlp mlp(TanhMlpOptions{width, depth, 2});
    mlp->to(at::kDouble);
    auto [t, x] = random_points(64);
    // A PINN-like loss of every jet term of both channels.
    auto loss_of = [](const Jet1D& a, const Jet1D& b) {
      return (a.u_t + 0.7 * a.u_x - 0.3 * a.u_xx).square().mean() + (b.u_t - b.u * a.u_x).square().mean() +
             (a.u - b.u).square().mean();
    };
    const Jet1D jet = mlp->jet(t, x);
    const at::Tensor loss_taylor = loss_of(jet.channel(0), jet.channel(1));
    auto field = [&](int64_t c) {
      return [&, c](const at::Tensor& tt, const at::Tensor& xx) { return mlp->forward(tt, xx).select(1, c); };
    };
    const at::Tensor loss_auto = loss_of(autograd_jet(field(0), t, x, true), autograd_jet(field(1), t, x, true));
    CHECK(std::abs(loss_taylor.item<double>() - loss_auto.item<double>()) < 1e-12);
    const auto params = mlp->parameters();
    const auto g_taylor = torch::autograd::grad({loss_taylor}, params);
    const auto g_auto = torch::autograd::grad({loss_auto}, params);
    double worst = 0, scale = 0;
    for (size_t i = 0; i < params.size(); ++i) {
      worst = std::max(worst, max_diff(g_taylor[i], g_auto[i]));
      scale = std::max(scale, max_abs(g_auto[i]));
    }
    std::printf("[physics] loss gradient, width %ld depth %ld: max |taylor - autograd| = %.3e (max |grad| %.3e)\n",
                static_cast<long>(width), static_cast<long>(depth), worst, scale);
    CHECK(worst < 1e-10);
    CHECK(scale > 1e-3);
  }
}

TEST_CASE("autograd_jet of closed-form fields", "[physics][jet]") {
  auto [t, x] = random_points(50);
  // u = t² sin(3x): u_t = 2t sin 3x, u_x = 3t² cos 3x, u_xx = −9t² sin 3x.
  const Jet1D j =
      autograd_jet([](const at::Tensor& tt, const at::Tensor& xx) { return tt * tt * at::sin(3 * xx); }, t, x, false);
  CHECK(max_diff(j.u_t, 2 * t * at::sin(3 * x)) < 1e-13);
  CHECK(max_diff(j.u_x, 3 * t * t * at::cos(3 * x)) < 1e-13);
  CHECK(max_diff(j.u_xx, -9 * t * t * at::sin(3 * x)) < 1e-12);
  CHECK_FALSE(j.u_xx.requires_grad());
  // Linear in x and independent of t: zero derivatives rather than an autograd error.
  const Jet1D lin = autograd_jet([](const at::Tensor&, const at::Tensor& xx) { return 2 * xx; }, t, x, false);
  CHECK(max_abs(lin.u_t) == 0);
  CHECK(max_diff(lin.u_x, at::full_like(x, 2.0)) == 0);
  CHECK(max_abs(lin.u_xx) == 0);
  CHECK_THROWS_AS(autograd_jet([](const at::Tensor& tt, const at::Tensor&) { return tt.sum(); }, t, x, false), Error);
}

// ---- 1D residuals -------------------------------------------------------------------------------

TEST_CASE("Eulerian residuals vanish on exact solutions only", "[physics][residual]") {
  auto [t, x] = random_points(200);
  for (const Problem1D& p : {Problem1D::advection(3.0), Problem1D::convection_diffusion(2.0, 0.1),
                             Problem1D::convection_diffusion(30.0, 0.05)}) {
    INFO(p.name() << " c=" << p.c << " nu=" << p.nu);
    auto exact = [&](const at::Tensor& tt, const at::Tensor& xx) { return exact_solution(p, tt, xx); };
    const Jet1D jet = autograd_jet(exact, t, x, false);
    const double r = max_abs(eulerian_residual(p, jet));
    CHECK(r < 1e-10);
    CHECK(max_abs(eulerian_initial_residual(p, x, exact(at::zeros_like(t), x))) < 1e-14);
    Problem1D wrong = p;
    wrong.c += 0.5;
    const double r_wrong = max_abs(eulerian_residual(wrong, jet));
    std::printf("[physics] Eulerian residual, %s c=%g: exact %.2e, speed off by 0.5: %.2e\n", p.name().c_str(), p.c, r,
                r_wrong);
    CHECK(r_wrong > 0.1);
    if (p.kind == Problem1D::ConvectionDiffusion) {
      Problem1D wrong_nu = p;
      wrong_nu.nu *= 2;
      CHECK(max_abs(eulerian_residual(wrong_nu, jet)) > 1e-2);
    }
  }
  // Viscous Burgers: the periodic Cole–Hopf solution u = −2ν φ_x / φ, φ = 2 + e^{−νt} cos x.
  const Problem1D b = Problem1D::burgers(0.1, 0.0);
  auto cole_hopf = [&](const at::Tensor& tt, const at::Tensor& xx) {
    const at::Tensor e = at::exp(-b.nu * tt);
    return 2 * b.nu * e * at::sin(xx) / (2 + e * at::cos(xx));
  };
  const Jet1D jb = autograd_jet(cole_hopf, t, x, false);
  CHECK(max_abs(eulerian_residual(b, jb)) < 1e-12);
  CHECK(max_abs(eulerian_residual(Problem1D::burgers(0.2, 0.0), jb)) > 1e-3);
  CHECK(max_abs(eulerian_residual(Problem1D::convection_diffusion(0.0, 0.1), jb)) > 1e-3);
}

TEST_CASE("Lagrangian residuals vanish along exact characteristics", "[physics][residual]") {
  auto [t, x0] = random_points(200);
  for (const Problem1D& p : {Problem1D::advection(40.0), Problem1D::convection_diffusion(5.0, 0.2)}) {
    INFO(p.name());
    // x_L = x0 + c t; u = e^{−νt} sin x0 (its x0-diffusion is its x-diffusion: c is constant).
    auto xl = [&](const at::Tensor& tt, const at::Tensor& xx) { return xx + p.c * tt; };
    auto u = [&](const at::Tensor& tt, const at::Tensor& xx) { return at::exp(-p.viscosity() * tt) * at::sin(xx); };
    const LagrangianResidual r = lagrangian_residual(p, autograd_jet(xl, t, x0, false), autograd_jet(u, t, x0, false));
    CHECK(max_abs(r.r_x) < 1e-12);
    CHECK(max_abs(r.r_u) < 1e-12);
    const at::Tensor zero = at::zeros_like(t);
    const LagrangianResidual r0 = lagrangian_initial_residual(p, x0, xl(zero, x0), u(zero, x0));
    CHECK(max_abs(r0.r_x) == 0);
    CHECK(max_abs(r0.r_u) < 1e-15);
    // u along x_L reproduces the Eulerian exact solution there.
    CHECK(max_diff(u(t, x0), exact_solution(p, t, xl(t, x0))) < 1e-12);
    Problem1D wrong = p;
    wrong.c += 1;
    CHECK(max_diff(lagrangian_residual(wrong, autograd_jet(xl, t, x0, false), autograd_jet(u, t, x0, false)).r_x,
                   at::full_like(t, -1.0)) < 1e-12);
  }
  // Burgers: r_x = ∂t x_L − u, r_u = ∂t u − ν u_x0x0, from the two channels of a network jet.
  at::manual_seed(3);
  TanhMlp mlp(TanhMlpOptions{10, 2, 2});
  mlp->to(at::kDouble);
  const Jet1D jet = mlp->jet(t, x0);
  const Problem1D b = Problem1D::burgers(0.01, 5.0);
  const LagrangianResidual r = lagrangian_residual(b, jet.channel(0), jet.channel(1));
  CHECK(max_diff(r.r_x, jet.channel(0).u_t - jet.channel(1).u) == 0);
  CHECK(max_diff(r.r_u, jet.channel(1).u_t - 0.01 * jet.channel(1).u_xx) < 1e-15);
  CHECK(max_diff(lagrangian_initial_residual(b, x0, x0, at::sin(x0) + 5.0).r_u, at::zeros_like(x0)) == 0);
}

TEST_CASE("spectral exact solution of the linear problems", "[physics][residual]") {
  const int64_t n = 64;
  const at::Tensor x = at::arange(n, f64) * (2 * pi / n);
  const at::Tensor t = at::tensor({0.0, 0.3, 1.0}, f64).view({-1, 1});
  for (const Problem1D& p : {Problem1D::advection(7.5), Problem1D::convection_diffusion(2.5, 0.1)}) {
    // u0 = sin x: the closed form.
    CHECK(max_diff(spectral_solution(p, at::sin(x), t.view(-1)), exact_solution(p, t, x)) < 1e-12);
    // u0 = sin x + 0.5 cos 3x + 1: each mode shifted and damped by its own rate.
    const at::Tensor u0 = at::sin(x) + 0.5 * at::cos(3 * x) + 1.0;
    const double nu = p.viscosity();
    const at::Tensor ref =
        at::sin(x - p.c * t) * at::exp(-nu * t) + 0.5 * at::cos(3 * (x - p.c * t)) * at::exp(-9 * nu * t) + 1.0;
    CHECK(max_diff(spectral_solution(p, u0, t.view(-1)), ref) < 1e-12);
  }
  CHECK_THROWS_AS(spectral_solution(Problem1D::burgers(0.01, 0), at::sin(x), t.view(-1)), Error);
  CHECK_THROWS_AS(exact_solution(Problem1D::burgers(0.01, 0), t, x), Error);
  CHECK_THROWS_AS(Problem1D::convection_diffusion(1.0, -0.1).validate(), Error);
}

// ---- periodic grid ------------------------------------------------------------------------------

TEST_CASE("spectral derivatives are exact on trigonometric fields", "[physics][grid]") {
  for (double length : {2 * pi, 3.0}) {
    const PeriodicGrid g(32, length);
    const double a = 2 * pi / length;  // one period across the domain
    const at::Tensor x = g.x(), y = g.y();
    // f = sin(2ax) cos(3ay) + cos(ay), batched with a second field.
    const at::Tensor f = at::sin(2 * a * x) * at::cos(3 * a * y) + at::cos(a * y);
    const at::Tensor fx = 2 * a * at::cos(2 * a * x) * at::cos(3 * a * y);
    const at::Tensor fy = -3 * a * at::sin(2 * a * x) * at::sin(3 * a * y) - a * at::sin(a * y);
    const at::Tensor lap = -13 * a * a * at::sin(2 * a * x) * at::cos(3 * a * y) - a * a * at::cos(a * y);
    const at::Tensor fb = at::stack({f, 2 * f});
    CHECK(max_diff(g.dx(fb), at::stack({fx, 2 * fx})) < 1e-12);
    CHECK(max_diff(g.dy(fb), at::stack({fy, 2 * fy})) < 1e-12);
    CHECK(max_diff(g.laplacian(fb), at::stack({lap, 2 * lap})) / (a * a) < 1e-12);
    // The inverse Laplacian is the zero-mean inverse: a constant is dropped.
    CHECK(max_diff(g.inverse_laplacian(lap + 5.0), f) < 1e-12);
  }
  const PeriodicGrid g(24);
  const at::Tensor x = g.x(), y = g.y();
  // 2/3 rule for N = 24: |k| < 8 kept, |k| >= 8 removed.
  const at::Tensor kept = at::sin(7 * x) * at::cos(7 * y), cut = at::cos(8 * x) + at::sin(9 * y);
  CHECK(max_diff(g.dealias(kept + cut), kept) < 1e-12);
  CHECK(g.dealias_mask().sum().item<double>() == 15 * 8);
  // The Nyquist mode has no real derivative on the grid; first derivatives drop it.
  CHECK(max_abs(g.dx(at::cos(12 * x))) < 1e-12);
  CHECK(max_abs(g.dy(at::cos(12 * y))) < 1e-12);
  CHECK_THROWS_AS(PeriodicGrid(31), Error);
  CHECK_THROWS_AS(g.dx(at::zeros({24, 23}, f64)), Error);
}

TEST_CASE("finite differences converge at second order", "[physics][grid]") {
  auto errors = [](int64_t n) {
    const PeriodicGrid g(n);
    const at::Tensor x = g.x(), y = g.y();
    const at::Tensor f = at::sin(x + 0.3) * at::cos(2 * y) + at::cos(3 * x) * at::sin(y);
    const at::Tensor fx = at::cos(x + 0.3) * at::cos(2 * y) - 3 * at::sin(3 * x) * at::sin(y);
    const at::Tensor fy = -2 * at::sin(x + 0.3) * at::sin(2 * y) + at::cos(3 * x) * at::cos(y);
    const at::Tensor lap = -5 * at::sin(x + 0.3) * at::cos(2 * y) - 10 * at::cos(3 * x) * at::sin(y);
    // The FD Poisson solve inverts the 5-point Laplacian exactly.
    CHECK(max_diff(g.laplacian_fd(g.inverse_laplacian_fd(f)), f) < 1e-10);
    return std::array<double, 3>{max_diff(g.dx_fd(f), fx), max_diff(g.dy_fd(f), fy), max_diff(g.laplacian_fd(f), lap)};
  };
  const auto e32 = errors(32), e64 = errors(64), e128 = errors(128);
  const char* names[] = {"dx", "dy", "laplacian"};
  for (int i = 0; i < 3; ++i) {
    const double r1 = e32[i] / e64[i], r2 = e64[i] / e128[i];
    std::printf("[physics] FD %s error N=32/64/128: %.3e %.3e %.3e, ratios %.4f %.4f\n", names[i], e32[i], e64[i],
                e128[i], r1, r2);
    CHECK(r1 == Approx(4.0).epsilon(0.03));
    CHECK(r2 == Approx(4.0).epsilon(0.01));
  }
}

TEST_CASE("the advection term of two wavenumber shells against its closed form", "[physics][vorticity]") {
  // Taylor–Green and Kolmogorov states have u·∇ω = 0, so they cannot see the sign or the velocity
  // of the advection term. ω = cos x + cos 2y has ψ = cos x + cos(2y)/4, u = ∂yψ = −sin(2y)/2,
  // v = −∂xψ = sin x, hence u·∇ω = −1.5 sin x sin 2y, and the right-hand side −u·∇ω + ν∆ω is
  // 1.5 sin x sin 2y − ν (cos x + 4 cos 2y).
  const double nu = 0.1;
  auto fields = [&](const PeriodicGrid& g) {
    const at::Tensor x = g.x(), y = g.y();
    return std::pair{at::cos(x) + at::cos(2 * y),
                     1.5 * at::sin(x) * at::sin(2 * y) - nu * (at::cos(x) + 4 * at::cos(2 * y))};
  };
  const PeriodicGrid g(32);
  const auto [w, rhs] = fields(g);
  CHECK(max_diff(g.vorticity_rhs(w, nu), rhs) < 1e-12);
  CHECK(max_diff(g.vorticity_rhs(w, nu, {}, Discretization::Spectral, false), rhs) < 1e-12);
  CHECK(max_diff(g.vorticity_rhs(w, 0.0), 1.5 * at::sin(g.x()) * at::sin(2 * g.y())) < 1e-12);
  // The spectrum of the advection term itself (what the reference solver steps with).
  const at::Tensor adv =
      at::fft_irfft2(g.advection_spectrum(at::fft_rfft2(w), g.spectral_factors(at::kDouble)), c10::IntArrayRef{32, 32});
  CHECK(max_diff(adv, -1.5 * at::sin(g.x()) * at::sin(2 * g.y())) < 1e-12);
  // Finite differences converge to it at second order.
  auto fd_error = [&](int64_t n) {
    const PeriodicGrid gn(n);
    const auto [wn, rhsn] = fields(gn);
    return max_diff(gn.vorticity_rhs(wn, nu, {}, Discretization::FiniteDifference), rhsn);
  };
  const double e32 = fd_error(32), e64 = fd_error(64);
  std::printf("[physics] FD vorticity rhs error N=32/64: %.3e %.3e\n", e32, e64);
  CHECK(e32 / e64 == Approx(4.0).epsilon(0.05));
}

namespace {

// The Taylor–Green vortex: ω = 2k cos(kx) cos(ky) e^{−2νk²t}, u = −cos(kx) sin(ky) e, v = sin(kx) cos(ky) e.
at::Tensor taylor_green(const PeriodicGrid& g, int64_t k, double nu, double t) {
  return 2.0 * k * at::cos(k * g.x()) * at::cos(k * g.y()) * std::exp(-2 * nu * k * k * t);
}

}  // namespace

TEST_CASE("velocity from vorticity of the Taylor-Green vortex", "[physics][grid]") {
  const int64_t k = 3;
  const PeriodicGrid g(32);
  const at::Tensor x = g.x(), y = g.y();
  const at::Tensor w = taylor_green(g, k, 0.0, 0.0);
  const at::Tensor u = -at::cos(k * x) * at::sin(k * y), v = at::sin(k * x) * at::cos(k * y);
  const Velocity vel = g.velocity(at::stack({w, -0.5 * w}));
  CHECK(max_diff(vel.u, at::stack({u, -0.5 * u})) < 1e-12);
  CHECK(max_diff(vel.v, at::stack({v, -0.5 * v})) < 1e-12);
  // Divergence-free, and its curl is the vorticity back.
  CHECK(max_abs(g.dx(vel.u) + g.dy(vel.v)) < 1e-12);
  CHECK(max_diff(g.dx(vel.v) - g.dy(vel.u), at::stack({w, -0.5 * w})) < 1e-11);
  // The finite-difference velocity converges to it at second order.
  auto fd_error = [&](int64_t n) {
    const PeriodicGrid gn(n);
    const Velocity fv = gn.velocity(taylor_green(gn, k, 0.0, 0.0), Discretization::FiniteDifference);
    return max_diff(fv.u, -at::cos(k * gn.x()) * at::sin(k * gn.y()));
  };
  CHECK(fd_error(32) / fd_error(64) == Approx(4.0).epsilon(0.05));
}

TEST_CASE("Taylor-Green step residual is at truncation level, a perturbed step is not", "[physics][vorticity]") {
  const int64_t k = 2, n = 32;
  const double nu = 0.05;
  const PeriodicGrid g(n);
  const double lambda = 2 * nu * k * k;
  auto residual_of_exact = [&](double dt, Discretization d) {
    VorticityStepOptions o;
    o.nu = nu;
    o.dt = dt;
    o.discretization = d;
    const double t0 = 0.4;
    const at::Tensor w0 = at::stack({taylor_green(g, k, nu, t0), -taylor_green(g, k, nu, t0)});
    const at::Tensor w1 = at::stack({taylor_green(g, k, nu, t0 + dt), -taylor_green(g, k, nu, t0 + dt)});
    return std::pair{vorticity_step_residual(g, o, w0, w1), o};
  };
  // Crank–Nicolson on ω' = −λω: r = ω(t0)·[(e^{−λ∆t} − 1)/∆t + λ(1 + e^{−λ∆t})/2] ≈ ω(t0) λ³∆t²/12.
  const double dt = 0.02;
  auto [r, opt] = residual_of_exact(dt, Discretization::Spectral);
  const double e = std::exp(-lambda * dt);
  const double predicted = 2 * k * std::exp(-lambda * 0.4) * ((e - 1) / dt + lambda * (1 + e) / 2);
  const double r_exact = max_abs(r);
  CHECK(r_exact == Approx(std::abs(predicted)).epsilon(1e-6));
  const double r_half = max_abs(residual_of_exact(dt / 2, Discretization::Spectral).first);
  CHECK(r_exact / r_half == Approx(4.0).epsilon(0.01));
  // A perturbation of size 1e-3 in ω^{n+1} shows as ~1e-3/∆t.
  at::manual_seed(4);
  const at::Tensor w0 = at::stack({taylor_green(g, k, nu, 0.4), -taylor_green(g, k, nu, 0.4)});
  const at::Tensor w1 = at::stack({taylor_green(g, k, nu, 0.4 + dt), -taylor_green(g, k, nu, 0.4 + dt)});
  const at::Tensor bump = g.dealias(at::randn({2, n, n}, f64));
  const double r_pert = max_abs(vorticity_step_residual(g, opt, w0, w1 + 1e-3 * bump / max_abs(bump)));
  // Finite differences: the advection term of the vortex vanishes on the grid too, and the residual is
  // the 5-point Laplacian's error ν(∆_h − ∆)ω, O(h²): it drops 4x from N = 32 to 64.
  const double r_fd = max_abs(residual_of_exact(dt, Discretization::FiniteDifference).first);
  const PeriodicGrid g64(2 * n);
  VorticityStepOptions o64 = opt;
  o64.discretization = Discretization::FiniteDifference;
  const at::Tensor w0_64 = taylor_green(g64, k, nu, 0.4), w1_64 = taylor_green(g64, k, nu, 0.4 + dt);
  const double r_fd64 = max_abs(vorticity_step_residual(g64, o64, w0_64, w1_64));
  std::printf(
      "[physics] Taylor-Green CN step residual: exact %.3e (dt/2: %.3e, ratio %.3f), perturbed by 1e-3: "
      "%.3e (x%.0f); FD N=32/64: %.3e %.3e (ratio %.3f)\n",
      r_exact, r_half, r_exact / r_half, r_pert, r_pert / r_exact, r_fd, r_fd64, r_fd / r_fd64);
  CHECK(r_fd / r_fd64 == Approx(4.0).epsilon(0.02));
  CHECK(r_exact < 1e-5);
  CHECK(r_pert > 1e3 * r_exact);
}

TEST_CASE("Kolmogorov flow: the laminar steady state has zero residual", "[physics][vorticity]") {
  const PeriodicGrid g(32);
  VorticityStepOptions o;
  o.nu = 0.05;
  o.dt = 0.01;
  o.drag = 0.1;
  o.forcing = KolmogorovForcing{2.0, 4};
  const double k = 4;
  const at::Tensor w = 2.0 * at::sin(k * g.y()) / (o.nu * k * k + o.drag);
  CHECK(max_abs(vorticity_step_residual(g, o, w, w)) < 1e-12);
  // Finite differences: steady for the 5-point Laplacian's eigenvalue (4/h²) sin²(kh/2) instead of k².
  VorticityStepOptions fd = o;
  fd.discretization = Discretization::FiniteDifference;
  const double h = g.spacing(), lambda_h = 4 / (h * h) * std::pow(std::sin(k * h / 2), 2);
  const at::Tensor w_fd = 2.0 * at::sin(k * g.y()) / (o.nu * lambda_h + o.drag);
  CHECK(max_abs(vorticity_step_residual(g, fd, w_fd, w_fd)) < 1e-12);
  CHECK(max_abs(vorticity_step_residual(g, fd, w, w)) > 1e-3);
  // Without the forcing, or without the drag, it is not steady.
  VorticityStepOptions unforced = o;
  unforced.forcing.reset();
  CHECK(max_abs(vorticity_step_residual(g, unforced, w, w)) > 1.0);
  VorticityStepOptions no_drag = o;
  no_drag.drag = 0;
  CHECK(max_abs(vorticity_step_residual(g, no_drag, w, w)) > 0.1);
  // The wrong forcing wavenumber is not steady either.
  VorticityStepOptions k3 = o;
  k3.forcing->wavenumber = 3;
  CHECK(max_abs(vorticity_step_residual(g, k3, w, w)) > 1.0);
  VorticityStepOptions bad = o;
  bad.dt = 0;
  CHECK_THROWS_AS(vorticity_step_residual(g, bad, w, w), Error);
  CHECK_THROWS_AS(vorticity_step_residual(g, o, w, w.unsqueeze(0)), Error);
}

TEST_CASE("the step residual is differentiable in both steps", "[physics][vorticity]") {
  at::manual_seed(5);
  const int64_t n = 16;
  const PeriodicGrid g(n);
  for (auto d : {Discretization::Spectral, Discretization::FiniteDifference}) {
    VorticityStepOptions o;
    o.nu = 0.02;
    o.dt = 0.05;
    o.forcing = KolmogorovForcing{1.0, 2};
    o.drag = 0.05;
    o.discretization = d;
    const at::Tensor w0 = at::randn({2, n, n}, f64).requires_grad_(true);
    const at::Tensor w1 = at::randn({2, n, n}, f64).requires_grad_(true);
    auto loss = [&](const at::Tensor& a, const at::Tensor& b) {
      return vorticity_step_residual(g, o, a, b).square().sum();
    };
    const auto grads = torch::autograd::grad({loss(w0, w1)}, {w0, w1});
    const at::Tensor d0 = at::randn({2, n, n}, f64), d1 = at::randn({2, n, n}, f64);
    const double h = 1e-6;
    at::NoGradGuard no_grad;
    const double fd = (loss(w0 + h * d0, w1 + h * d1) - loss(w0 - h * d0, w1 - h * d1)).item<double>() / (2 * h);
    const double ad = ((grads[0] * d0).sum() + (grads[1] * d1).sum()).item<double>();
    CHECK(ad == Approx(fd).epsilon(1e-6));
    CHECK(max_abs(grads[0]) > 0);
    CHECK(max_abs(grads[1]) > 0);
  }
}
