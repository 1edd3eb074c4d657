// The consumers of a MeshGraphNet edge latent g between two processor steps, as one autograd node:
//   agg = scatter_sum_dst(g)      this step's node update (with `scatter`),
//   q = g · weightᵀ + bias        the next edge update's first layer, its block on g,
//   residual = g                  the next edge update's residual.
// The same values and gradients as the three separately. Separately, autograd makes a gradient per
// consumer (a product, a gather by destination, the residual's) and adds them in two more passes
// over [E, F]; here the backward is one pass: linalg::product_with_weight_plus (dq · weight + the
// residual's gradient + dagg gathered by destination, in the product's panels). The weight and
// bias gradients are linalg's chunked, thread-independent sums. Under autocast, or while a
// double backward is being built, the operations one by one.
#pragma once
#include <ATen/core/Tensor.h>

#include "gnn/edge_index.hpp"

namespace tessera::gnn {

struct EdgeLatentFanOut {
  at::Tensor q, residual;
  at::Tensor agg;           // undefined without `scatter`
  bool q_deferred = false;  // q is a placeholder whose gradient an edge_update hands back
};

// g: [E, F] (E = ei.num_edges()); weight: [P, F] (a column block of a larger weight is fine);
// bias: [P] or undefined. With `defer_q`, where this node runs (not under autocast), q is an
// unfilled [E, P] placeholder: gnn::edge_update makes q's values inside its own blocks and returns
// q's gradient to this node (q_deferred tells whether it was deferred).
EdgeLatentFanOut edge_latent_fan_out(const at::Tensor& g, const at::Tensor& weight, const at::Tensor& bias,
                                     const EdgeIndex& ei, bool scatter, bool defer_q = false);

}  // namespace tessera::gnn
