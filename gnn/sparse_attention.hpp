// Multi-head attention masked by a graph, as a differentiable op with its own CPU and CUDA
// kernels (gnn/kernels/sparse_attention.hpp), plus two plain-torch references used by tests and
// benchmarks. q, k, v: [N, H, D]; node i attends to the sources of the edges entering it.
#pragma once
#include <ATen/core/Tensor.h>

#include "gnn/edge_index.hpp"

namespace tessera::gnn {

// The fused kernels: O(E*H) work and memory beyond q, k, v, out. scale <= 0 means 1/sqrt(D).
at::Tensor sparse_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const EdgeIndex& ei,
                            double scale = 0);

// Inference only (no autograd: throws when grad mode is on and q, k or v requires grad): the same
// values written into `out` [N, H, D]. q, k, v and out may be views of head ranges of one layer's
// tensors (e.g. qkv.select(1, 0).narrow(1, h0, heads)); the CPU kernel reads and writes them in
// place, so head groups on different graphs need no copies and no concatenation.
void sparse_attention_into(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const EdgeIndex& ei,
                           const at::Tensor& out, double scale = 0);

// Reference 1: dense N x N scores with -inf outside the adjacency mask (O(N^2 H) memory).
at::Tensor dense_masked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const EdgeIndex& ei,
                                  double scale = 0);

// Reference 2: the usual plain-torch edge implementation (index_select per edge, scatter-max,
// scatter-sum softmax, index_add of weighted values), as in PyTorch Geometric style code.
at::Tensor edge_attention_torch(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const EdgeIndex& ei,
                                double scale = 0);

}  // namespace tessera::gnn
