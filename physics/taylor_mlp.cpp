#include "physics/taylor_mlp.hpp"

#include <ATen/ATen.h>

#include <string>

#include "core/error.hpp"

namespace tessera::physics {

namespace {

void check_points(const at::Tensor& t, const at::Tensor& x) {
  if (!t.defined() || !x.defined()) throw Error("tanh MLP: t and x must be defined");
  if (t.dim() != 1 || t.sizes() != x.sizes())
    throw Error(cat("tanh MLP: t and x must be 1-D of the same length, got ", t.sizes(), " and ", x.sizes()));
}

void check_layers(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases) {
  if (weights.empty() || weights.size() != biases.size())
    throw Error(
        cat("tanh MLP: need as many biases as weights (at least one), got ", weights.size(), " and ", biases.size()));
  int64_t in = 3;
  for (size_t l = 0; l < weights.size(); ++l) {
    if (weights[l].dim() != 2 || weights[l].size(1) != in || biases[l].dim() != 1 ||
        biases[l].size(0) != weights[l].size(0))
      throw Error(cat("tanh MLP: layer ", l, " has weight ", weights[l].sizes(), " and bias ", biases[l].sizes(),
                      ", expected weight [out, ", in, "] and bias [out]"));
    in = weights[l].size(0);
  }
}

}  // namespace

at::Tensor periodic_features(const at::Tensor& t, const at::Tensor& x) {
  check_points(t, x);
  return at::stack({at::cos(x), at::sin(x), t}, 1);
}

at::Tensor tanh_mlp_forward(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases,
                            const at::Tensor& t, const at::Tensor& x) {
  check_layers(weights, biases);
  at::Tensor h = periodic_features(t, x);
  for (size_t l = 0; l < weights.size(); ++l) {
    h = at::linear(h, weights[l], biases[l]);
    if (l + 1 < weights.size()) h = at::tanh(h);
  }
  return h;
}

Jet1D tanh_mlp_jet(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases, const at::Tensor& t,
                   const at::Tensor& x) {
  check_layers(weights, biases);
  check_points(t, x);
  // The input map z = (cos x, sin x, t): z_t = (0, 0, 1), z_x = (-sin x, cos x, 0),
  // z_xx = (-cos x, -sin x, 0).
  const at::Tensor c = at::cos(x), s = at::sin(x), zero = at::zeros_like(x), one = at::ones_like(x);
  // The jet as one stacked tensor [4, N, width]: value, d/dt, d/dx, d²/dx², so each affine layer is
  // one matmul.
  at::Tensor h = at::stack({at::stack({c, s, t}, 1), at::stack({zero, zero, one}, 1), at::stack({-s, c, zero}, 1),
                            at::stack({-c, -s, zero}, 1)},
                           0);
  for (size_t l = 0; l < weights.size(); ++l) {
    // Affine: the bias enters the value only; derivatives are linear maps of the input derivatives.
    const at::Tensor a = at::linear(h, weights[l]);
    const at::Tensor a0 = a[0] + biases[l], a_t = a[1], a_x = a[2], a_xx = a[3];
    if (l + 1 == weights.size()) return {a0, a_t, a_x, a_xx};
    // tanh: y = tanh(a), y' = 1 - y², y'' = -2 y y'; chain rule to second order in x.
    const at::Tensor y = at::tanh(a0), d1 = 1 - y * y, d2 = -2 * y * d1;
    h = at::stack({y, d1 * a_t, d1 * a_x, d2 * a_x * a_x + d1 * a_xx}, 0);
  }
  throw Error("tanh MLP: unreachable");
}

TanhMlpImpl::TanhMlpImpl(const TanhMlpOptions& o) : options_(o) {
  if (o.width < 1 || o.hidden_layers < 1 || o.outputs < 1)
    throw Error(cat("tanh MLP: width, hidden_layers and outputs must be positive, got ", o.width, ", ", o.hidden_layers,
                    ", ", o.outputs));
  int64_t in = 3;
  for (int64_t l = 0; l <= o.hidden_layers; ++l) {
    const int64_t out = l == o.hidden_layers ? o.outputs : o.width;
    layers_.push_back(register_module("linear" + std::to_string(l), torch::nn::Linear(in, out)));
    in = out;
  }
}

std::vector<at::Tensor> TanhMlpImpl::weights() const {
  std::vector<at::Tensor> w;
  for (const auto& l : layers_) w.push_back(l->weight);
  return w;
}

std::vector<at::Tensor> TanhMlpImpl::biases() const {
  std::vector<at::Tensor> b;
  for (const auto& l : layers_) b.push_back(l->bias);
  return b;
}

at::Tensor TanhMlpImpl::forward(const at::Tensor& t, const at::Tensor& x) {
  return tanh_mlp_forward(weights(), biases(), t, x);
}

Jet1D TanhMlpImpl::jet(const at::Tensor& t, const at::Tensor& x) { return tanh_mlp_jet(weights(), biases(), t, x); }

}  // namespace tessera::physics
