#include <cuda_runtime.h>

#include "gnn/kernels/cuda/numeric.cuh"
#include "gnn/kernels/cuda/segment_sum_kernel.hpp"

namespace tessera::gnn::kernels::cuda {
namespace {

// One warp per output row; lanes stride over features, so reads of a value row coalesce.
// Each row is written by exactly one warp: deterministic, no atomics. With `weight`, entry k's
// row is scaled by weight[k] (the weighted gather and sum of a sparse matrix product).
template <class T>
__global__ void segment_sum_kernel(const T* __restrict__ values, const int64_t* __restrict__ ptr,
                                   const int64_t* __restrict__ perm, const T* __restrict__ weight, T* __restrict__ out,
                                   int64_t n, int64_t f) {
  const auto [warp, lane] = warp_slot();
  if (warp >= n) return;
  const int64_t begin = ptr[warp], end = ptr[warp + 1];
  for (int64_t c = lane; c < f; c += 32) {
    acc_t<T> acc = 0;
    for (int64_t k = begin; k < end; ++k) {
      const int64_t row = perm ? perm[k] : k;
      acc += weight ? load(weight + k) * load(values + row * f + c) : load(values + row * f + c);
    }
    out[warp * f + c] = store<T>(acc);
  }
}

template <class T>
void launch(const void* v, const int64_t* ptr, const int64_t* perm, const void* w, void* o, int64_t n, int64_t f,
            cudaStream_t s) {
  if (n == 0) return;
  const int threads = 256;
  const int64_t blocks = (n * 32 + threads - 1) / threads;
  segment_sum_kernel<T><<<static_cast<unsigned>(blocks), threads, 0, s>>>(
      static_cast<const T*>(v), ptr, perm, static_cast<const T*>(w), static_cast<T*>(o), n, f);
}

}  // namespace

void launch_segment_sum(DType dtype, const void* values, const int64_t* ptr, const int64_t* perm, const void* weight,
                        void* out, int64_t n, int64_t f, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  switch (dtype) {
    case DType::f32:
      launch<float>(values, ptr, perm, weight, out, n, f, s);
      break;
    case DType::f64:
      launch<double>(values, ptr, perm, weight, out, n, f, s);
      break;
    case DType::f16:
      launch<__half>(values, ptr, perm, weight, out, n, f, s);
      break;
    case DType::bf16:
      launch<__nv_bfloat16>(values, ptr, perm, weight, out, n, f, s);
      break;
  }
}

}  // namespace tessera::gnn::kernels::cuda
