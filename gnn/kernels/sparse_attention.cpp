#include "gnn/kernels/sparse_attention.hpp"

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "tessera/config.hpp"

namespace tessera::gnn::kernels {
namespace {

void check_inputs(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionGraph& g) {
  if (q.dim() != 3 || k.sizes() != q.sizes() || v.sizes() != q.sizes())
    throw Error(
        cat("sparse_attention: q, k, v must all be [N, H, D]; got ", q.sizes(), ", ", k.sizes(), ", ", v.sizes()));
  if (q.scalar_type() != k.scalar_type() || q.scalar_type() != v.scalar_type())
    throw Error("sparse_attention: q, k, v must have one dtype");
  if (g.dst_ptr.numel() != q.size(0) + 1)
    throw Error(cat("sparse_attention: graph has ", g.dst_ptr.numel() - 1, " nodes, q has ", q.size(0)));
  for (const at::Tensor* t : {&g.src, &g.dst, &g.dst_ptr, &g.src_ptr, &g.src_perm}) {
    if (t->scalar_type() != at::kLong) throw Error("sparse_attention: graph index tensors must be int64");
    if (t->device() != q.device()) throw Error("sparse_attention: graph and q, k, v must be on one device");
  }
}

bool reduced(const at::Tensor& t) { return t.scalar_type() == at::kBFloat16 || t.scalar_type() == at::kHalf; }

}  // namespace

std::tuple<at::Tensor, at::Tensor> sparse_attention_forward(const at::Tensor& q, const at::Tensor& k,
                                                            const at::Tensor& v, const AttentionGraph& g,
                                                            double scale) {
  check_inputs(q, k, v, g);
  if (q.is_cuda()) {
#if TESSERA_HAVE_CUDA
    return cuda::sparse_attention_forward(q, k, v, g, scale);
#else
    throw Error("sparse_attention: this build of tessera has no CUDA kernels");
#endif
  }
  // The CPU kernels compute in fp32 or fp64: half-precision inputs are widened and the output
  // rounded back, the same contract as the CUDA kernels' fp32 accumulation.
  if (reduced(q)) {
    auto [out, lse] = cpu::sparse_attention_forward(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), g, scale);
    return {out.to(q.scalar_type()), lse};
  }
  return cpu::sparse_attention_forward(q, k, v, g, scale);
}

void sparse_attention_inference_into(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     const AttentionGraph& g, double scale, const at::Tensor& out) {
  check_inputs(q, k, v, g);
  if (out.sizes() != q.sizes() || out.device() != q.device())
    throw Error(cat("sparse_attention: out ", out.sizes(), " must be q's shape ", q.sizes(), " on q's device"));
  if (q.is_cpu() && !reduced(q) && cpu::attention_layout_applies(q, k, v, out))
    return cpu::sparse_attention_forward_into(q, k, v, g, scale, out, nullptr);
  out.copy_(std::get<0>(sparse_attention_forward(q, k, v, g, scale)));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> sparse_attention_backward(const at::Tensor& grad_out,
                                                                         const at::Tensor& q, const at::Tensor& k,
                                                                         const at::Tensor& v, const at::Tensor& out,
                                                                         const at::Tensor& lse, const AttentionGraph& g,
                                                                         double scale) {
  check_inputs(q, k, v, g);
  if (q.is_cuda()) {
#if TESSERA_HAVE_CUDA
    return cuda::sparse_attention_backward(grad_out, q, k, v, out, lse, g, scale);
#else
    throw Error("sparse_attention: this build of tessera has no CUDA kernels");
#endif
  }
  if (reduced(q)) {
    auto f = [](const at::Tensor& t) { return t.to(at::kFloat); };
    auto [dq, dk, dv] = cpu::sparse_attention_backward(f(grad_out), f(q), f(k), f(v), f(out), lse, g, scale);
    return {dq.to(q.scalar_type()), dk.to(q.scalar_type()), dv.to(q.scalar_type())};
  }
  return cpu::sparse_attention_backward(grad_out, q, k, v, out, lse, g, scale);
}

}  // namespace tessera::gnn::kernels
