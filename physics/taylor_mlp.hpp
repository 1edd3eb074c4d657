// A tanh MLP on the periodic embedding (cos x, sin x, t) with Taylor-mode (forward jet)
// derivatives: one forward pass carries every hidden state together with its first t-derivative
// and its first and second x-derivatives, giving u, u_t, u_x, u_xx of every output channel
// without the three backward passes of autograd_jet. This is the network of the Lagrangian PINN
// (docs/references.md §8: inputs (cos x0, sin x0, t), outputs x_L and u, tanh, width 50, 5 hidden
// layers). The jet is built from ordinary differentiable torch ops, so a loss of its terms trains
// the parameters with loss.backward() (one reverse pass over a graph ~4x the plain forward).
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <vector>

#include "physics/point_derivatives.hpp"

namespace tessera::physics {

struct TanhMlpOptions {
  int64_t width = 50;         // hidden width
  int64_t hidden_layers = 5;  // tanh layers; hidden_layers + 1 Linear layers in all
  int64_t outputs = 2;        // output channels (the LPINN: x_L and u)
};

// The input map of the network: [N] t and x -> [N, 3] features (cos x, sin x, t). Periodic in x
// with period 2π, so the network is too.
at::Tensor periodic_features(const at::Tensor& t, const at::Tensor& x);

// The network as weights [out, in] and biases [out] (torch::nn::Linear layout), first layer 3 inputs.
// Plain evaluation: [N] t, x -> [N, outputs].
at::Tensor tanh_mlp_forward(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases,
                            const at::Tensor& t, const at::Tensor& x);
// Taylor-mode evaluation: every member of the jet is [N, outputs]; derivatives are w.r.t. the raw
// inputs t and x (the input map is part of the jet).
Jet1D tanh_mlp_jet(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases, const at::Tensor& t,
                   const at::Tensor& x);

class TanhMlpImpl : public torch::nn::Module {
 public:
  explicit TanhMlpImpl(const TanhMlpOptions& options = {});
  // t, x: [N] (same shape) -> [N, outputs].
  at::Tensor forward(const at::Tensor& t, const at::Tensor& x);
  // u, u_t, u_x, u_xx, each [N, outputs], in one forward pass.
  Jet1D jet(const at::Tensor& t, const at::Tensor& x);
  const TanhMlpOptions& options() const { return options_; }
  std::vector<at::Tensor> weights() const;
  std::vector<at::Tensor> biases() const;

 private:
  TanhMlpOptions options_;
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(TanhMlp);

}  // namespace tessera::physics
