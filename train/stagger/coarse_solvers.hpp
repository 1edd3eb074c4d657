// The s²·T coarse solvers of NeuralStagger (docs/neuralstagger.md), held as one bank of stacked
// weights so that any contiguous range of them runs as ONE grouped forward: a periodic-padding
// ResNet per solver — lift convolution (the shared input features -> width), `blocks` residual
// blocks of two convolutions with GELU, and a projection to one output channel. Solver g's weights
// are the g-th slice of every stacked tensor, so running solvers [a, b) on one rank and [b, c) on
// another gives, piece for piece, what running [a, c) on one process gives.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "train/optimizer_state.hpp"

namespace tessera::train::stagger {

struct CoarseSolverShape {
  int64_t solvers = 4;      // G = s²·T
  int64_t in_channels = 4;  // features per coarse point (s² per input field)
  int64_t width = 24;
  int64_t blocks = 3;
  int64_t kernel = 3;
};

class CoarseSolverBank {
 public:
  // Initialises with libtorch's global generator (seed it first): He-uniform convolutions, the
  // second convolution of each block and the projection scaled down so that a fresh bank is close
  // to the identity map of its residual parametrisation.
  CoarseSolverBank(const CoarseSolverShape& shape, const at::TensorOptions& options);

  // features [B, in_channels, n, n] -> outputs of solvers [first, last): [B, last − first, n, n].
  at::Tensor forward(const at::Tensor& features, int64_t first, int64_t last) const;

  const CoarseSolverShape& shape() const { return shape_; }
  NamedParameters& parameters() { return params_; }
  const NamedParameters& parameters() const { return params_; }
  int64_t parameter_count() const;

 private:
  CoarseSolverShape shape_;
  NamedParameters params_;
};

}  // namespace tessera::train::stagger
