// Launchers of the CUDA sparse-attention kernels (torch-free; see ../sparse_attention.hpp for
// the maths). One warp per (node, head); head dimension up to 256.
#pragma once
#include <cstdint>

#include "gnn/kernels/cuda/dtype.hpp"

namespace tessera::gnn::kernels::cuda {

struct AttentionArgs {
  const void *q, *k, *v;  // [N, H, D] of dtype
  const int64_t *dst_ptr, *src, *dst, *src_ptr, *src_perm;
  int64_t n, heads, d;
  double scale;
};

// out: [N, H, D] dtype; lse: [N, H] in the accumulation type (fp64 for f64, else fp32).
void launch_attention_forward(DType dtype, const AttentionArgs& a, void* out, void* lse, void* stream);
// edge_w, edge_ds: [E, H] scratch in the accumulation type; dq, dk, dv: [N, H, D] dtype.
void launch_attention_backward(DType dtype, const AttentionArgs& a, const void* grad_out, const void* out,
                               const void* lse, void* dq, void* dk, void* dv, void* edge_w, void* edge_ds,
                               void* stream);
int max_head_dim();

}  // namespace tessera::gnn::kernels::cuda
