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

// q: [E, F], ps, pr: [N, F] -> [E, F], row e = q[e] + ps[src[e]] + pr[dst[e]], then ReLU if
// `relu`. One pass over the edges instead of two gathers, two sums and an activation: the first
// layer of an edge MLP on [e, x_src, x_dst] with its node blocks applied per node (MeshGraphNet).
// Backward: the ReLU mask, then segment sums by source and by destination (differentiable).
at::Tensor gather_add(const at::Tensor& q, const at::Tensor& ps, const at::Tensor& pr, const EdgeIndex& ei, bool relu);

}  // namespace tessera::gnn
