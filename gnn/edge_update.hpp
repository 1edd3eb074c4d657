// A MeshGraphNet edge update with its first layer split by input (meshgraphnet.cpp), as one
// autograd node:
//   a  = max(q + ps[src] + pr[dst], 0)    q = g · weightᵀ + bias, the first layer's block on g,
//   g' = rest(a) + g                      ps, pr: its sender and receiver blocks applied per node,
// where rest is the edge MLP after the first layer's ReLU (linalg::MlpLayers: hidden layers, the
// output layer, its LayerNorm). The forward runs by blocks of edges through every layer
// (linalg::mlp_forward_by_blocks), making each block's a in the first product's panels
// (linalg::product_with_weight_gathered_into): q is never stored, and a and the hidden outputs are
// read from the core's cache. The backward is linalg::mlp_backward_by_chunks down to the first
// layer's masked gradient dq, then its segment sums by source and by destination (dps, dpr); dq is
// handed to edge_latent_fan_out's node, which made q a placeholder (`defer_q`) and takes its
// weight, bias and g gradients from dq as before. The same values and gradients as the operations
// one by one (gather_add, linalg::mlp); a double backward recomputes them differentiably.
#pragma once
#include <ATen/core/Tensor.h>

#include "gnn/edge_index.hpp"
#include "gnn/edge_latent_fan_out.hpp"
#include "linalg/linear.hpp"

namespace tessera::gnn {

// Whether edge_update fuses for an edge latent like g and this rest (CPU, fp32/fp64, libxsmm, no
// autocast, a rest that linalg::mlp fuses): then ask edge_latent_fan_out to defer q.
bool edge_update_fuses(const at::Tensor& g, const linalg::MlpLayers& rest);

// uses: edge_latent_fan_out(g, weight, bias, ei, ..., defer_q = true)'s result (uses.q_deferred);
// weight [P, F], bias [P] (or undefined): the first layer's block on g, as given to it; ps, pr
// [N, P]; rest: its first layer takes P inputs, its output has F columns -> g' [E, F].
at::Tensor edge_update(const EdgeLatentFanOut& uses, const at::Tensor& weight, const at::Tensor& bias,
                       const at::Tensor& ps, const at::Tensor& pr, const linalg::MlpLayers& rest, const EdgeIndex& ei);

}  // namespace tessera::gnn
