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

// The weighted gather and sum of a sparse matrix product (CSR rows `ptr`, columns `index`,
// entries `weight`) in one pass, without the [E, F] messages a gather, a scaling and a
// segment_sum write and read again:
//   out[i, :] = sum_k weight[k] * x[index[k], :],  k in [ptr[i], ptr[i+1]).
// x: [M, F]; index: int64 [E]; weight: [E] or [E, 1]. Deterministic (each output row summed in k
// order by one thread on the CPU, one warp on CUDA). CPU: float or double x with weight in x's
// type; CUDA: float, double, half or bfloat16 x (half types accumulated in fp32), weight cast to
// x's type. Other cases: the same ATen composition (index_select, multiply, segment_sum).
at::Tensor weighted_gather_sum(const at::Tensor& x, const at::Tensor& ptr, const at::Tensor& index,
                               const at::Tensor& weight);

namespace cpu {
at::Tensor segment_sum(const at::Tensor& values, const at::Tensor& ptr, const at::Tensor& perm);
at::Tensor weighted_gather_sum(const at::Tensor& x, const at::Tensor& ptr, const at::Tensor& index,
                               const at::Tensor& weight);
}  // namespace cpu
namespace cuda {
at::Tensor segment_sum(const at::Tensor& values, const at::Tensor& ptr, const at::Tensor& perm);
at::Tensor weighted_gather_sum(const at::Tensor& x, const at::Tensor& ptr, const at::Tensor& index,
                               const at::Tensor& weight);
}  // namespace cuda

}  // namespace tessera::gnn::kernels
