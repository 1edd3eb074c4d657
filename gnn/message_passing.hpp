// Differentiable gather/scatter over an EdgeIndex, the building blocks of message passing.
// Reductions go through kernels::segment_sum (CPU or CUDA), so forward and backward are
// deterministic on both devices.
#pragma once
#include <ATen/core/Tensor.h>

#include "gnn/edge_index.hpp"

namespace tessera::gnn {

// x: [N, F] -> [E, F], row e = x[src[e]]. Backward sums edge gradients into their sources.
at::Tensor gather_src(const at::Tensor& x, const EdgeIndex& ei);

// x: [N, F] -> [E, F], row e = x[dst[e]]. Backward sums edge gradients into their destinations.
at::Tensor gather_dst(const at::Tensor& x, const EdgeIndex& ei);

// m: [E, F] -> [N, F], row i = sum of m over the edges entering i. Backward gathers by dst.
at::Tensor scatter_sum_dst(const at::Tensor& m, const EdgeIndex& ei);

}  // namespace tessera::gnn
