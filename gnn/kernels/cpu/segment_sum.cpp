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

}  // namespace

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
