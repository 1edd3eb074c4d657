// GIN (Xu et al., ICLR 2019), the 1-WL-bounded baseline of the graph classifiers: h <- MLP((1 +
// eps) h + sum of neighbours), GraphNorm and ReLU per layer; sum-pooled features of every layer
// (input included) are mapped to the head's width and summed, then the shared classifier head.
#pragma once
#include <torch/nn/modules/container/modulelist.h>

#include "gnn/graph_classifier.hpp"

namespace tessera::gnn {

struct GinConfig {
  int64_t node_in = 1, channels = 64, layers = 4, classes = 2;
};

class Gin : public GraphClassifier {
 public:
  explicit Gin(const GinConfig& config);
  at::Tensor forward(const GraphBatch& batch, const std::vector<at::Tensor>& dropout_masks) override;
  at::Tensor embed(const GraphBatch& batch);

 private:
  GinConfig config_;
  torch::nn::ModuleList mlps_{nullptr}, norms_{nullptr}, readouts_{nullptr};
  at::Tensor eps_;
  ClassifierHead head_{nullptr};
};

}  // namespace tessera::gnn
