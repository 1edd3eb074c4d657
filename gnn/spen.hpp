// SPEN, subgraph permutation-equivariant networks (Mitton & Murray-Smith; docs/references.md §7):
// 2-IGN layers applied to every subgraph of a GraphBatch (ego-networks; the whole graph for the
// global 2-IGN), batched by subgraph size. Subgraphs of one size share weights; sizes not in
// `own_sizes` share one further set. Overlapping outputs are averaged onto the global nodes and
// pairs, then ELU and GraphNorm. Readout: 2->0 and 1->0 maps per subgraph, summed over layers,
// mean over each graph's subgraphs, then the classifier head.
#pragma once
#include <torch/nn/modules/container/modulelist.h>

#include <vector>

#include "gnn/graph_classifier.hpp"

namespace tessera::gnn {

struct SpenConfig {
  int64_t pair_in = 1, node_in = 1;  // input channels
  int64_t channels = 32;             // width of every layer
  int64_t layers = 3;
  int64_t classes = 2;
  std::vector<int64_t> own_sizes;  // subgraph sizes with their own weights (others share one)
};

class Spen : public GraphClassifier {
 public:
  explicit Spen(const SpenConfig& config);
  at::Tensor forward(const GraphBatch& batch, const std::vector<at::Tensor>& dropout_masks) override;
  // The graph-level features before the head ([G, kHead0]).
  at::Tensor embed(const GraphBatch& batch);
  // Weight set used by subgraphs of size m.
  int64_t bucket(int64_t m) const;
  int64_t num_buckets() const { return static_cast<int64_t>(config_.own_sizes.size()) + 1; }
  torch::nn::ModuleList layers{nullptr};       // [layer * num_buckets + bucket]: IgnLayer
  std::vector<at::Tensor> readout2, readout1;  // per layer: [2, C, kHead0], [1, C, kHead0]

 private:
  SpenConfig config_;
  torch::nn::ModuleList norms_{nullptr};  // [2 * layer]: pairs, [2 * layer + 1]: nodes
  ClassifierHead head_{nullptr};
};

}  // namespace tessera::gnn
