#include "gnn/meshgraphnet.hpp"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

#include "core/error.hpp"
#include "core/malloc_policy.hpp"
#include "gnn/edge_latent_fan_out.hpp"
#include "gnn/edge_update.hpp"
#include "gnn/layers.hpp"
#include "gnn/message_passing.hpp"
#include "linalg/linear.hpp"

namespace tessera::gnn {

MeshGraphNetImpl::MeshGraphNetImpl(const MeshGraphNetConfig& c) : config_(c) {
  if (c.node_in < 1 || c.edge_in < 1 || c.out_dim < 1 || c.steps < 1)
    throw Error("meshgraphnet: node_in, edge_in, out_dim and steps must be positive");
  core::retain_freed_memory();
  const int64_t l = c.latent;
  node_enc_ = register_module("node_encoder", make_mlp(c.node_in, l, l, c.hidden_layers, true));
  edge_enc_ = register_module("edge_encoder", make_mlp(c.edge_in, l, l, c.hidden_layers, true));
  decoder_ = register_module("decoder", make_mlp(l, l, c.out_dim, c.hidden_layers, false));
  for (int64_t s = 0; s < c.steps; ++s) {
    edge_mlp_.push_back(register_module("edge_mlp_" + std::to_string(s), make_mlp(3 * l, l, l, c.hidden_layers, true)));
    node_mlp_.push_back(register_module("node_mlp_" + std::to_string(s), make_mlp(2 * l, l, l, c.hidden_layers, true)));
  }
}

void MeshGraphNetImpl::check_sizes(const at::Tensor& x, const at::Tensor& e, const EdgeIndex& ei) const {
  if (x.size(0) != ei.num_nodes || e.size(0) != ei.num_edges())
    throw Error(cat("meshgraphnet: ", x.size(0), " nodes and ", e.size(0), " edges given for a graph of ", ei.num_nodes,
                    " nodes and ", ei.num_edges(), " edges"));
}

namespace {

// Column block k (width l) of a Linear's weight, for x W_kᵀ through linalg::linear: a strided view.
at::Tensor block(const at::Tensor& weight, int64_t k, int64_t l) { return weight.narrow(1, k * l, l); }

bool relu_at(const torch::nn::Sequential& mlp, size_t i) {
  return i < mlp->size() && dynamic_cast<torch::nn::ReLUImpl*>(mlp->ptr(i).get()) != nullptr;
}

}  // namespace

at::Tensor MeshGraphNetImpl::forward(const at::Tensor& x, const at::Tensor& e, const EdgeIndex& ei) {
  check_sizes(x, e, ei);
  const int64_t l = config_.latent;
  at::Tensor h = mlp_forward(node_enc_, x), g = mlp_forward(edge_enc_, e);
  const auto first_layer = [](const torch::nn::Sequential& mlp) { return mlp->ptr<torch::nn::LinearImpl>(0).get(); };
  // Each edge update after its first layer's ReLU, where edge_update can run it as one node with
  // that layer (its product made in the rest's blocks, never stored): then the fan-out defers q.
  std::vector<linalg::MlpLayers> rest(edge_mlp_.size());
  std::vector<bool> fused(edge_mlp_.size());
  for (size_t s = 0; s < edge_mlp_.size(); ++s)
    fused[s] = relu_at(edge_mlp_[s], 1) && as_mlp_layers(edge_mlp_[s], 2, rest[s]) && edge_update_fuses(g, rest[s]);
  // The edge latent's consumers in the next edge update (its first layer's block on g and the
  // residual) and in this step's node update (the sum into destinations), as one autograd node.
  EdgeLatentFanOut uses = edge_latent_fan_out(g, block(first_layer(edge_mlp_[0])->weight, 0, l),
                                              first_layer(edge_mlp_[0])->bias, ei, false, fused[0]);
  for (size_t s = 0; s < edge_mlp_.size(); ++s) {
    // Edge update: W [g, h_src, h_dst] + b = (W_e g + b) + (W_s h)[src] + (W_r h)[dst].
    const auto& em = edge_mlp_[s];
    const auto* e0 = first_layer(em);
    const bool e_relu = relu_at(em, 1);
    at::Tensor ps = linalg::linear(h, block(e0->weight, 1, l)), pr = linalg::linear(h, block(e0->weight, 2, l));
    if (uses.q_deferred) {
      g = edge_update(uses, block(e0->weight, 0, l), e0->bias, ps, pr, rest[s], ei);
    } else {
      at::Tensor a = gather_add(uses.q, ps, pr, ei, e_relu);
      g = mlp_forward(em, a, e_relu ? 2 : 1, true, uses.residual);  // plus the residual
    }
    at::Tensor agg;
    if (s + 1 < edge_mlp_.size()) {
      const auto* next = first_layer(edge_mlp_[s + 1]);
      uses = edge_latent_fan_out(g, block(next->weight, 0, l), next->bias, ei, true, fused[s + 1]);
      agg = uses.agg;
    } else {
      agg = scatter_sum_dst(g, ei);
    }
    // Node update: W [h, agg] + b = (W_h h + b) + W_a agg, without the concatenation.
    const auto& nm = node_mlp_[s];
    const auto* n0 = first_layer(nm);
    at::Tensor z =
        linalg::linear(h, block(n0->weight, 0, l), n0->bias).add_(linalg::linear(agg, block(n0->weight, 1, l)));
    h = mlp_forward(nm, z, 1, true, h);
  }
  return mlp_forward(decoder_, h);
}

at::Tensor MeshGraphNetImpl::reference_forward(const at::Tensor& x, const at::Tensor& e, const EdgeIndex& ei) {
  check_sizes(x, e, ei);
  at::Tensor h = node_enc_->forward(x), g = edge_enc_->forward(e);
  for (size_t s = 0; s < edge_mlp_.size(); ++s) {
    g = g + edge_mlp_[s]->forward(at::cat({g, gather_src(h, ei), gather_dst(h, ei)}, 1));
    h = h + node_mlp_[s]->forward(at::cat({h, scatter_sum_dst(g, ei)}, 1));
  }
  return decoder_->forward(h);
}

}  // namespace tessera::gnn
