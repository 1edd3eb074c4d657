#include "gnn/spen.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/malloc_policy.hpp"
#include "gnn/ign_layers.hpp"
#include "gnn/layers.hpp"

namespace tessera::gnn {

Spen::Spen(const SpenConfig& c) : config_(c) {
  // Every step allocates and frees the same [B, m, m, C] blocks: keep them mapped (9% of a CSL
  // step went to page faults).
  core::retain_freed_memory();
  std::sort(config_.own_sizes.begin(), config_.own_sizes.end());
  layers = register_module("layers", torch::nn::ModuleList());
  norms_ = register_module("norms", torch::nn::ModuleList());
  for (int64_t l = 0; l < c.layers; ++l) {
    const int64_t pin = l == 0 ? c.pair_in : c.channels, nin = l == 0 ? c.node_in : c.channels;
    for (int64_t b = 0; b < num_buckets(); ++b) layers->push_back(IgnLayer(pin, nin, c.channels));
    norms_->push_back(GraphNorm(c.channels));
    norms_->push_back(GraphNorm(c.channels));
    const double bound = 1.0 / std::sqrt(3.0 * c.channels);
    readout2.push_back(
        register_parameter(cat("readout2_", l), at::empty({2, c.channels, kHead0}).uniform_(-bound, bound)));
    readout1.push_back(
        register_parameter(cat("readout1_", l), at::empty({1, c.channels, kHead0}).uniform_(-bound, bound)));
  }
  head_ = register_module("head", ClassifierHead(kHead0, kHead1, c.classes));
}

int64_t Spen::bucket(int64_t m) const {
  const auto& s = config_.own_sizes;
  const auto it = std::lower_bound(s.begin(), s.end(), m);
  return it != s.end() && *it == m ? it - s.begin() : static_cast<int64_t>(s.size());
}

at::Tensor Spen::embed(const GraphBatch& b) {
  const int64_t G = b.num_graphs, C = config_.channels;
  const int64_t P = b.pair_x.size(0), N = b.node_x.size(0);
  at::Tensor h2 = b.pair_x, h1 = b.node_x;
  at::Tensor readout = at::zeros({G, kHead0}, h1.options());
  for (int64_t l = 0; l < config_.layers; ++l) {
    at::Tensor y2 = at::zeros({P, C}, h1.options()), y1 = at::zeros({N, C}, h1.options());
    for (const SubgraphGroup& g : b.groups) {
      const int64_t B = g.node_index.size(0), m = g.m;
      const at::Tensor pi = g.pair_index.reshape(-1), ni = g.node_index.reshape(-1);
      const at::Tensor x2 = h2.index_select(0, pi).view({B, m, m, h2.size(1)});
      const at::Tensor x1 = h1.index_select(0, ni).view({B, m, h1.size(1)});
      auto [o2, o1] = layers[l * num_buckets() + bucket(m)]->as<IgnLayerImpl>()->forward(x2, x1);
      y2 = y2.index_add(0, pi, o2.reshape({B * m * m, C}));
      y1 = y1.index_add(0, ni, o1.reshape({B * m, C}));
    }
    h2 = norms_[2 * l]->as<GraphNormImpl>()->forward(at::elu(y2 / b.pair_cover), b.pair_graph, G);
    h1 = norms_[2 * l + 1]->as<GraphNormImpl>()->forward(at::elu(y1 / b.node_cover), b.node_graph, G);
    for (const SubgraphGroup& g : b.groups) {
      const int64_t B = g.node_index.size(0), m = g.m;
      const at::Tensor x2 = h2.index_select(0, g.pair_index.reshape(-1)).view({B, m, m, C});
      const at::Tensor x1 = h1.index_select(0, g.node_index.reshape(-1)).view({B, m, C});
      readout = readout.index_add(0, g.graph, ign_2to0(x2, readout2[l]) + ign_1to0(x1, readout1[l]));
    }
  }
  return readout / b.subgraph_count;
}

at::Tensor Spen::forward(const GraphBatch& b, const std::vector<at::Tensor>& masks) {
  return head_->forward(embed(b), masks);
}

}  // namespace tessera::gnn
