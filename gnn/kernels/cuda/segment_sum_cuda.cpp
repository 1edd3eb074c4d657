// Torch-facing wrapper of the CUDA segment_sum kernel: checks, allocation, current stream.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include "core/error.hpp"
#include "gnn/kernels/cuda/segment_sum_kernel.hpp"
#include "gnn/kernels/segment_sum.hpp"

namespace tessera::gnn::kernels::cuda {

at::Tensor segment_sum(const at::Tensor& values_in, const at::Tensor& ptr_in, const at::Tensor& perm_in) {
  const c10::cuda::CUDAGuard guard(values_in.device());
  const at::Tensor values = values_in.contiguous();
  const at::Tensor ptr = ptr_in.contiguous();
  const at::Tensor perm = perm_in.defined() ? perm_in.contiguous() : perm_in;
  const int64_t n = ptr.numel() - 1, f = values.size(1);
  at::Tensor out = at::empty({n, f}, values.options());
  DType dt;
  switch (values.scalar_type()) {
    case at::kFloat:
      dt = DType::f32;
      break;
    case at::kDouble:
      dt = DType::f64;
      break;
    case at::kHalf:
      dt = DType::f16;
      break;
    case at::kBFloat16:
      dt = DType::bf16;
      break;
    default:
      throw Error(cat("segment_sum: unsupported dtype ", values.scalar_type()));
  }
  launch_segment_sum(dt, values.data_ptr(), ptr.data_ptr<int64_t>(),
                     perm.defined() ? perm.data_ptr<int64_t>() : nullptr, out.data_ptr(), n, f,
                     c10::cuda::getCurrentCUDAStream().stream());
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess)
    throw Error(cat("segment_sum: CUDA launch failed: ", cudaGetErrorString(e)));
  return out;
}

}  // namespace tessera::gnn::kernels::cuda
