#include "gnn/kernels/gather_add.hpp"

#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>

#include <algorithm>

#include "core/cpu_clones.hpp"

namespace tessera::gnn::kernels::cpu {

namespace {

// Edge rows [begin, end) of gather_add.
template <class T>
TESSERA_CPU_CLONES void gather_add_rows(const T* qp, const T* a, const T* b, const int64_t* s, const int64_t* d, T* o,
                                        int64_t begin, int64_t end, int64_t f, bool relu) {
  using acc_t = at::opmath_type<T>;
  for (int64_t k = begin; k < end; ++k) {
    const T* __restrict__ qr = qp + k * f;
    const T* __restrict__ ar = a + s[k] * f;
    const T* __restrict__ br = b + d[k] * f;
    T* __restrict__ orow = o + k * f;
    if (relu)
      for (int64_t c = 0; c < f; ++c) {
        const acc_t v = acc_t(qr[c]) + acc_t(ar[c]) + acc_t(br[c]);
        orow[c] = T(v > acc_t(0) ? v : acc_t(0));
      }
    else
      for (int64_t c = 0; c < f; ++c) orow[c] = T(acc_t(qr[c]) + acc_t(ar[c]) + acc_t(br[c]));
  }
}

// Destination rows [begin, end) of relu_backward_dst_sum.
template <class T>
TESSERA_CPU_CLONES void relu_backward_dst_sum_rows(const T* gp, const T* yp, const int64_t* p, T* mp, T* sp,
                                                   int64_t begin, int64_t end, int64_t f) {
  for (int64_t i = begin; i < end; ++i) {
    T* __restrict__ srow = sp + i * f;
    for (int64_t k = p[i]; k < p[i + 1]; ++k) {
      const T* __restrict__ gr = gp + k * f;
      const T* __restrict__ yr = yp + k * f;
      T* __restrict__ mr = mp + k * f;
      for (int64_t c = 0; c < f; ++c) mr[c] = yr[c] > T(0) ? gr[c] : T(0);
      if (k == p[i])
        for (int64_t c = 0; c < f; ++c) srow[c] = mr[c];
      else
        for (int64_t c = 0; c < f; ++c) srow[c] += mr[c];
    }
    if (p[i] == p[i + 1]) std::fill(srow, srow + f, T(0));
  }
}

}  // namespace

at::Tensor gather_add(const at::Tensor& q_in, const at::Tensor& ps_in, const at::Tensor& pr_in,
                      const at::Tensor& src_in, const at::Tensor& dst_in, bool relu) {
  const at::Tensor q = q_in.contiguous(), ps = ps_in.contiguous(), pr = pr_in.contiguous();
  const at::Tensor src = src_in.contiguous(), dst = dst_in.contiguous();
  const int64_t e = q.size(0), f = q.size(1);
  at::Tensor out = at::empty_like(q);
  const int64_t* s = src.data_ptr<int64_t>();
  const int64_t* d = dst.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, q.scalar_type(), "gather_add_cpu", [&] {
    const scalar_t* qp = q.data_ptr<scalar_t>();
    const scalar_t* a = ps.data_ptr<scalar_t>();
    const scalar_t* b = pr.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    at::parallel_for(0, e, 256,
                     [&](int64_t begin, int64_t end) { gather_add_rows(qp, a, b, s, d, o, begin, end, f, relu); });
  });
  return out;
}

// One pass over the edges in destination order: each edge's masked row is written and added to
// its destination's sum while in cache (the same order of additions as segment_sum). One read of
// g and y instead of a ReLU pass and then a sum pass over its result.
std::pair<at::Tensor, at::Tensor> relu_backward_dst_sum(const at::Tensor& g_in, const at::Tensor& y_in,
                                                        const at::Tensor& dst_ptr_in) {
  const at::Tensor g = g_in.contiguous(), y = y_in.contiguous(), ptr = dst_ptr_in.contiguous();
  const int64_t n = ptr.numel() - 1, f = g.size(1);
  at::Tensor gm = at::empty_like(g), sums = at::empty({n, f}, g.options());
  const int64_t* p = ptr.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "relu_backward_dst_sum_cpu", [&] {
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const scalar_t* yp = y.data_ptr<scalar_t>();
    scalar_t* mp = gm.data_ptr<scalar_t>();
    scalar_t* sp = sums.data_ptr<scalar_t>();
    at::parallel_for(0, n, 64,
                     [&](int64_t begin, int64_t end) { relu_backward_dst_sum_rows(gp, yp, p, mp, sp, begin, end, f); });
  });
  return {gm, sums};
}

}  // namespace tessera::gnn::kernels::cpu
