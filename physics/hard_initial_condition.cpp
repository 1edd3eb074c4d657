#include "physics/hard_initial_condition.hpp"

#include <ATen/ATen.h>

namespace tessera::physics {

namespace {

// g + t·n member by member: undefined n stays undefined, undefined g counts as zero.
at::Tensor plus_t_times(const at::Tensor& g, const at::Tensor& t, const at::Tensor& n) {
  if (!n.defined()) return {};
  return g.defined() ? g + t * n : t * n;
}

}  // namespace

Jet1D starting_from(const Jet1D& g, const at::Tensor& t, const Jet1D& n) {
  Jet1D v;
  v.u = plus_t_times(g.u, t, n.u);
  v.u_t = plus_t_times(n.u, t, n.u_t);  // ∂t (t n) = n + t n_t; g has no t-derivative
  v.u_x = plus_t_times(g.u_x, t, n.u_x);
  v.u_xx = plus_t_times(g.u_xx, t, n.u_xx);
  return v;
}

DirectionalJet starting_from(const Jet1D& g, const at::Tensor& t, const DirectionalJet& n, double speed) {
  at::Tensor du = n.u + t * n.du;
  if (speed != 0) du = du + speed * g.u_x;
  return {plus_t_times(g.u, t, n.u), du};
}

Jet1D initial_condition_jet(const Problem1D& p, const at::Tensor& x) {
  const at::Tensor s = at::sin(x);
  return {initial_condition(p, x), at::zeros_like(x), at::cos(x), -s};
}

}  // namespace tessera::physics
