// The network of a PINN case: one tanh MLP on (cos x, sin x, t) giving every output (shared hidden
// layers, as the authors' released LPINN code), or one MLP per output (separate branches, as the
// LPINN paper's figure draws it; docs/pinn.md). With separate branches the LPINN's u is not pulled
// by the trajectory's much larger residual through shared weights, and each branch's jet carries
// only the derivatives its own residual reads.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "physics/fused_tanh_jet.hpp"
#include "physics/taylor_mlp.hpp"

namespace tessera::train::pinn {

class PinnNetworkImpl : public torch::nn::Module {
 public:
  // options.outputs outputs; separate: one MLP (options.width × options.hidden_layers) per output.
  PinnNetworkImpl(const physics::TanhMlpOptions& options, bool separate);
  // t, x: [N] -> [N, outputs].
  at::Tensor forward(const at::Tensor& t, const at::Tensor& x);
  // The Taylor-mode jet of each output ([N] members), output k carrying orders[k] (a shared MLP
  // carries the highest of them for all).
  std::vector<physics::Jet1D> jets(const at::Tensor& t, const at::Tensor& x,
                                   const std::vector<physics::JetOrder>& orders);
  // Output 0 and its derivative along dx/dt = speed (u_t + speed·u_x), [N] each, from a two-channel
  // jet of output 0's MLP: all a constant-speed transport residual reads.
  physics::DirectionalJet directional(const at::Tensor& t, const at::Tensor& x, double speed);
  int64_t outputs() const { return outputs_; }
  bool separate() const { return branches_.size() > 1; }

 private:
  int64_t outputs_ = 0;
  std::vector<physics::TanhMlp> branches_;
};
TORCH_MODULE(PinnNetwork);

}  // namespace tessera::train::pinn
