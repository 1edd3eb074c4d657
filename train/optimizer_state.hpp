// AdamW state in checkpoints: each parameter's moments and step count as the tensors
// "optim.<name>.exp_avg", ".exp_avg_sq" and ".step", so resumed training continues bit for bit.
// Shared by every family whose learner uses libtorch's AdamW.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/ordered_dict.h>

#include <string>

#include "train/checkpoint.hpp"

namespace torch::optim {
class Optimizer;
}

namespace tessera::train {

using NamedParameters = torch::OrderedDict<std::string, at::Tensor>;

// Stores the AdamW state of the parameters that have one (a parameter no step reached has none).
void pack_adamw_state(Checkpoint& c, const NamedParameters& params, torch::optim::Optimizer& adamw);
// Throws naming `path` (with `key`, if given) unless the checkpoint holds exactly `count` tensors
// named "<prefix><name>": one of a model with more layers holds more, and loading the model's own
// parameters alone dropped the rest without a word. `other` says what differs ("another
// spen.model").
void require_parameter_count(const Checkpoint& c, const std::string& path, const std::string& prefix, size_t count,
                             const std::string& other, const std::string& key = "");
// Copies the checkpoint's "model.<name>" tensors into `params` (no autograd); a missing tensor,
// another shape or a tensor the parameters lack (require_parameter_count) throws naming `path` and
// the parameter (with `key`, e.g. train.resume, if given).
void unpack_parameters(const Checkpoint& c, const std::string& path, NamedParameters& params,
                       const std::string& key = "");
// Restores it onto each parameter's device and dtype; `path` names the checkpoint in errors.
void unpack_adamw_state(const Checkpoint& c, const std::string& path, const NamedParameters& params,
                        torch::optim::Optimizer& adamw);

}  // namespace tessera::train
