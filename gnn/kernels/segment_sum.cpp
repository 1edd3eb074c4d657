#include "gnn/kernels/segment_sum.hpp"

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "tessera/config.hpp"

namespace tessera::gnn::kernels {
namespace {

// The CSR row pointers both reductions take, checked before any device path.
void check_row_pointers(const at::Tensor& ptr, const char* what) {
  if (ptr.dim() != 1 || ptr.scalar_type() != at::kLong || ptr.numel() < 1)
    throw Error(cat(what, ": ptr must be a 1-D int64 tensor of length N + 1"));
}

}  // namespace

at::Tensor segment_sum(const at::Tensor& values, const at::Tensor& ptr, const at::Tensor& perm) {
  if (values.dim() != 2) throw Error(cat("segment_sum: values must be [E, F], got ", values.sizes()));
  check_row_pointers(ptr, "segment_sum");
  if (perm.defined() && (perm.scalar_type() != at::kLong || perm.numel() != values.size(0)))
    throw Error("segment_sum: perm must be int64 with one entry per value row");
  if (ptr.device() != values.device() || (perm.defined() && perm.device() != values.device()))
    throw Error("segment_sum: values, ptr and perm must be on the same device");
  if (values.is_cuda()) {
#if TESSERA_HAVE_CUDA
    return cuda::segment_sum(values, ptr, perm);
#else
    throw Error("segment_sum: this build of tessera has no CUDA kernels");
#endif
  }
  // Half-precision values: summed in fp32 and rounded once, like the CUDA kernel.
  if (values.scalar_type() == at::kBFloat16 || values.scalar_type() == at::kHalf)
    return cpu::segment_sum(values.to(at::kFloat), ptr, perm).to(values.scalar_type());
  return cpu::segment_sum(values, ptr, perm);
}

at::Tensor weighted_gather_sum(const at::Tensor& x, const at::Tensor& ptr, const at::Tensor& index,
                               const at::Tensor& weight) {
  if (x.dim() != 2) throw Error(cat("weighted_gather_sum: x must be [M, F], got ", x.sizes()));
  if (index.dim() != 1 || index.scalar_type() != at::kLong || weight.numel() != index.numel())
    throw Error("weighted_gather_sum: index must be 1-D int64 with one weight per entry");
  check_row_pointers(ptr, "weighted_gather_sum");
  const bool fp = x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble;
  if (x.device().is_cpu() && fp && weight.scalar_type() == x.scalar_type() && ptr.device().is_cpu() &&
      index.device().is_cpu())
    return cpu::weighted_gather_sum(x, ptr, index, weight);
#if TESSERA_HAVE_CUDA
  if (x.is_cuda() && ptr.device() == x.device() && index.device() == x.device() && weight.device() == x.device())
    return cuda::weighted_gather_sum(x, ptr, index, weight);
#endif
  if (index.numel() == 0) return at::zeros({ptr.numel() - 1, x.size(1)}, x.options());
  return segment_sum(x.index_select(0, index) * weight.reshape({-1, 1}).to(x.scalar_type()), ptr, at::Tensor());
}

}  // namespace tessera::gnn::kernels
