// Checkpoints: one HDF5 file holding named tensors (model parameters, optimizer moments,
// normalizer statistics, RNG state) and string attributes (family, step, resolved deck).
// Written under a temporary name and renamed; h5py opens it. Loading restores tensors bit for
// bit, which is what makes resumed training equal to uninterrupted training.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>

namespace tessera::train {

struct Checkpoint {
  std::map<std::string, at::Tensor> tensors;      // name -> CPU tensor (float, double, int64, uint8)
  std::map<std::string, std::string> attributes;  // e.g. family, step, deck
};

// Also writes the model parameters (tensors named "model.<name>" or "param.<name>", stored as
// "<name>") as a PyTorch
// state_dict at state_dict_path(path), which Python's torch.load reads.
void save_checkpoint(const std::string& path, const Checkpoint& c);
// <checkpoint without .h5>.pt
std::string state_dict_path(const std::string& checkpoint);
Checkpoint load_checkpoint(const std::string& path);
// The model family a checkpoint holds (its `family` attribute); throws naming `path` if none.
std::string checkpoint_family(const std::string& path);
// The learning-rate schedule position of the next step stored with a checkpoint (attribute
// schedule_step, see Learner::schedule_position); `step`, the same without a time budget, for
// checkpoints written before it was stored. Throws
// naming `path` if the attribute is not a non-negative whole number.
int64_t checkpoint_schedule_step(const Checkpoint& c, const std::string& path, int64_t step);

}  // namespace tessera::train
