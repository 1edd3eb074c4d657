// The Taylor-mode jet of a tanh MLP (taylor_mlp.hpp) with each tanh layer as one autograd node:
// from the pre-activation jet (a, a_t, a_x, a_xx) to y = tanh a, y_t = y' a_t, y_x = y' a_x,
// y_xx = y'' a_x² + y' a_xx in one elementwise pass, and the hand-derived backward in another,
// instead of ~10 separate ops (and their saved tensors) per layer. Same values and parameter
// gradients as tanh_mlp_jet (first order: the backward itself is not differentiable). Used by the
// PINN family's training step (docs/pinn.md).
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

#include "physics/point_derivatives.hpp"

namespace tessera::physics {

// The derivatives a jet carries, as its number of channels: a residual without diffusion needs no
// u_xx, and the LPINN's (∂t only) no u_x either; each channel dropped saves about a quarter of the
// work. Each order includes the ones before it.
enum class JetOrder : int64_t {
  Time = 2,    // u, u_t
  First = 3,   // u, u_t, u_x
  Second = 4,  // u, u_t, u_x, u_xx
};

// a: [C, N, W] (value, d/dt, d/dx, d²/dx² stacked; the first C = 2, 3 or 4 of them) -> the jet of
// tanh(a), same shape.
at::Tensor tanh_jet(const at::Tensor& a);

// tanh_mlp_jet with the fused tanh step (weights/biases in torch::nn::Linear layout), carrying the
// channels of `order`; the members beyond it are left undefined.
Jet1D tanh_mlp_jet_fused(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases,
                         const at::Tensor& t, const at::Tensor& x, JetOrder order = JetOrder::Second);

// The value and one directional derivative of the same network: u and u_t + speed·u_x, the
// derivative along the characteristic dx/dt = speed, carried as a single tangent channel (input
// tangent (−speed·sin x, speed·cos x, 1)). A constant-speed transport residual u_t + c u_x needs
// nothing else, and two channels cost two thirds of the three (u, u_t, u_x) it would take
// otherwise. Members are [N, outputs]; differentiable like tanh_mlp_jet_fused.
struct DirectionalJet {
  at::Tensor u, du;
};
DirectionalJet tanh_mlp_directional_fused(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases,
                                          const at::Tensor& t, const at::Tensor& x, double speed);

}  // namespace tessera::physics
