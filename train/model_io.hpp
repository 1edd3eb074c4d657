// Moving a trained mesh simulator in and out of checkpoints: its parameters and normalisers
// (shared by training and rollout), and loading a model for inference from the checkpoint
// alone (its stored deck rebuilds the architecture).
#pragma once
#include <memory>
#include <string>

#include "train/checkpoint.hpp"
#include "train/evaluate.hpp"
#include "train/mesh_sim_options.hpp"

namespace tessera::train {

void pack_model(Checkpoint& c, Simulator& model, const Normalizers& norms);
// Throws naming `path` when a tensor is missing or its shape differs from the model's.
void unpack_model(const Checkpoint& c, const std::string& path, Simulator& model, Normalizers& norms);
const at::Tensor& checkpoint_tensor(const Checkpoint& c, const std::string& path, const std::string& name);

struct TrainedModel {
  MeshSimOptions options;  // read from the training deck stored in the checkpoint
  std::unique_ptr<Simulator> model;
  Normalizers norms;
  int64_t step = 0;
};
TrainedModel load_trained_model(const std::string& checkpoint_path);

}  // namespace tessera::train
