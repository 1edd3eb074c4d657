// The graph transformer mesh simulator (docs/references.md §3): MLP encoder, pre-RMSNorm blocks of
// graph-masked multi-head attention and gated MLP, MLP decoder. Attention in each layer is split
// into head groups, each attending over its own graph, so augmentations can be applied to chosen
// heads and layers (e.g. dilation on half of the heads in the last layers).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <vector>

#include "gnn/edge_index.hpp"
#include "gnn/layers.hpp"

namespace tessera::gnn {

struct TransformerConfig {
  int64_t in_dim = 0, out_dim = 0;
  int64_t latent = 64, layers = 4, heads = 4;
  int mlp_layers = 4;        // Linear layers in the encoder and decoder MLPs
  int64_t mlp_ratio = 3;     // gated MLP width = mlp_ratio * latent
  bool rope = false;         // rotary position embedding from node coordinates
  double rope_scale = 50.0;  // angle = coordinate * rope_scale * 10000^(-k / pairs)
};

// One layer's attention plan: contiguous head groups, each with the graph it attends over.
struct HeadGroup {
  const EdgeIndex* graph;
  int64_t heads;
};
using LayerMask = std::vector<HeadGroup>;

// All heads on `base` in every layer; if `dilated` is given, the second half of the heads of the
// last `dilation_layers` layers use it instead.
std::vector<LayerMask> mask_plan(const TransformerConfig& config, const EdgeIndex& base,
                                 const EdgeIndex* dilated = nullptr, int64_t dilation_layers = 0);

// Rotates consecutive pairs of each head's features by angles proportional to the node
// coordinates (one block of pairs per coordinate axis), so q.k depends on relative positions.
// float32/float64 take each pair as a complex number and rotate it with one complex product;
// other dtypes (bf16 under autocast, which has no complex type) take apply_rope_real, the same
// rotation in real arithmetic.
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& pos, double scale);
at::Tensor apply_rope_real(const at::Tensor& x, const at::Tensor& pos, double scale);

// apply_rope's angles as a table: cos and sin [N, A * P] in `type`, P = head_dim / (2 A). The
// inference path makes it once per forward pass and shares it between the layers.
struct RopeTable {
  at::Tensor cos, sin;
};
RopeTable rope_table(const at::Tensor& pos, int64_t head_dim, double scale, at::ScalarType type);

class GraphAttentionImpl : public torch::nn::Module {
 public:
  GraphAttentionImpl(int64_t dim, int64_t heads, bool rope, double rope_scale);
  // `table`: where a caller keeps the rotation table between layers (made here when empty).
  at::Tensor forward(const at::Tensor& x, const LayerMask& mask, const at::Tensor& pos, RopeTable* table = nullptr);

 private:
  int64_t heads_;
  bool rope_;
  double rope_scale_;
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr};
};
TORCH_MODULE(GraphAttention);

class MeshTransformerImpl : public torch::nn::Module {
 public:
  explicit MeshTransformerImpl(const TransformerConfig& config);
  // x: [N, in_dim]; masks: one per layer (or one for all); pos: [N, 2|3] (needed with rope).
  at::Tensor forward(const at::Tensor& x, const std::vector<LayerMask>& masks, const at::Tensor& pos = {});
  const TransformerConfig& config() const { return config_; }

 private:
  TransformerConfig config_;
  torch::nn::Sequential encoder_{nullptr}, decoder_{nullptr};
  std::vector<RMSNorm> norm1_, norm2_;
  std::vector<GraphAttention> attn_;
  std::vector<GatedMLP> mlp_;
};
TORCH_MODULE(MeshTransformer);

}  // namespace tessera::gnn
