#include "physics/residuals_1d.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.hpp"

namespace tessera::physics {

Problem1D Problem1D::advection(double c, double T) {
  Problem1D p;
  p.kind = Advection;
  p.c = c;
  p.T = T;
  return p;
}

Problem1D Problem1D::convection_diffusion(double c, double nu, double T) {
  Problem1D p;
  p.kind = ConvectionDiffusion;
  p.c = c;
  p.nu = nu;
  p.T = T;
  return p;
}

Problem1D Problem1D::burgers(double nu, double C, double T) {
  Problem1D p;
  p.kind = Burgers;
  p.c = 0.0;
  p.nu = nu;
  p.C = C;
  p.T = T;
  return p;
}

void Problem1D::validate() const {
  if (kind != Advection && kind != ConvectionDiffusion && kind != Burgers)
    throw Error(cat("1D problem: unknown kind ", static_cast<int>(kind)));
  if (!std::isfinite(c) || !std::isfinite(nu) || !std::isfinite(C) || !std::isfinite(T))
    throw Error(cat(name(), ": c, nu, C and T must be finite"));
  if (nu < 0) throw Error(cat(name(), ": viscosity must be >= 0, got ", nu));
  if (T <= 0) throw Error(cat(name(), ": final time must be > 0, got ", T));
  if (kind == Advection && nu != 0)
    throw Error(cat("advection: nu must be 0, got ", nu, " (use convection_diffusion)"));
}

std::string Problem1D::name() const {
  switch (kind) {
    case Advection:
      return "advection";
    case ConvectionDiffusion:
      return "convection_diffusion";  // as pinn.problem spells it (errors.csv, checkpoints)
    case Burgers:
      return "burgers";
  }
  return "unknown problem";
}

at::Tensor initial_condition(const Problem1D& p, const at::Tensor& x) { return at::sin(x) + p.C; }

namespace {

// The members a residual reads must be there; a jet may leave out u_x and u_xx where the residual
// does not read them (fused_tanh_jet.hpp's JetOrder).
void check_jet(const Jet1D& j, const char* what, bool needs_x, bool needs_xx) {
  if (!j.u.defined() || !j.u_t.defined() || (needs_x && !j.u_x.defined()) || (needs_xx && !j.u_xx.defined()))
    throw Error(cat("residual: the jet of ", what, " lacks a derivative the residual needs"));
}

// −ν u_xx, or nothing without viscosity.
at::Tensor add_diffusion(const Problem1D& p, const at::Tensor& r, const Jet1D& u) {
  return p.viscosity() == 0 ? r : r - p.viscosity() * u.u_xx;
}

}  // namespace

at::Tensor eulerian_residual(const Problem1D& p, const Jet1D& u) {
  p.validate();
  check_jet(u, "u", true, p.viscosity() != 0);
  const at::Tensor transport = p.kind == Problem1D::Burgers ? u.u * u.u_x : p.c * u.u_x;
  return add_diffusion(p, u.u_t + transport, u);
}

at::Tensor eulerian_initial_residual(const Problem1D& p, const at::Tensor& x, const at::Tensor& u_at_0) {
  return u_at_0 - initial_condition(p, x);
}

LagrangianResidual lagrangian_residual(const Problem1D& p, const Jet1D& x_l, const Jet1D& u) {
  p.validate();
  check_jet(x_l, "x_L", false, false);
  check_jet(u, "u", false, p.viscosity() != 0);
  LagrangianResidual r;
  r.r_x = p.kind == Problem1D::Burgers ? x_l.u_t - u.u : x_l.u_t - p.c;
  r.r_u = add_diffusion(p, u.u_t, u);
  return r;
}

LagrangianResidual lagrangian_initial_residual(const Problem1D& p, const at::Tensor& x0, const at::Tensor& x_l_at_0,
                                               const at::Tensor& u_at_0) {
  return {x_l_at_0 - x0, u_at_0 - initial_condition(p, x0)};
}

at::Tensor exact_solution(const Problem1D& p, const at::Tensor& t, const at::Tensor& x) {
  p.validate();
  if (p.kind == Problem1D::Burgers) throw Error("burgers: no closed-form solution (use a spectral reference solver)");
  return at::sin(x - p.c * t) * at::exp(-p.viscosity() * t) + p.C;
}

at::Tensor spectral_solution(const Problem1D& p, const at::Tensor& u0, const at::Tensor& t) {
  p.validate();
  if (p.kind == Problem1D::Burgers) throw Error("burgers: the spectral exact solution is for linear problems only");
  if (u0.dim() != 1 || u0.size(0) < 2) throw Error(cat("spectral solution: u0 must be [N], N >= 2, got ", u0.sizes()));
  if (t.dim() != 1) throw Error(cat("spectral solution: t must be [M], got ", t.sizes()));
  const int64_t n = u0.size(0);
  const at::Tensor uh = at::fft_rfft(u0);                                  // [N/2 + 1]
  const at::Tensor k = at::arange(uh.size(0), t.options()).view({1, -1});  // integer wavenumbers
  const at::Tensor tt = t.view({-1, 1});
  // exp(−ν k² t) (cos(c k t) − i sin(c k t)): the shift by c t and the damping of each mode.
  const at::Tensor phase = -p.c * k * tt, damp = at::exp(-p.viscosity() * k * k * tt);
  at::Tensor factor = at::complex(damp * at::cos(phase), damp * at::sin(phase));
  return at::fft_irfft(uh.view({1, -1}) * factor, n, -1);
}

}  // namespace tessera::physics
