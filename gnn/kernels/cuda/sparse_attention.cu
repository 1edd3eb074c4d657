#include <cuda_runtime.h>

#include <cmath>

#include "gnn/kernels/cuda/numeric.cuh"
#include "gnn/kernels/cuda/sparse_attention_kernel.hpp"

namespace tessera::gnn::kernels::cuda {
namespace {

constexpr int kWarp = 32, kThreads = 256;

// Lane-strided slice of a head vector: lane holds elements c = lane + 32 r, r < VPT.
template <class T, int VPT>
__device__ __forceinline__ void load_row(const T* p, int64_t d, int lane, acc_t<T> (&x)[VPT]) {
#pragma unroll
  for (int r = 0; r < VPT; ++r) {
    const int64_t c = lane + kWarp * r;
    x[r] = c < d ? load(p + c) : acc_t<T>(0);
  }
}

template <class T, int VPT>
__device__ __forceinline__ acc_t<T> dot_row(const acc_t<T> (&x)[VPT], const T* p, int64_t d, int lane) {
  acc_t<T> s = 0;
#pragma unroll
  for (int r = 0; r < VPT; ++r) {
    const int64_t c = lane + kWarp * r;
    if (c < d) s += x[r] * load(p + c);
  }
  return warp_sum(s);
}

// Forward: online softmax over the incoming edges of (i, h), one pass over keys and values.
template <class T, int VPT>
__global__ void attention_forward(AttentionArgs a, T* __restrict__ out, acc_t<T>* __restrict__ lse) {
  using A = acc_t<T>;
  const auto [warp, lane] = warp_slot();
  if (warp >= a.n * a.heads) return;
  const int64_t i = warp / a.heads, h = warp % a.heads, d = a.d;
  const T *q = static_cast<const T*>(a.q), *k = static_cast<const T*>(a.k), *v = static_cast<const T*>(a.v);
  A qi[VPT], acc[VPT];
  load_row<T, VPT>(q + warp * d, d, lane, qi);
#pragma unroll
  for (int r = 0; r < VPT; ++r) acc[r] = 0;
  A m = -INFINITY, l = 0;
  for (int64_t t = a.dst_ptr[i]; t < a.dst_ptr[i + 1]; ++t) {
    const int64_t col = (a.src[t] * a.heads + h) * d;
    const A s = A(a.scale) * dot_row<T, VPT>(qi, k + col, d, lane);
    const A m_new = s > m ? s : m;
    const A corr = exp(m - m_new), p = exp(s - m_new);
    l = l * corr + p;
#pragma unroll
    for (int r = 0; r < VPT; ++r) {
      const int64_t c = lane + kWarp * r;
      acc[r] = acc[r] * corr + (c < d ? p * load(v + col + c) : A(0));
    }
    m = m_new;
  }
  const A inv = l > 0 ? A(1) / l : A(0);
#pragma unroll
  for (int r = 0; r < VPT; ++r) {
    const int64_t c = lane + kWarp * r;
    if (c < d) out[warp * d + c] = store<T>(acc[r] * inv);
  }
  if (lane == 0) lse[warp] = l > 0 ? m + log(l) : A(-INFINITY);
}

// Backward row pass: per-edge weight and score gradient, and dQ.
template <class T, int VPT>
__global__ void attention_backward_rows(AttentionArgs a, const T* __restrict__ go, const T* __restrict__ out,
                                        const acc_t<T>* __restrict__ lse, T* __restrict__ dq,
                                        acc_t<T>* __restrict__ edge_w, acc_t<T>* __restrict__ edge_ds) {
  using A = acc_t<T>;
  const auto [warp, lane] = warp_slot();
  if (warp >= a.n * a.heads) return;
  const int64_t i = warp / a.heads, h = warp % a.heads, d = a.d;
  const T *q = static_cast<const T*>(a.q), *k = static_cast<const T*>(a.k), *v = static_cast<const T*>(a.v);
  A qi[VPT], gi[VPT], acc[VPT];
  load_row<T, VPT>(q + warp * d, d, lane, qi);
  load_row<T, VPT>(go + warp * d, d, lane, gi);
  const A delta = dot_row<T, VPT>(gi, out + warp * d, d, lane), l = lse[warp];
#pragma unroll
  for (int r = 0; r < VPT; ++r) acc[r] = 0;
  for (int64_t t = a.dst_ptr[i]; t < a.dst_ptr[i + 1]; ++t) {
    const int64_t col = (a.src[t] * a.heads + h) * d;
    const A w = exp(A(a.scale) * dot_row<T, VPT>(qi, k + col, d, lane) - l);
    const A ds = w * (dot_row<T, VPT>(gi, v + col, d, lane) - delta);
    if (lane == 0) {
      edge_w[t * a.heads + h] = w;
      edge_ds[t * a.heads + h] = ds;
    }
#pragma unroll
    for (int r = 0; r < VPT; ++r) {
      const int64_t c = lane + kWarp * r;
      if (c < d) acc[r] += A(a.scale) * ds * load(k + col + c);
    }
  }
#pragma unroll
  for (int r = 0; r < VPT; ++r) {
    const int64_t c = lane + kWarp * r;
    if (c < d) dq[warp * d + c] = store<T>(acc[r]);
  }
}

// Backward source pass: dK and dV of (j, h) from the edges leaving j.
template <class T, int VPT>
__global__ void attention_backward_sources(AttentionArgs a, const T* __restrict__ go,
                                           const acc_t<T>* __restrict__ edge_w, const acc_t<T>* __restrict__ edge_ds,
                                           T* __restrict__ dk, T* __restrict__ dv) {
  using A = acc_t<T>;
  const auto [warp, lane] = warp_slot();
  if (warp >= a.n * a.heads) return;
  const int64_t j = warp / a.heads, h = warp % a.heads, d = a.d;
  const T* q = static_cast<const T*>(a.q);
  A ak[VPT], av[VPT];
#pragma unroll
  for (int r = 0; r < VPT; ++r) ak[r] = av[r] = 0;
  for (int64_t u = a.src_ptr[j]; u < a.src_ptr[j + 1]; ++u) {
    const int64_t t = a.src_perm[u], row = (a.dst[t] * a.heads + h) * d;
    const A ds = A(a.scale) * edge_ds[t * a.heads + h], w = edge_w[t * a.heads + h];
#pragma unroll
    for (int r = 0; r < VPT; ++r) {
      const int64_t c = lane + kWarp * r;
      if (c < d) {
        ak[r] += ds * load(q + row + c);
        av[r] += w * load(go + row + c);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < VPT; ++r) {
    const int64_t c = lane + kWarp * r;
    if (c < d) {
      dk[warp * d + c] = store<T>(ak[r]);
      dv[warp * d + c] = store<T>(av[r]);
    }
  }
}

unsigned blocks_for(int64_t warps) { return static_cast<unsigned>((warps * kWarp + kThreads - 1) / kThreads); }

// Calls L<T, VPT>::run(args...) for the dtype and the smallest VPT that covers d.
template <template <class, int> class L, class... Args>
void dispatch(DType dt, int64_t d, Args&&... args) {
  auto by_vpt = [&](auto tag) {
    using T = decltype(tag);
    if (d <= 32)
      L<T, 1>::run(args...);
    else if (d <= 64)
      L<T, 2>::run(args...);
    else if (d <= 128)
      L<T, 4>::run(args...);
    else
      L<T, 8>::run(args...);
  };
  switch (dt) {
    case DType::f32:
      by_vpt(float{});
      break;
    case DType::f64:
      by_vpt(double{});
      break;
    case DType::f16:
      by_vpt(__half{});
      break;
    case DType::bf16:
      by_vpt(__nv_bfloat16{});
      break;
  }
}

template <class T, int VPT>
struct Forward {
  static void run(const AttentionArgs& a, void* out, void* lse, cudaStream_t s) {
    attention_forward<T, VPT>
        <<<blocks_for(a.n * a.heads), kThreads, 0, s>>>(a, static_cast<T*>(out), static_cast<acc_t<T>*>(lse));
  }
};

template <class T, int VPT>
struct Backward {
  static void run(const AttentionArgs& a, const void* go, const void* out, const void* lse, void* dq, void* dk,
                  void* dv, void* edge_w, void* edge_ds, cudaStream_t s) {
    using A = acc_t<T>;
    attention_backward_rows<T, VPT><<<blocks_for(a.n * a.heads), kThreads, 0, s>>>(
        a, static_cast<const T*>(go), static_cast<const T*>(out), static_cast<const A*>(lse), static_cast<T*>(dq),
        static_cast<A*>(edge_w), static_cast<A*>(edge_ds));
    attention_backward_sources<T, VPT><<<blocks_for(a.n * a.heads), kThreads, 0, s>>>(
        a, static_cast<const T*>(go), static_cast<const A*>(edge_w), static_cast<const A*>(edge_ds),
        static_cast<T*>(dk), static_cast<T*>(dv));
  }
};

}  // namespace

int max_head_dim() { return 8 * kWarp; }

void launch_attention_forward(DType dt, const AttentionArgs& a, void* out, void* lse, void* stream) {
  if (a.n * a.heads == 0) return;
  dispatch<Forward>(dt, a.d, a, out, lse, static_cast<cudaStream_t>(stream));
}

void launch_attention_backward(DType dt, const AttentionArgs& a, const void* go, const void* out, const void* lse,
                               void* dq, void* dk, void* dv, void* edge_w, void* edge_ds, void* stream) {
  if (a.n * a.heads == 0) return;
  dispatch<Backward>(dt, a.d, a, go, out, lse, dq, dk, dv, edge_w, edge_ds, static_cast<cudaStream_t>(stream));
}

}  // namespace tessera::gnn::kernels::cuda
