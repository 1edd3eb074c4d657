// Derivatives of a scalar-per-point field u(t, x) by torch autograd: u, u_t, u_x, u_xx at a batch
// of points. This is the reference (and fallback) for the Taylor-mode jet of taylor_mlp.hpp, and
// what a physics-informed loss of an arbitrary network uses (docs/references.md §8).
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>

namespace tessera::physics {

// A field and its derivatives at the same points. Every member has the shape of u: [N] for a
// scalar field, [N, C] for C output channels (the Taylor-mode jet of a multi-output network).
struct Jet1D {
  at::Tensor u, u_t, u_x, u_xx;
  // Channel c of a multi-channel jet ([N, C] -> [N]); undefined members stay undefined.
  Jet1D channel(int64_t c) const;
};

using PointField = std::function<at::Tensor(const at::Tensor& t, const at::Tensor& x)>;

// u = f(t, x) and its derivatives w.r.t. t and x by reverse-mode autograd (three backward passes:
// u_t and u_x together, then u_xx). f must be pointwise — u[i] depends on t[i] and x[i] only — since
// the derivatives are taken of sum(u). t and x: same shape; f returns that shape.
// create_graph = true keeps the derivatives differentiable (for a loss that is trained on);
// false returns them detached. A field that does not depend on t (or x) gets zero derivatives.
Jet1D autograd_jet(const PointField& f, const at::Tensor& t, const at::Tensor& x, bool create_graph);

}  // namespace tessera::physics
