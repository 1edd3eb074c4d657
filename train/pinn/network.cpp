#include "train/pinn/network.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <string>

#include "core/error.hpp"

namespace tessera::train::pinn {

PinnNetworkImpl::PinnNetworkImpl(const physics::TanhMlpOptions& options, bool separate) : outputs_(options.outputs) {
  if (!separate || options.outputs == 1) {
    branches_.push_back(register_module("mlp", physics::TanhMlp(options)));
    return;
  }
  physics::TanhMlpOptions one = options;
  one.outputs = 1;
  for (int64_t k = 0; k < options.outputs; ++k)
    branches_.push_back(register_module("mlp" + std::to_string(k), physics::TanhMlp(one)));
}

at::Tensor PinnNetworkImpl::forward(const at::Tensor& t, const at::Tensor& x) {
  if (branches_.size() == 1) return branches_[0]->forward(t, x);
  std::vector<at::Tensor> out;
  for (auto& b : branches_) out.push_back(b->forward(t, x));
  return at::cat(out, 1);
}

std::vector<physics::Jet1D> PinnNetworkImpl::jets(const at::Tensor& t, const at::Tensor& x,
                                                  const std::vector<physics::JetOrder>& orders) {
  if (static_cast<int64_t>(orders.size()) != outputs_)
    throw Error(cat("PINN network: ", orders.size(), " jet orders for ", outputs_, " outputs"));
  std::vector<physics::Jet1D> out;
  if (branches_.size() == 1) {
    const physics::JetOrder highest = *std::max_element(orders.begin(), orders.end());
    const physics::Jet1D all =
        physics::tanh_mlp_jet_fused(branches_[0]->weights(), branches_[0]->biases(), t, x, highest);
    for (int64_t k = 0; k < outputs_; ++k) out.push_back(all.channel(k));
    return out;
  }
  for (int64_t k = 0; k < outputs_; ++k)
    out.push_back(
        physics::tanh_mlp_jet_fused(branches_[k]->weights(), branches_[k]->biases(), t, x, orders[k]).channel(0));
  return out;
}

physics::DirectionalJet PinnNetworkImpl::directional(const at::Tensor& t, const at::Tensor& x, double speed) {
  const physics::DirectionalJet all =
      physics::tanh_mlp_directional_fused(branches_[0]->weights(), branches_[0]->biases(), t, x, speed);
  return {all.u.select(1, 0), all.du.select(1, 0)};
}

}  // namespace tessera::train::pinn
