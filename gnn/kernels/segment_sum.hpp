// segment_sum: the reduction under message passing. Row i of the result sums the rows of
// `values` listed in [ptr[i], ptr[i+1]) of the order `perm` (identity when perm is undefined):
//   out[i, :] = sum_k values[perm[k], :],  k in [ptr[i], ptr[i+1]).
// With edges sorted by destination and perm undefined this is scatter-to-destination; with the
// source-sorted permutation it is scatter-to-source (the backward of gathering by destination).
// Deterministic (no atomics): each output row is owned by one thread (CPU) or one warp (CUDA).
// values: [E, F] float, double, half or bfloat16 (half types accumulated in fp32); ptr, perm: int64.
#pragma once
#include <ATen/core/Tensor.h>

namespace tessera::gnn::kernels {

at::Tensor segment_sum(const at::Tensor& values, const at::Tensor& ptr, const at::Tensor& perm);

namespace cpu {
at::Tensor segment_sum(const at::Tensor& values, const at::Tensor& ptr, const at::Tensor& perm);
}
namespace cuda {
at::Tensor segment_sum(const at::Tensor& values, const at::Tensor& ptr, const at::Tensor& perm);
}

}  // namespace tessera::gnn::kernels
