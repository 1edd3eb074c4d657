// Simulator: the seam between training/rollout code and a mesh model family. A family maps
// normalised node features of one trajectory's mesh to normalised per-node outputs.
// Families: "transformer" (graph transformer, docs/references.md §3), "meshgraphnet" (§2).
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>
#include <string>

#include "gnn/mesh_transformer.hpp"
#include "gnn/meshgraphnet.hpp"
#include "train/mesh_data.hpp"

namespace tessera::train {

class Simulator {
 public:
  virtual ~Simulator() = default;
  virtual at::Tensor forward(const at::Tensor& features, const TrajectoryData& t) = 0;
  virtual torch::nn::Module& module() = 0;
  const std::string& family() const { return family_; }
  // Temporal bundling: steps predicted per forward pass (model.bundle); the output holds
  // kOutputChannels per step, step after step.
  int64_t bundle() const { return bundle_; }
  void set_bundle(int64_t bundle) { bundle_ = bundle; }

 protected:
  std::string family_;
  int64_t bundle_ = 1;
};

// The `model` section of a mesh simulator deck, read once (train/mesh_sim_options.hpp). The
// input and output widths are filled in by make_simulator.
struct ModelOptions {
  std::string family = "transformer";  // transformer or meshgraphnet
  gnn::TransformerConfig transformer;
  gnn::MeshGraphNetConfig meshgraphnet;
  int64_t dilation_layers = 2;  // transformer: last layers whose second half of heads use the dilated graph
  int64_t bundle = 1;           // temporal bundling: future steps predicted per forward pass (docs/references.md §10)
  // Blocks or message-passing steps: how far (in hops) the model sees, the halo depth it needs.
  int64_t depth() const { return family == "transformer" ? transformer.layers : meshgraphnet.steps; }
};

// Builds the model for `in_dim` input and `out_dim` output channels per predicted step (the
// network's output is out_dim × options.bundle wide).
std::unique_ptr<Simulator> make_simulator(const ModelOptions& options, int64_t in_dim, int64_t out_dim);

}  // namespace tessera::train
