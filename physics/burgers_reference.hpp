// Reference solutions of viscous Burgers u_t + u u_x = ν u_xx on x ∈ [0, 2π) periodic, t ≥ 0, the
// third problem of the Lagrangian PINN studies (docs/references.md §8), computed two independent
// ways that cross-check each other:
//   - Cole–Hopf (exact): for u0 = sin x + C, u(x, t) = C + v(x − C t, t) (Galilean invariance) and
//     v = −2ν ∂x log φ with φ the heat-equation solution from φ0 = exp(−(1 − cos x)/(2ν)). The
//     whole-line heat-kernel integral is evaluated by the trapezoidal rule in the scaled variable
//     η = (x − y)/√(4νt), with log-sum-exp weights, so ν = 0.01 (weights up to e^{100}) is exact to
//     rounding.
//   - Pseudo-spectral: Fourier collocation on N points (2/3 dealiasing of u u_x), diffusion
//     integrated exactly (integrating factor), classical RK4 in time; the time error is estimated by
//     step doubling and the spatial resolution by the energy in the highest kept modes.
// All arithmetic in double precision on the CPU.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace tessera::physics {

// u at the M points x [M] and K times t [K] (t ≥ 0) -> [K, M], double. u0 = sin x + C, viscosity
// nu > 0. `step` is the trapezoidal spacing in η (the error is spectrally small for step ≤ 0.02).
at::Tensor burgers_cole_hopf(double nu, double C, const at::Tensor& t, const at::Tensor& x, double step = 0.01);

struct SpectralBurgers {
  at::Tensor u;              // [K, N] at the requested times, on x_j = 2π j / N
  double time_error = 0;     // max |u(dt) − u(dt/2)| / 15 over all outputs (RK4 step doubling)
  double spectral_tail = 0;  // max over outputs of max |û_k| / max |û| for the top sixth of kept modes
};

// Integrates from the sampled u0 [N] (N even) to the increasing times t [K] (t ≥ 0) with time step
// ≤ dt (each output interval is split into equal steps). Returns the dt/2 solution and the error
// estimates above.
SpectralBurgers burgers_spectral(double nu, const at::Tensor& u0, const at::Tensor& t, double dt);

}  // namespace tessera::physics
