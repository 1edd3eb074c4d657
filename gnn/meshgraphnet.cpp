#include "gnn/meshgraphnet.hpp"

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "gnn/layers.hpp"
#include "gnn/message_passing.hpp"

namespace tessera::gnn {

MeshGraphNetImpl::MeshGraphNetImpl(const MeshGraphNetConfig& c) : config_(c) {
  if (c.node_in < 1 || c.edge_in < 1 || c.out_dim < 1 || c.steps < 1)
    throw Error("meshgraphnet: node_in, edge_in, out_dim and steps must be positive");
  const int64_t l = c.latent;
  node_enc_ = register_module("node_encoder", make_mlp(c.node_in, l, l, c.hidden_layers, true));
  edge_enc_ = register_module("edge_encoder", make_mlp(c.edge_in, l, l, c.hidden_layers, true));
  decoder_ = register_module("decoder", make_mlp(l, l, c.out_dim, c.hidden_layers, false));
  for (int64_t s = 0; s < c.steps; ++s) {
    edge_mlp_.push_back(register_module("edge_mlp_" + std::to_string(s), make_mlp(3 * l, l, l, c.hidden_layers, true)));
    node_mlp_.push_back(register_module("node_mlp_" + std::to_string(s), make_mlp(2 * l, l, l, c.hidden_layers, true)));
  }
}

at::Tensor MeshGraphNetImpl::forward(const at::Tensor& x, const at::Tensor& e, const EdgeIndex& ei) {
  if (x.size(0) != ei.num_nodes || e.size(0) != ei.num_edges())
    throw Error(cat("meshgraphnet: ", x.size(0), " nodes and ", e.size(0), " edges given for a graph of ", ei.num_nodes,
                    " nodes and ", ei.num_edges(), " edges"));
  at::Tensor h = node_enc_->forward(x), g = edge_enc_->forward(e);
  for (size_t s = 0; s < edge_mlp_.size(); ++s) {
    g = g + edge_mlp_[s]->forward(at::cat({g, gather_src(h, ei), gather_dst(h, ei)}, 1));
    h = h + node_mlp_[s]->forward(at::cat({h, scatter_sum_dst(g, ei)}, 1));
  }
  return decoder_->forward(h);
}

}  // namespace tessera::gnn
