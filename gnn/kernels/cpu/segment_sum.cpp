#include "gnn/kernels/segment_sum.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>

#include "core/cpu_clones.hpp"

namespace tessera::gnn::kernels::cpu {

namespace {

// Destination rows [begin, end): rows are independent, so callers run ranges in parallel. Each
// output row is written once (no zero-fill pass) and the restrict-qualified inner loop vectorises
// over features.
template <class T>
TESSERA_CPU_CLONES void segment_sum_rows(const T* v, const int64_t* p, const int64_t* pm, T* o, int64_t begin,
                                         int64_t end, int64_t f) {
  for (int64_t i = begin; i < end; ++i) {
    T* __restrict__ orow = o + i * f;
    if (p[i] == p[i + 1]) {
      std::fill(orow, orow + f, T(0));
      continue;
    }
    const T* __restrict__ first = v + (pm ? pm[p[i]] : p[i]) * f;
    for (int64_t c = 0; c < f; ++c) orow[c] = first[c];
    for (int64_t k = p[i] + 1; k < p[i + 1]; ++k) {
      const T* __restrict__ vrow = v + (pm ? pm[k] : k) * f;
      for (int64_t c = 0; c < f; ++c) orow[c] += vrow[c];
    }
  }
}

// Weighted rows of x gathered by index, summed per CSR row [begin, end); vectorised over features.
template <class T>
TESSERA_CPU_CLONES void weighted_gather_sum_rows(const T* x, const int64_t* p, const int64_t* idx, const T* w, T* o,
                                                 int64_t begin, int64_t end, int64_t f) {
  for (int64_t i = begin; i < end; ++i) {
    T* __restrict__ orow = o + i * f;
    if (p[i] == p[i + 1]) {
      std::fill(orow, orow + f, T(0));
      continue;
    }
    const T w0 = w[p[i]];
    const T* __restrict__ first = x + idx[p[i]] * f;
    for (int64_t c = 0; c < f; ++c) orow[c] = w0 * first[c];
    for (int64_t k = p[i] + 1; k < p[i + 1]; ++k) {
      const T wk = w[k];
      const T* __restrict__ xrow = x + idx[k] * f;
      for (int64_t c = 0; c < f; ++c) orow[c] += wk * xrow[c];
    }
  }
}

}  // namespace

at::Tensor weighted_gather_sum(const at::Tensor& x_in, const at::Tensor& ptr_in, const at::Tensor& index_in,
                               const at::Tensor& weight_in) {
  const at::Tensor x = x_in.contiguous(), ptr = ptr_in.contiguous(), index = index_in.contiguous();
  const at::Tensor weight = weight_in.reshape({-1}).contiguous();
  const int64_t n = ptr.numel() - 1, f = x.size(1);
  at::Tensor out = at::empty({n, f}, x.options());
  const int64_t* p = ptr.data_ptr<int64_t>();
  const int64_t* idx = index.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "weighted_gather_sum_cpu", [&] {
    const scalar_t* xv = x.data_ptr<scalar_t>();
    const scalar_t* w = weight.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    // Rows cost their edge count times f; a grain of 64 rows keeps the threads' shares even on
    // graphs of average degree 20.
    at::parallel_for(0, n, 64,
                     [&](int64_t begin, int64_t end) { weighted_gather_sum_rows(xv, p, idx, w, o, begin, end, f); });
  });
  return out;
}

at::Tensor segment_sum(const at::Tensor& values_in, const at::Tensor& ptr_in, const at::Tensor& perm_in) {
  const at::Tensor values = values_in.contiguous();
  const at::Tensor ptr = ptr_in.contiguous();
  const at::Tensor perm = perm_in.defined() ? perm_in.contiguous() : perm_in;
  const int64_t n = ptr.numel() - 1, f = values.size(1);
  at::Tensor out = at::empty({n, f}, values.options());
  const int64_t* p = ptr.data_ptr<int64_t>();
  const int64_t* pm = perm.defined() ? perm.data_ptr<int64_t>() : nullptr;
  AT_DISPATCH_FLOATING_TYPES(values.scalar_type(), "segment_sum_cpu", [&] {
    const scalar_t* v = values.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) { segment_sum_rows(v, p, pm, o, begin, end, f); });
  });
  return out;
}

}  // namespace tessera::gnn::kernels::cpu
