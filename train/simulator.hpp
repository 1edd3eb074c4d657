// Simulator: the seam between training/rollout code and a mesh model family. A family maps
// normalised node features of one trajectory's mesh to normalised per-node outputs.
// Families: "transformer" (graph transformer, REFERENCES.md §3), "meshgraphnet" (§2). Later
// families (SPEN, LPINN, NeuralStagger, GNNPipe) add their own entries to make_simulator and to
// the `model` deck section; the checkpoint format (train/checkpoint.hpp) is shared.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>
#include <string>

#include "io/deck.hpp"
#include "train/mesh_data.hpp"

namespace tessera::train {

class Simulator {
public:
  virtual ~Simulator() = default;
  virtual at::Tensor forward(const at::Tensor& features, const TrajectoryData& t) = 0;
  virtual torch::nn::Module& module() = 0;
  const std::string& family() const { return family_; }

protected:
  std::string family_;
};

// The `model` deck section.
void add_model_keys(io::Schema& schema);
// Builds the deck's model for `in_dim` input and `out_dim` output channels.
std::unique_ptr<Simulator> make_simulator(const io::Deck& deck, int64_t in_dim, int64_t out_dim);

}  // namespace tessera::train
