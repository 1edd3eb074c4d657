// Torch-facing wrapper of the CUDA sparse-attention kernels: checks, allocation, current stream.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include "core/error.hpp"
#include "gnn/kernels/cuda/sparse_attention_kernel.hpp"
#include "gnn/kernels/sparse_attention.hpp"

namespace tessera::gnn::kernels::cuda {
namespace {

DType dtype_of(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat:
      return DType::f32;
    case at::kDouble:
      return DType::f64;
    case at::kHalf:
      return DType::f16;
    case at::kBFloat16:
      return DType::bf16;
    default:
      throw Error(cat("sparse_attention: unsupported dtype ", t.scalar_type()));
  }
}

at::ScalarType acc_type(const at::Tensor& t) { return t.scalar_type() == at::kDouble ? at::kDouble : at::kFloat; }

AttentionArgs args_of(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionGraph& g,
                      double scale) {
  if (q.size(2) > max_head_dim())
    throw Error(cat("sparse_attention: head dimension ", q.size(2), " exceeds the CUDA kernel's ", max_head_dim()));
  return {q.data_ptr(),
          k.data_ptr(),
          v.data_ptr(),
          g.dst_ptr.data_ptr<int64_t>(),
          g.src.data_ptr<int64_t>(),
          g.dst.data_ptr<int64_t>(),
          g.src_ptr.data_ptr<int64_t>(),
          g.src_perm.data_ptr<int64_t>(),
          q.size(0),
          q.size(1),
          q.size(2),
          scale};
}

void check_launch() {
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess)
    throw Error(cat("sparse_attention: CUDA launch failed: ", cudaGetErrorString(e)));
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> sparse_attention_forward(const at::Tensor& q_in, const at::Tensor& k_in,
                                                            const at::Tensor& v_in, const AttentionGraph& g,
                                                            double scale) {
  const c10::cuda::CUDAGuard guard(q_in.device());
  const at::Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
  at::Tensor out = at::empty_like(q);
  at::Tensor lse = at::empty({q.size(0), q.size(1)}, q.options().dtype(acc_type(q)));
  launch_attention_forward(dtype_of(q), args_of(q, k, v, g, scale), out.data_ptr(), lse.data_ptr(),
                           c10::cuda::getCurrentCUDAStream().stream());
  check_launch();
  return {out, lse};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> sparse_attention_backward(
    const at::Tensor& go_in, const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in,
    const at::Tensor& out_in, const at::Tensor& lse_in, const AttentionGraph& g, double scale) {
  const c10::cuda::CUDAGuard guard(q_in.device());
  const at::Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
  const at::Tensor go = go_in.contiguous().to(q.scalar_type()), out = out_in.contiguous(), lse = lse_in.contiguous();
  at::Tensor dq = at::empty_like(q), dk = at::empty_like(k), dv = at::empty_like(v);
  const int64_t e = g.src.numel();
  at::Tensor edge_w = at::empty({e, q.size(1)}, q.options().dtype(acc_type(q)));
  at::Tensor edge_ds = at::empty_like(edge_w);
  launch_attention_backward(dtype_of(q), args_of(q, k, v, g, scale), go.data_ptr(), out.data_ptr(), lse.data_ptr(),
                            dq.data_ptr(), dk.data_ptr(), dv.data_ptr(), edge_w.data_ptr(), edge_ds.data_ptr(),
                            c10::cuda::getCurrentCUDAStream().stream());
  check_launch();
  return {dq, dk, dv};
}

}  // namespace tessera::gnn::kernels::cuda
