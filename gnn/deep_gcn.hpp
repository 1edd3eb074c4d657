// Deep node-classification GNNs on one graph (docs/references.md §6): GCN, GraphSAGE, GCNII
// (initial residual and identity mapping) and ResGCN+ (pre-activation residual), any depth. A
// model is an input layer h0 = relu(fc0(dropout(x))), `layers` graph convolutions and an output
// layer fc1(dropout(h)). Each convolution is split into what a pipelined or partitioned trainer
// needs: pre(l, h) (node-wise, before aggregation: dropout, for ResGCN+ also norm and relu),
// the aggregation agg = Â z with Â = D^-1/2 (A + I) D^-1/2 (symmetric normalisation with self
// loops, on the segment_sum kernels), and post(l, agg, z, h, h0) (node-wise, after it):
//   GCN       h' = relu(agg W + b)
//   GraphSAGE h' = relu(z W_self + agg W_neigh + b)
//   GCNII     h' = relu(((1-a) agg + a h0)((1-b_l) I + b_l W)),  b_l = log(lambda / l + 1)
//   ResGCN+   z = dropout(relu(LayerNorm(h))),  h' = h + agg W + b
// Dropout masks come from a counter-based hash of (key, global node id, feature), so a node's
// mask is the same however the graph is partitioned, chunked or pipelined.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mesh/graph.hpp"

namespace tessera::gnn {

enum class DeepGcnKind { Gcn, Sage, Gcnii, ResGcnPlus };
DeepGcnKind deep_gcn_kind(const std::string& name);  // gcn, sage, gcnii, resgcn+
std::string deep_gcn_name(DeepGcnKind kind);

struct DeepGcnConfig {
  DeepGcnKind kind = DeepGcnKind::Gcnii;
  int64_t in = 1, hidden = 64, classes = 2, layers = 2;
  double alpha = 0.1, lambda = 0.5, dropout = 0.5;
};

// Â = D^-1/2 (A + I) D^-1/2 of a graph (its edges plus one self loop per node), sorted by
// (destination, source); w[e] = 1 / sqrt(deg(src) deg(dst)) with degrees counting the self loop.
struct NormalizedGraph {
  int64_t num_nodes = 0;
  std::vector<int64_t> src, dst, row_ptr;
  std::vector<double> weight;
};
NormalizedGraph normalized_adjacency(const mesh::Graph& g);

// Weighted edges from `num_src` source rows to `num_dst` destination rows, sorted by
// destination; the operand of aggregate().
struct WeightedEdges {
  int64_t num_dst = 0, num_src = 0;
  at::Tensor src, weight;                // [E], destination-sorted (weight: [E, 1] in the model's dtype)
  at::Tensor dst_ptr;                    // [num_dst + 1]: the CSR of destinations over src and weight
  at::Tensor src_ptr;                    // [num_src + 1]: the CSR of sources (the transposed graph) ...
  at::Tensor dst_by_src, weight_by_src;  // ... over the edges' destinations and weights in source order
  int64_t num_edges() const { return src.numel(); }
};
// dst must be sorted ascending; all ids in range.
WeightedEdges weighted_edges(int64_t num_dst, int64_t num_src, const std::vector<int64_t>& dst,
                             const std::vector<int64_t>& src, const std::vector<double>& weight, at::ScalarType dtype);
// out[i] = sum over edges e into i of weight[e] * x[src[e]]: [num_src, F] -> [num_dst, F].
// Differentiable in x (the backward is the transposed sum). Both are one pass of
// kernels::weighted_gather_sum over the CSR of destinations (forward) or sources (backward).
at::Tensor aggregate(const at::Tensor& x, const WeightedEdges& edges);

// Dropout masks: key of (seed, epoch, site) where site 0 is the input, 1..L the convolutions and
// L + 1 the output; the mask of `rows` (global node ids) with `features` columns holds 0 or
// 1 / (1 - p), drawn independently per (node, feature).
uint64_t dropout_key(uint64_t seed, int64_t epoch, int64_t site);
at::Tensor dropout_mask(uint64_t key, const std::vector<int64_t>& rows, int64_t features, double p,
                        at::ScalarType dtype);

class DeepGcnImpl : public torch::nn::Module {
 public:
  explicit DeepGcnImpl(const DeepGcnConfig& config);
  const DeepGcnConfig& config() const { return config_; }
  bool uses_h0() const { return config_.kind == DeepGcnKind::Gcnii; }
  // x already dropped out; returns h0.
  at::Tensor input(const at::Tensor& x) const;
  // l in 1..layers; mask: dropout mask or undefined (no dropout).
  at::Tensor pre(int64_t l, const at::Tensor& h, const at::Tensor& mask) const;
  at::Tensor post(int64_t l, const at::Tensor& agg, const at::Tensor& z, const at::Tensor& h,
                  const at::Tensor& h0) const;
  // h already dropped out; returns logits.
  at::Tensor output(const at::Tensor& h) const;
  // Parameters of site l: 0 the input layer, 1..layers the convolutions, layers + 1 the output.
  std::vector<at::Tensor> site_parameters(int64_t l) const;

 private:
  DeepGcnConfig config_;
  at::Tensor fc0_w_, fc0_b_, fc1_w_, fc1_b_;
  std::vector<at::Tensor> w_, w_self_, b_, ln_w_, ln_b_;
};

}  // namespace tessera::gnn
