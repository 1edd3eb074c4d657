// The residual of one discrete time step of 2D incompressible Navier–Stokes in vorticity form,
//   ω_t + u·∇ω = ν∆ω − α ω + f,   ∆ψ = −ω, (u, v) = (∂y ψ, −∂x ψ),
// on a periodic N×N grid (periodic_grid.hpp). This is the physics loss of a data-free neural
// solver such as NeuralStagger (docs/references.md §9): the network proposes ω^{n+1} from ω^n and
// is trained to make the step residual vanish.
//
// Time discretisation: the θ-scheme on the full right-hand side F(ω) = −u·∇ω + ν∆ω − αω + f,
//   r = (ω^{n+1} − ω^n)/∆t − [(1 − θ) F(ω^n) + θ F(ω^{n+1})],
// by default θ = 1/2, Crank–Nicolson: second order in time, so a field advanced exactly leaves a
// residual O(∆t²) (plus the spatial error), while any error in ω^{n+1} of size ε shows as ε/∆t.
// Space: spectral (2/3-dealiased advection) or second-order finite differences.
// The residual is differentiable w.r.t. both ω^n and ω^{n+1} and batched over leading dimensions.
//
// Kolmogorov forcing, as a source of the vorticity equation: f(x, y) = A sin(k y), k an integer
// number of periods across the domain (f = A sin(2π k y / L)). It is the curl of the body force
// ((A/k) cos(k y), 0) (for L = 2π); the steady laminar flow is ω = A sin(k y) / (ν k² + α).
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>

#include "physics/periodic_grid.hpp"

namespace tessera::physics {

struct KolmogorovForcing {
  double amplitude = 1.0;  // A
  int64_t wavenumber = 4;  // k: periods across the domain
};

struct VorticityStepOptions {
  double nu = 1e-3;                          // viscosity ν
  double dt = 1e-2;                          // time step ∆t
  std::optional<KolmogorovForcing> forcing;  // none when empty
  double drag = 0.0;                         // linear drag α (−αω in the right-hand side)
  double theta = 0.5;                        // 1/2: Crank–Nicolson, 1: implicit Euler, 0: explicit
  Discretization discretization = Discretization::Spectral;
  bool dealias = true;  // 2/3 rule on the spectral advection term
  // Throws tessera::Error for ν < 0, ∆t <= 0, α < 0, θ outside [0, 1] or a forcing wavenumber < 1.
  void validate() const;
};

// A sin(2π k y / L) on the grid, [N, N] (zeros without forcing).
at::Tensor kolmogorov_forcing(const PeriodicGrid& grid, const KolmogorovForcing& forcing,
                              const at::TensorOptions& options = at::kDouble);

// F(ω) = −u·∇ω + ν∆ω − αω + f for ω [..., N, N].
at::Tensor vorticity_rhs(const PeriodicGrid& grid, const VorticityStepOptions& options, const at::Tensor& w);

// The step residual r for ω^n, ω^{n+1} of the same shape [..., N, N]; returns that shape.
at::Tensor vorticity_step_residual(const PeriodicGrid& grid, const VorticityStepOptions& options,
                                   const at::Tensor& w_now, const at::Tensor& w_next);

}  // namespace tessera::physics
