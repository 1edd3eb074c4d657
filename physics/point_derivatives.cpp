#include "physics/point_derivatives.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "core/error.hpp"

namespace tessera::physics {

Jet1D Jet1D::channel(int64_t c) const {
  if (!u.defined() || u.dim() < 2) throw Error("jet: channel() needs a multi-channel jet [N, C]");
  if (c < 0 || c >= u.size(-1)) throw Error(cat("jet: channel ", c, " out of range [0, ", u.size(-1), ")"));
  auto pick = [c](const at::Tensor& m) { return m.defined() ? m.select(-1, c) : at::Tensor(); };
  return {pick(u), pick(u_t), pick(u_x), pick(u_xx)};
}

namespace {

// d(sum(y))/d(input), zeros where y does not depend on input.
at::Tensor grad_of_sum(const at::Tensor& y, const at::Tensor& input, bool create_graph) {
  if (!y.requires_grad()) return at::zeros_like(input);
  auto g = torch::autograd::grad({y}, {input}, {at::ones_like(y)}, /*retain_graph=*/true, create_graph,
                                 /*allow_unused=*/true)[0];
  return g.defined() ? g : at::zeros_like(input);
}

}  // namespace

Jet1D autograd_jet(const PointField& f, const at::Tensor& t_in, const at::Tensor& x_in, bool create_graph) {
  if (!t_in.defined() || !x_in.defined()) throw Error("autograd_jet: t and x must be defined");
  if (t_in.sizes() != x_in.sizes())
    throw Error(cat("autograd_jet: t and x must have the same shape, got ", t_in.sizes(), " and ", x_in.sizes()));
  if (!at::isFloatingType(x_in.scalar_type())) throw Error("autograd_jet: t and x must be floating point");
  // Derivatives need the graph even when the caller evaluates under no_grad.
  at::AutoGradMode grad_on(true);
  // Leaves of our own unless the caller already tracks t / x (then derivatives flow on through them).
  const at::Tensor t = t_in.requires_grad() ? t_in : t_in.detach().requires_grad_(true);
  const at::Tensor x = x_in.requires_grad() ? x_in : x_in.detach().requires_grad_(true);
  const at::Tensor u = f(t, x);
  if (u.sizes() != x.sizes())
    throw Error(cat("autograd_jet: the field must return one value per point, shape ", x.sizes(), ", got ", u.sizes()));
  Jet1D jet;
  jet.u = u;
  jet.u_t = grad_of_sum(u, t, create_graph);
  jet.u_x = grad_of_sum(u, x, true);
  jet.u_xx = grad_of_sum(jet.u_x, x, create_graph);
  if (!create_graph) {
    jet.u = jet.u.detach();
    jet.u_t = jet.u_t.detach();
    jet.u_x = jet.u_x.detach();
    jet.u_xx = jet.u_xx.detach();
  }
  return jet;
}

}  // namespace tessera::physics
