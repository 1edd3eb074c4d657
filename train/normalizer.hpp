// Normalizer: online per-channel mean/std as in MeshGraphNets (docs/references.md §2). Statistics
// accumulate in float64 over the first `max_accumulations` calls, then freeze; its state is
// three tensors, saved in checkpoints.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>

#include "core/comm.hpp"

namespace tessera::train {

class Normalizer {
 public:
  Normalizer() = default;
  Normalizer(std::string name, int64_t channels, int64_t max_accumulations = 1000000, double eps = 1e-8);
  // x: [rows, channels]; no-op once frozen. With a communicator, the rows of all ranks count
  // (each rank passes the rows it owns), so statistics equal those of a single process.
  void accumulate(const at::Tensor& x, const Comm& comm = Comm::self());
  at::Tensor normalize(const at::Tensor& x) const;
  at::Tensor inverse(const at::Tensor& x) const;  // undo normalize
  at::Tensor mean() const;
  at::Tensor std() const;
  const std::string& name() const { return name_; }
  // State for checkpoints: count (scalar), sum and sum of squares per channel (float64).
  at::Tensor count, sum, sumsq;
  int64_t accumulations = 0;

 private:
  std::string name_;
  int64_t max_acc_ = 0;
  double eps_ = 1e-8;
};

}  // namespace tessera::train
