#include "gnn/gin.hpp"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>

namespace tessera::gnn {

Gin::Gin(const GinConfig& c) : config_(c) {
  mlps_ = register_module("mlps", torch::nn::ModuleList());
  norms_ = register_module("norms", torch::nn::ModuleList());
  readouts_ = register_module("readouts", torch::nn::ModuleList());
  readouts_->push_back(torch::nn::Linear(c.node_in, kHead0));
  for (int64_t l = 0; l < c.layers; ++l) {
    const int64_t in = l == 0 ? c.node_in : c.channels;
    mlps_->push_back(torch::nn::Sequential(torch::nn::Linear(in, c.channels), torch::nn::ReLU(),
                                           torch::nn::Linear(c.channels, c.channels)));
    norms_->push_back(GraphNorm(c.channels));
    readouts_->push_back(torch::nn::Linear(c.channels, kHead0));
  }
  eps_ = register_parameter("eps", at::zeros({c.layers}));
  head_ = register_module("head", ClassifierHead(kHead0, kHead1, c.classes));
}

at::Tensor Gin::embed(const GraphBatch& b) {
  const int64_t G = b.num_graphs;
  at::Tensor h = b.node_x;
  auto pool = [&](const at::Tensor& x) { return at::zeros({G, x.size(1)}, x.options()).index_add(0, b.node_graph, x); };
  at::Tensor out = readouts_[0]->as<torch::nn::LinearImpl>()->forward(pool(h));
  for (int64_t l = 0; l < config_.layers; ++l) {
    const at::Tensor agg = at::zeros_like(h).index_add(0, b.edge_dst, h.index_select(0, b.edge_src));
    h = mlps_[l]->as<torch::nn::SequentialImpl>()->forward((1 + eps_[l]) * h + agg);
    h = at::relu(norms_[l]->as<GraphNormImpl>()->forward(h, b.node_graph, G));
    out = out + readouts_[l + 1]->as<torch::nn::LinearImpl>()->forward(pool(h));
  }
  return out;
}

at::Tensor Gin::forward(const GraphBatch& b, const std::vector<at::Tensor>& masks) {
  return head_->forward(embed(b), masks);
}

}  // namespace tessera::gnn
