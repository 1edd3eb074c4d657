// Torch-facing wrappers of the CUDA segment_sum kernel (plain and weighted): allocation, current stream.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include "core/error.hpp"
#include "gnn/kernels/cuda/segment_sum_kernel.hpp"
#include "gnn/kernels/segment_sum.hpp"

namespace tessera::gnn::kernels::cuda {

namespace {

DType kernel_dtype(const at::Tensor& values, const char* what) {
  switch (values.scalar_type()) {
    case at::kFloat:
      return DType::f32;
    case at::kDouble:
      return DType::f64;
    case at::kHalf:
      return DType::f16;
    case at::kBFloat16:
      return DType::bf16;
    default:
      throw Error(cat(what, ": unsupported dtype ", values.scalar_type()));
  }
}

// out[ptr.numel() - 1, F] = the (weighted) segment sums of values rows listed by perm.
at::Tensor run(const at::Tensor& values_in, const at::Tensor& ptr_in, const at::Tensor& perm_in,
               const at::Tensor& weight_in, const char* what) {
  const c10::cuda::CUDAGuard guard(values_in.device());
  const at::Tensor values = values_in.contiguous();
  const at::Tensor ptr = ptr_in.contiguous();
  const at::Tensor perm = perm_in.defined() ? perm_in.contiguous() : perm_in;
  const at::Tensor weight = weight_in.defined() ? weight_in.reshape({-1}).contiguous() : weight_in;
  const int64_t n = ptr.numel() - 1, f = values.size(1);
  at::Tensor out = at::empty({n, f}, values.options());
  launch_segment_sum(kernel_dtype(values, what), values.data_ptr(), ptr.data_ptr<int64_t>(),
                     perm.defined() ? perm.data_ptr<int64_t>() : nullptr,
                     weight.defined() ? weight.data_ptr() : nullptr, out.data_ptr(), n, f,
                     c10::cuda::getCurrentCUDAStream().stream());
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess)
    throw Error(cat(what, ": CUDA launch failed: ", cudaGetErrorString(e)));
  return out;
}

}  // namespace

at::Tensor segment_sum(const at::Tensor& values, const at::Tensor& ptr, const at::Tensor& perm) {
  return run(values, ptr, perm, at::Tensor(), "segment_sum");
}

at::Tensor weighted_gather_sum(const at::Tensor& x, const at::Tensor& ptr, const at::Tensor& index,
                               const at::Tensor& weight) {
  return run(x, ptr, index, weight.to(x.scalar_type()), "weighted_gather_sum");
}

}  // namespace tessera::gnn::kernels::cuda
