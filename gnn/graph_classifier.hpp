// What the graph classifiers (SPEN, global 2-IGN, GIN; docs/references.md §7) share: a batch of
// small graphs with their subgraphs grouped by size, a per-graph normalisation (GraphNorm) and
// the classifier head (MLP 256 -> 128 -> classes with dropout, ELU).
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <vector>

namespace tessera::mesh {
struct SubgraphBatch;
}

namespace tessera::gnn {

// Subgraphs of one size m: which batch nodes and pairs they hold, and their graph.
struct SubgraphGroup {
  int64_t m = 0;
  at::Tensor node_index;  // [B, m] long
  at::Tensor pair_index;  // [B, m, m] long
  at::Tensor graph;       // [B] long
};

// A batch of G graphs: node and pair features of all graphs concatenated.
struct GraphBatch {
  int64_t num_graphs = 0;
  at::Tensor node_x, pair_x;          // [N, Cn], [P, Cp]
  at::Tensor node_graph, pair_graph;  // [N], [P] long
  at::Tensor node_cover, pair_cover;  // [N, 1], [P, 1]: subgraphs holding each node / pair (>= 1)
  at::Tensor subgraph_count;          // [G, 1]
  at::Tensor edge_src, edge_dst;      // directed edges (both directions), batch node ids (GIN)
  std::vector<SubgraphGroup> groups;  // by increasing m
};

// Tensors of a mesh::SubgraphBatch; node_x/pair_x rows follow its node and pair numbering,
// edges are (src, dst) pairs of batch node ids. Floating tensors take node_x's dtype.
GraphBatch make_graph_batch(const mesh::SubgraphBatch& b, at::Tensor node_x, at::Tensor pair_x,
                            const std::vector<std::pair<int64_t, int64_t>>& edges);

// Per-graph normalisation (Cai et al., GraphNorm): gamma * (h - alpha * mean_g) / std_g + beta,
// mean and std over the rows of each graph.
class GraphNormImpl : public torch::nn::Module {
 public:
  explicit GraphNormImpl(int64_t channels);
  at::Tensor forward(const at::Tensor& h, const at::Tensor& segment, int64_t segments);
  at::Tensor gamma, beta, alpha;
};
TORCH_MODULE(GraphNorm);

// The classifier head: ELU, dropout, Linear(widths[0] -> widths[1]), ELU, dropout,
// Linear(widths[1] -> classes). Dropout uses the masks given (already scaled by 1/(1-p); one per
// hidden width, rows = graphs), so the caller decides the randomness; none: evaluation.
class ClassifierHeadImpl : public torch::nn::Module {
 public:
  ClassifierHeadImpl(int64_t width0, int64_t width1, int64_t classes);
  at::Tensor forward(const at::Tensor& x, const std::vector<at::Tensor>& masks);

 private:
  torch::nn::Linear l1_{nullptr}, l2_{nullptr};
};
TORCH_MODULE(ClassifierHead);

// A graph classifier: logits [G, classes] of a batch.
class GraphClassifier : public torch::nn::Module {
 public:
  // Widths of the head's two hidden layers (dropout masks are [G, width]).
  static constexpr int64_t kHead0 = 256, kHead1 = 128;
  virtual at::Tensor forward(const GraphBatch& batch, const std::vector<at::Tensor>& dropout_masks) = 0;
};

}  // namespace tessera::gnn
