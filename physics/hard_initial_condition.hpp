// The "hard" initial condition of a physics-informed network: an output written as
// v(x, t) = g(x) + t·n(x, t), with n the network, equals g at t = 0 whatever n is, so the loss needs
// no initial-condition term (Lagaris, Likas & Fotiadis 1998; docs/references.md §8). The jets here
// are those of v from the jets of n and of g (g does not depend on t):
//   v = g + t n,  v_t = n + t n_t,  v_x = g_x + t n_x,  v_xx = g_xx + t n_xx,
// and along (1, speed): v_t + speed v_x = speed g_x + n + t (n_t + speed n_x).
#pragma once
#include <ATen/core/Tensor.h>

#include "physics/fused_tanh_jet.hpp"
#include "physics/point_derivatives.hpp"
#include "physics/residuals_1d.hpp"

namespace tessera::physics {

// The jet of g + t·n. Members of n that are undefined stay undefined; undefined members of g are
// zero (g = {} is the zero function, as for a displacement that starts at 0).
Jet1D starting_from(const Jet1D& g, const at::Tensor& t, const Jet1D& n);
// The same for a directional jet of n along (1, speed); g.u_x must be defined where speed ≠ 0.
DirectionalJet starting_from(const Jet1D& g, const at::Tensor& t, const DirectionalJet& n, double speed);
// The jet of the problem's u0 = sin x + C at x: value, u_t = 0, u_x = cos x, u_xx = −sin x.
Jet1D initial_condition_jet(const Problem1D& p, const at::Tensor& x);

}  // namespace tessera::physics
