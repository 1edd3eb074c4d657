// Device helpers shared by the .cu files: accumulation type (fp32 for fp32/fp16/bf16 inputs,
// fp64 for fp64), conversions, warp reductions.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace tessera::gnn::kernels::cuda {

template <class T>
struct Acc {
  using type = float;
};
template <>
struct Acc<double> {
  using type = double;
};
template <class T>
using acc_t = typename Acc<T>::type;

template <class T>
__device__ __forceinline__ acc_t<T> load(const T* p) {
  return static_cast<acc_t<T>>(*p);
}
template <>
__device__ __forceinline__ float load<__half>(const __half* p) {
  return __half2float(*p);
}
template <>
__device__ __forceinline__ float load<__nv_bfloat16>(const __nv_bfloat16* p) {
  return __bfloat162float(*p);
}

template <class T>
__device__ __forceinline__ T store(acc_t<T> x) {
  return static_cast<T>(x);
}
template <>
__device__ __forceinline__ __half store<__half>(float x) {
  return __float2half(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 store<__nv_bfloat16>(float x) {
  return __float2bfloat16(x);
}

// The warp (global index) and lane of the calling thread: kernels give each warp one task.
struct WarpSlot {
  int64_t warp;
  int lane;
};
__device__ __forceinline__ WarpSlot warp_slot() {
  return {(static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32, static_cast<int>(threadIdx.x % 32)};
}

template <class A>
__device__ __forceinline__ A warp_sum(A x) {
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

}  // namespace tessera::gnn::kernels::cuda
