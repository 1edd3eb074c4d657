#include "gnn/graph_classifier.hpp"

#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>

#include <cmath>

#include "core/error.hpp"
#include "mesh/ego_network.hpp"

namespace tessera::gnn {
namespace {

at::Tensor longs(const std::vector<int64_t>& v) { return at::tensor(v, at::kLong); }

// Rows per segment as a [S, 1] tensor of `like`'s dtype.
at::Tensor counts(const std::vector<int64_t>& segment_of_row, int64_t segments, const at::Tensor& like) {
  std::vector<double> c(segments, 0.0);
  for (int64_t s : segment_of_row) c[s] += 1;
  return at::tensor(c, at::kDouble).to(like.scalar_type()).view({segments, 1});
}

}  // namespace

GraphBatch make_graph_batch(const mesh::SubgraphBatch& b, at::Tensor node_x, at::Tensor pair_x,
                            const std::vector<std::pair<int64_t, int64_t>>& edges) {
  if (node_x.size(0) != b.num_nodes || pair_x.size(0) != b.num_pairs)
    throw Error(cat("make_graph_batch: ", node_x.size(0), " node and ", pair_x.size(0), " pair rows for ", b.num_nodes,
                    " nodes and ", b.num_pairs, " pairs"));
  GraphBatch g;
  g.num_graphs = b.num_graphs;
  g.node_x = node_x;
  g.pair_x = pair_x.to(node_x.scalar_type());
  g.node_graph = longs(b.node_graph);
  g.pair_graph = longs(b.pair_graph);
  std::vector<int64_t> node_of_slot, pair_of_slot;
  for (const auto& grp : b.groups) {
    node_of_slot.insert(node_of_slot.end(), grp.node_index.begin(), grp.node_index.end());
    pair_of_slot.insert(pair_of_slot.end(), grp.pair_index.begin(), grp.pair_index.end());
    SubgraphGroup t;
    t.m = grp.m;
    t.node_index = longs(grp.node_index).view({grp.count(), grp.m});
    t.pair_index = longs(grp.pair_index).view({grp.count(), grp.m, grp.m});
    t.graph = longs(grp.graph);
    g.groups.push_back(std::move(t));
  }
  g.node_cover = counts(node_of_slot, b.num_nodes, node_x).clamp_min(1);
  g.pair_cover = counts(pair_of_slot, b.num_pairs, node_x).clamp_min(1);
  std::vector<int64_t> sub_graph;
  for (int64_t i = 0; i < b.num_graphs; ++i) sub_graph.insert(sub_graph.end(), b.subgraphs_per_graph[i], i);
  g.subgraph_count = counts(sub_graph, b.num_graphs, node_x).clamp_min(1);
  std::vector<int64_t> src, dst;
  for (const auto& [u, v] : edges) {
    src.push_back(u);
    dst.push_back(v);
  }
  g.edge_src = longs(src);
  g.edge_dst = longs(dst);
  return g;
}

GraphNormImpl::GraphNormImpl(int64_t channels) {
  gamma = register_parameter("gamma", at::ones({channels}));
  beta = register_parameter("beta", at::zeros({channels}));
  alpha = register_parameter("alpha", at::ones({channels}));
}

at::Tensor GraphNormImpl::forward(const at::Tensor& h, const at::Tensor& seg, int64_t segments) {
  const at::Tensor ones = at::ones({h.size(0), 1}, h.options());
  const at::Tensor cnt = at::zeros({segments, 1}, h.options()).index_add(0, seg, ones).clamp_min(1);
  const at::Tensor zeros = at::zeros({segments, h.size(1)}, h.options());
  auto per_graph_mean = [&](const at::Tensor& x) { return zeros.index_add(0, seg, x) / cnt; };
  const at::Tensor mean = per_graph_mean(h).index_select(0, seg);
  // h - alpha mean, as (h - mean) + (1 - alpha) mean. A channel that is constant over a graph in
  // exact arithmetic (constant features on a regular graph: CSL, SR25) carries round-off in
  // h - mean whose sign depends on the row's place in the batch's matrix products; the ReLU after
  // the norm then opened or closed each node's gradient on that sign, and GIN trained differently
  // at each rank count. Where the spread is within round-off (eps^(3/4) of the mean |h|) the
  // forward value of h - mean is exactly 0; its gradient is kept.
  at::Tensor centred = h - mean;
  {
    const at::ScalarType type = h.scalar_type();
    const double eps = type == at::kDouble     ? 0x1p-52
                       : type == at::kFloat    ? 0x1p-23
                       : type == at::kBFloat16 ? 0x1p-7
                                               : 0x1p-10;  // half
    const at::Tensor d = centred.detach();
    const at::Tensor spread = per_graph_mean(d * d).sqrt(), scale = per_graph_mean(d.abs() + mean.detach().abs());
    const at::Tensor round_off = (spread <= std::pow(eps, 0.75) * scale).index_select(0, seg);
    centred = centred - at::where(round_off, d, at::zeros_like(d));
  }
  const at::Tensor c = centred + (1 - alpha) * mean;
  const at::Tensor var = per_graph_mean(c * c).index_select(0, seg);
  return gamma * c / at::sqrt(var + 1e-5) + beta;
}

ClassifierHeadImpl::ClassifierHeadImpl(int64_t width0, int64_t width1, int64_t classes) {
  l1_ = register_module("l1", torch::nn::Linear(width0, width1));
  l2_ = register_module("l2", torch::nn::Linear(width1, classes));
}

at::Tensor ClassifierHeadImpl::forward(const at::Tensor& x, const std::vector<at::Tensor>& masks) {
  if (!masks.empty() && masks.size() != 2)
    throw Error(cat("classifier head: 2 dropout masks expected, got ", masks.size()));
  at::Tensor h = at::elu(x);
  if (!masks.empty()) h = h * masks[0];
  h = at::elu(l1_->forward(h));
  if (!masks.empty()) h = h * masks[1];
  return l2_->forward(h);
}

}  // namespace tessera::gnn
