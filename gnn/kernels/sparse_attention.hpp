// Multi-head attention restricted to a graph (docs/references.md §3): node i attends to the sources
// of its incoming edges only. For head h and edge e = (j -> i):
//   s_e = scale * <q_i, k_j>,  a_e = softmax over the edges entering i of s_e,
//   o_i = sum_e a_e v_j.
// q, k, v: [N, H, D] contiguous; edges sorted by destination (CSR dst_ptr, sources src).
// The forward keeps only the row log-sum-exp lse [N, H] (fp32, or fp64 for double inputs); the
// backward recomputes the weights from it, so memory is O(N*H*D + E*H), never O(N^2).
// Nodes without incoming edges get o_i = 0 and lse = -inf.
#pragma once
#include <ATen/core/Tensor.h>

#include <tuple>

namespace tessera::gnn::kernels {

struct AttentionGraph {
  at::Tensor src, dst;           // [E] int64, sorted by (dst, src)
  at::Tensor dst_ptr;            // [N + 1]
  at::Tensor src_ptr, src_perm;  // edges grouped by source (for dK, dV)
};

// Returns (out [N, H, D], lse [N, H]).
std::tuple<at::Tensor, at::Tensor> sparse_attention_forward(const at::Tensor& q, const at::Tensor& k,
                                                            const at::Tensor& v, const AttentionGraph& g, double scale);
// Inference (no lse): out = the attention, written into `out` [N, H, D]. q, k, v and out may be
// views of head ranges of larger tensors (the head groups of one layer writing one output
// without copies); the CPU kernel reads them in place when attention_layout_applies, otherwise
// the result of sparse_attention_forward is copied in.
void sparse_attention_inference_into(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     const AttentionGraph& g, double scale, const at::Tensor& out);
// Returns (dq, dk, dv).
std::tuple<at::Tensor, at::Tensor, at::Tensor> sparse_attention_backward(const at::Tensor& grad_out,
                                                                         const at::Tensor& q, const at::Tensor& k,
                                                                         const at::Tensor& v, const at::Tensor& out,
                                                                         const at::Tensor& lse, const AttentionGraph& g,
                                                                         double scale);

namespace cpu {
std::tuple<at::Tensor, at::Tensor> sparse_attention_forward(const at::Tensor& q, const at::Tensor& k,
                                                            const at::Tensor& v, const AttentionGraph& g, double scale);
// What the CPU forward reads in place: the last two dimensions of q, k, v and out dense, one
// node stride for q, k, v, out in q's dtype.
bool attention_layout_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& out);
// fp32/fp64 inputs in that layout; lse (optional) [N, H] contiguous.
void sparse_attention_forward_into(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const AttentionGraph& g, double scale, const at::Tensor& out, at::Tensor* lse);
std::tuple<at::Tensor, at::Tensor, at::Tensor> sparse_attention_backward(const at::Tensor& grad_out,
                                                                         const at::Tensor& q, const at::Tensor& k,
                                                                         const at::Tensor& v, const at::Tensor& out,
                                                                         const at::Tensor& lse, const AttentionGraph& g,
                                                                         double scale);
}  // namespace cpu
namespace cuda {
std::tuple<at::Tensor, at::Tensor> sparse_attention_forward(const at::Tensor& q, const at::Tensor& k,
                                                            const at::Tensor& v, const AttentionGraph& g, double scale);
std::tuple<at::Tensor, at::Tensor, at::Tensor> sparse_attention_backward(const at::Tensor& grad_out,
                                                                         const at::Tensor& q, const at::Tensor& k,
                                                                         const at::Tensor& v, const at::Tensor& out,
                                                                         const at::Tensor& lse, const AttentionGraph& g,
                                                                         double scale);
}  // namespace cuda

}  // namespace tessera::gnn::kernels
