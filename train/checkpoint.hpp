// Checkpoints: one HDF5 file holding named tensors (model parameters, optimizer moments,
// normalizer statistics, RNG state) and string attributes (family, step, resolved deck).
// Written under a temporary name and renamed; h5py opens it. Loading restores tensors bit for
// bit, which is what makes resumed training equal to uninterrupted training.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/deck_difference.hpp"

namespace tessera::train {

struct Checkpoint {
  std::map<std::string, at::Tensor> tensors;      // name -> CPU tensor (float, double, int64, uint8)
  std::map<std::string, std::string> attributes;  // e.g. family, step, deck
};

// The layout version save_checkpoint stores (attribute `format`); load_checkpoint refuses any other
// (files without the attribute, from before it was stored, are read).
inline constexpr const char* kCheckpointFormat = "tessera-checkpoint-1";

// Also writes the model parameters (tensors named "model.<name>" or "param.<name>", stored as
// "<name>") as a PyTorch
// state_dict at state_dict_path(path), which Python's torch.load reads.
void save_checkpoint(const std::string& path, const Checkpoint& c);
// <checkpoint without .h5>.pt
std::string state_dict_path(const std::string& checkpoint);
// Named parameters as a PyTorch state_dict file (atomically), which torch.load reads without
// tessera: the .pt that save_checkpoint writes, and GNNPipe's selected.pt.
void save_state_dict(const std::string& path, const std::map<std::string, at::Tensor>& parameters);
Checkpoint load_checkpoint(const std::string& path);
// The model family a checkpoint holds (its `family` attribute); throws naming `path` if none.
std::string checkpoint_family(const std::string& path);
// A checkpoint attribute holding a whole number >= 0 (a step, a count, a fold) or a real number.
// Throws naming `path` and the attribute when it is missing or holds anything else, so a damaged
// checkpoint gets one clear error, not a conversion's exception.
int64_t attribute_count(const std::map<std::string, std::string>& attributes, const std::string& path,
                        const std::string& name);
double attribute_real(const std::map<std::string, std::string>& attributes, const std::string& path,
                      const std::string& name);

// What decides a run that its parameters' shapes do not show (the problem, the data split, the
// precision), by the deck key that sets each and its value as text. Recorded in a checkpoint as
// attributes "setup.<key>", so that a resume names the first setting that differs.
using RunSetup = std::vector<std::pair<std::string, std::string>>;
// The resolved deck a run was trained with ("deck") and the folder it was read from ("deck_dir",
// which its relative input paths are relative to; not stored when empty).
void put_deck(Checkpoint& c, const std::string& deck_yaml, const std::string& deck_dir);
void put_setup(Checkpoint& c, const RunSetup& setup);
// The first setting of `setup` that `c` recorded with another value ({key, stored, now}); none
// when all agree, or for settings it did not record (checkpoints before 2026-12-05).
std::optional<io::DeckDifference> setup_difference(const Checkpoint& c, const RunSetup& setup);
}  // namespace tessera::train
