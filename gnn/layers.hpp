// Building blocks shared by the mesh models: MLPs (optionally LayerNorm-ed, as in
// MeshGraphNets), RMSNorm and the gated MLP of the graph transformer (docs/references.md §2, §3).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include "linalg/linear.hpp"

namespace tessera::gnn {

// in -> hidden (x hidden_layers, each Linear + activation) -> out, then LayerNorm(out) if asked.
torch::nn::Sequential make_mlp(int64_t in, int64_t hidden, int64_t out, int hidden_layers, bool layer_norm,
                               const std::string& activation = "relu");

// The modules of `mlp` from `first` as linalg::mlp's layers, when they are [ReLU] (Linear ReLU)*
// Linear [LayerNorm] with an affine norm over the last dimension; false otherwise.
bool as_mlp_layers(const torch::nn::Sequential& mlp, size_t first, linalg::MlpLayers& l);

// Runs a make_mlp Sequential from module `first` on (the caller may have applied the modules
// before it itself), plus `residual` if given. The same function as mlp->forward(x) + residual:
// ReLU MLPs as one fused node (linalg::mlp: the ReLUs, the LayerNorm and the residual in the
// products' panels); others module by module, their ReLUs in place on x when `x_owned` (x is a
// temporary no one else reads). The result may be modified in place.
at::Tensor mlp_forward(const torch::nn::Sequential& mlp, at::Tensor x, size_t first = 0, bool x_owned = false,
                       const at::Tensor& residual = {});

class RMSNormImpl : public torch::nn::Module {
 public:
  explicit RMSNormImpl(int64_t dim, double eps = 1e-6);
  at::Tensor forward(const at::Tensor& x);

 private:
  at::Tensor weight_;
  double eps_;
};
TORCH_MODULE(RMSNorm);

// W_out( silu(W_gate x) * W_up x ), hidden width `hidden`.
class GatedMLPImpl : public torch::nn::Module {
 public:
  GatedMLPImpl(int64_t dim, int64_t hidden);
  at::Tensor forward(const at::Tensor& x);

 private:
  torch::nn::Linear gate_{nullptr}, up_{nullptr}, down_{nullptr};
};
TORCH_MODULE(GatedMLP);

}  // namespace tessera::gnn
