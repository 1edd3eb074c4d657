// MeshGraphNet (docs/references.md §2): encode nodes and edges with LayerNorm-ed MLPs, then `steps`
// rounds of message passing (edge update from [e, x_src, x_dst], node update from [x, sum of
// incoming e]), both residual, then an MLP decoder. Aggregation runs on gnn::scatter_sum_dst,
// the same kernel layer as everything else.
//
// The first layer of each edge MLP is never applied to the concatenation: its weight's column
// blocks W = [W_e | W_s | W_r] act as W_e e per edge plus (W_s x) and (W_r x) computed per node
// and gathered, which is the same function with 2/3 fewer edge-sized products. On the CPU with
// libxsmm the whole edge update is one node (gnn::edge_update: W_e e, the gathers, the bias and the
// ReLU in the panels of the MLP's row blocks, e's uses in gnn::edge_latent_fan_out); elsewhere
// gnn::gather_add adds the three with the bias and the ReLU in one pass and gnn::mlp_forward runs
// the rest. The node MLP's first layer is W_x x + W_a agg likewise. The
// stored parameters are unchanged (full first-layer weights, same names), so checkpoints load
// either way; `reference_forward` is the plain concatenation form, kept for tests.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <vector>

#include "gnn/edge_index.hpp"

namespace tessera::gnn {

struct MeshGraphNetConfig {
  int64_t node_in = 0, edge_in = 0, out_dim = 0;
  int64_t latent = 128, steps = 15;
  int hidden_layers = 2;
};

class MeshGraphNetImpl : public torch::nn::Module {
 public:
  explicit MeshGraphNetImpl(const MeshGraphNetConfig& config);
  // x: [N, node_in], e: [E, edge_in] in the EdgeIndex's edge order.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& e, const EdgeIndex& ei);
  // The same function evaluated as written in the paper: MLPs on concatenated features.
  at::Tensor reference_forward(const at::Tensor& x, const at::Tensor& e, const EdgeIndex& ei);
  const MeshGraphNetConfig& config() const { return config_; }

 private:
  void check_sizes(const at::Tensor& x, const at::Tensor& e, const EdgeIndex& ei) const;
  MeshGraphNetConfig config_;
  torch::nn::Sequential node_enc_{nullptr}, edge_enc_{nullptr}, decoder_{nullptr};
  std::vector<torch::nn::Sequential> edge_mlp_, node_mlp_;
};
TORCH_MODULE(MeshGraphNet);

}  // namespace tessera::gnn
