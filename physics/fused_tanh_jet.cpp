#include "physics/fused_tanh_jet.hpp"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/error.hpp"

namespace tessera::physics {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Channels of the stacked jet: k * n + i is channel k, element i.
template <class T>
void jet_forward(const T* a, const T* y, T* out, int64_t n) {
  const T *at = a + n, *ax = a + 2 * n, *axx = a + 3 * n;
  T *ot = out + n, *ox = out + 2 * n, *oxx = out + 3 * n;
  for (int64_t i = 0; i < n; ++i) {
    const T d1 = T(1) - y[i] * y[i], d2 = T(-2) * y[i] * d1;
    ot[i] = d1 * at[i];
    ox[i] = d1 * ax[i];
    oxx[i] = d2 * ax[i] * ax[i] + d1 * axx[i];
  }
}

template <class T>
void jet_backward(const T* a, const T* y, const T* g, T* ga, int64_t n) {
  const T *at = a + n, *ax = a + 2 * n, *axx = a + 3 * n;
  const T *g1 = g + n, *g2 = g + 2 * n, *g3 = g + 3 * n;
  T *ga1 = ga + n, *ga2 = ga + 2 * n, *ga3 = ga + 3 * n;
  for (int64_t i = 0; i < n; ++i) {
    // y' = 1 − y², y'' = −2 y y', y''' = (6y² − 2) y'; each derivative w.r.t. a.
    const T d1 = T(1) - y[i] * y[i], d2 = T(-2) * y[i] * d1, d3 = (T(6) * y[i] * y[i] - T(2)) * d1;
    ga[i] = g[i] * d1 + g1[i] * d2 * at[i] + g2[i] * d2 * ax[i] + g3[i] * (d3 * ax[i] * ax[i] + d2 * axx[i]);
    ga1[i] = g1[i] * d1;
    ga2[i] = g2[i] * d1 + g3[i] * T(2) * d2 * ax[i];
    ga3[i] = g3[i] * d1;
  }
}

struct TanhJet : public torch::autograd::Function<TanhJet> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a_in) {
    const at::Tensor a = a_in.contiguous();
    const at::Tensor y = at::tanh(a[0]);  // vectorised tanh
    at::Tensor out = at::empty_like(a);
    out[0].copy_(y);
    const int64_t n = y.numel();
    AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "tanh_jet", [&] {
      jet_forward<scalar_t>(a.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), n);
    });
    ctx->save_for_backward({a, y});
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &a = saved[0], &y = saved[1];
    const at::Tensor g = grads[0].contiguous();
    at::Tensor ga = at::empty_like(a);
    AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "tanh_jet_backward", [&] {
      jet_backward<scalar_t>(a.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(),
                             ga.data_ptr<scalar_t>(), y.numel());
    });
    return {ga};
  }
};

}  // namespace

at::Tensor tanh_jet(const at::Tensor& a) {
  if (a.dim() < 1 || a.size(0) != 4) throw Error(cat("tanh_jet: expects a stacked jet [4, ...], got ", a.sizes()));
  if (!a.device().is_cpu()) {  // the fused loops are CPU code; elsewhere the plain ops
    const at::Tensor y = at::tanh(a[0]), d1 = 1 - y * y, d2 = -2 * y * d1;
    return at::stack({y, d1 * a[1], d1 * a[2], d2 * a[2] * a[2] + d1 * a[3]}, 0);
  }
  return TanhJet::apply(a);
}

Jet1D tanh_mlp_jet_fused(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases,
                         const at::Tensor& t, const at::Tensor& x) {
  if (weights.empty() || weights.size() != biases.size())
    throw Error(cat("tanh MLP: ", weights.size(), " weights and ", biases.size(), " biases"));
  // The input map z = (cos x, sin x, t) and its jet, as in tanh_mlp_jet.
  const at::Tensor c = at::cos(x), s = at::sin(x), zero = at::zeros_like(x), one = at::ones_like(x);
  at::Tensor h = at::stack({at::stack({c, s, t}, 1), at::stack({zero, zero, one}, 1), at::stack({-s, c, zero}, 1),
                            at::stack({-c, -s, zero}, 1)},
                           0);
  for (size_t l = 0; l < weights.size(); ++l) {
    at::Tensor a = at::linear(h, weights[l]);
    // The bias enters the value channel only.
    a = a + at::stack({biases[l], at::zeros_like(biases[l]), at::zeros_like(biases[l]), at::zeros_like(biases[l])})
                .unsqueeze(1);
    if (l + 1 == weights.size()) return {a[0], a[1], a[2], a[3]};
    h = tanh_jet(a);
  }
  throw Error("tanh MLP: unreachable");
}

}  // namespace tessera::physics
