// Data-parallel training: sums every parameter's gradient over the ranks, in one reduction.
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

#include "core/comm.hpp"

namespace tessera::train {

// A parameter some rank did not reach has no gradient there: the ranks agree on which ones have
// one anywhere and give them zeros where missing, so every rank reduces the same buffer and a
// parameter no rank reached keeps no gradient (AdamW leaves it untouched). The gradients are
// flattened into one host buffer (MPI reads host memory) of their dtype (float or double).
// No-op on one rank.
void allreduce_gradients(const Comm& comm, const std::vector<at::Tensor>& parameters);

}  // namespace tessera::train
