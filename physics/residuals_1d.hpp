// The 1D periodic problems of the Lagrangian PINN paper (docs/references.md §8) on x ∈ [0, 2π),
// t ∈ [0, T]:
//   advection              u_t + c u_x = 0
//   convection–diffusion   u_t + c u_x = ν u_xx
//   viscous Burgers        u_t + u u_x = ν u_xx
// with u0 = sin x + C. Residuals are functions of jets (point_derivatives.hpp, taylor_mlp.hpp), so
// they are differentiable whenever the jets are:
//   Eulerian PINN: one output u(x, t); r = u_t + a u_x − ν u_xx, a = c (or u for Burgers).
//   Lagrangian PINN: two outputs of (x0, t), the trajectory x_L and the solution u along it;
//     r_x = ∂t x_L − c (− u for Burgers), r_u = ∂t u − ν ∂²u/∂x0². The diffusion is taken w.r.t. the
//     starting coordinate x0, as the authors' code does (exact for constant c, where x_L − x0 does
//     not depend on x0; an approximation for Burgers).
// Exact references for the linear problems: u0(x − c t) with each Fourier mode k damped by
// exp(−ν k² t) — in closed form for u0 = sin x + C, and for a general sampled u0 through the FFT.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>

#include "physics/point_derivatives.hpp"

namespace tessera::physics {

struct Problem1D {
  enum Kind { Advection, ConvectionDiffusion, Burgers };
  Kind kind = Advection;
  double c = 1.0;   // advection speed (advection, convection–diffusion)
  double nu = 0.0;  // viscosity (convection–diffusion, Burgers)
  double C = 0.0;   // offset of the initial condition u0 = sin x + C (Burgers' C of §8)
  double T = 1.0;   // final time

  static Problem1D advection(double c, double T = 1.0);
  static Problem1D convection_diffusion(double c, double nu, double T = 1.0);
  static Problem1D burgers(double nu, double C, double T = 1.0);
  // Throws tessera::Error for a negative ν or T, or a non-zero ν in pure advection.
  void validate() const;
  std::string name() const;
  // The coefficient of u_xx (0 for advection).
  double viscosity() const { return kind == Advection ? 0.0 : nu; }
};

// u0(x) = sin x + C.
at::Tensor initial_condition(const Problem1D& p, const at::Tensor& x);

// Eulerian PINN residual u_t + a u_x − ν u_xx of a (single-channel) jet of u(t, x); u_xx may be
// undefined where ν = 0.
at::Tensor eulerian_residual(const Problem1D& p, const Jet1D& u);
// u(0, x) − u0(x), given the network's u at t = 0.
at::Tensor eulerian_initial_residual(const Problem1D& p, const at::Tensor& x, const at::Tensor& u_at_0);

struct LagrangianResidual {
  at::Tensor r_x, r_u;
};
// Jets of x_L(x0, t) and u(x0, t) w.r.t. (t, x0); only u, u_t (and u's u_xx where ν > 0) are read.
LagrangianResidual lagrangian_residual(const Problem1D& p, const Jet1D& x_l, const Jet1D& u);
// Initial conditions: r_x = x_L(x0, 0) − x0, r_u = u(x0, 0) − u0(x0).
LagrangianResidual lagrangian_initial_residual(const Problem1D& p, const at::Tensor& x0, const at::Tensor& x_l_at_0,
                                               const at::Tensor& u_at_0);

// Closed-form solution at (t, x) for the linear problems: sin(x − c t) e^{−ν t} + C. Differentiable
// torch ops, broadcasting t against x. Throws for Burgers (no closed form).
at::Tensor exact_solution(const Problem1D& p, const at::Tensor& t, const at::Tensor& x);
// Exact solution of a linear problem for a general initial condition sampled on the uniform grid
// x_j = 2π j / N: u0 [N] -> [M, N] at the M times t [M]; û_k(t) = û_k(0) exp(−(i c k + ν k²) t).
// The Nyquist mode of an even N is real on the grid and is carried as its real part.
at::Tensor spectral_solution(const Problem1D& p, const at::Tensor& u0, const at::Tensor& t);

}  // namespace tessera::physics
