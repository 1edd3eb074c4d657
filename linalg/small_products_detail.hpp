// What linalg's CPU products share (small_products.cpp, outer_product_sum.cpp): which operands
// the kernels take, how their epilogues are built, and libxsmm's kernel dispatch. Not part of
// linalg's interface.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/core/GradMode.h>

#include <cstdint>
#include <type_traits>

#include "core/cpu_clones.hpp"
#include "core/lane_sum.hpp"
// TESSERA_HAVE_XSMM: from the generated header, so that every file that includes this one agrees
// (a per-file definition once missed outer_product_sum.cpp, whose `#if` then read 0 silently).
#include "tessera/config.hpp"

#if TESSERA_HAVE_XSMM
#include <libxsmm.h>
#endif

namespace tessera::linalg::detail {

// Whether a product of a and b (both 2-D, summed over a's dimension a_dim and b's b_dim) may take a
// CPU kernel: the same fp32/fp64 type, contiguous, nothing for autograd to record.
inline bool eligible(const at::Tensor& a, const at::Tensor& b, int64_t a_dim = 1, int64_t b_dim = 0) {
  return a.device().is_cpu() && b.device().is_cpu() && a.dim() == 2 && b.dim() == 2 &&
         a.scalar_type() == b.scalar_type() && (a.scalar_type() == at::kFloat || a.scalar_type() == at::kDouble) &&
         a.size(a_dim) == b.size(b_dim) && a.numel() > 0 && b.numel() > 0 && a.is_contiguous() && b.is_contiguous() &&
         !(c10::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad()));
}

// The sum of v[0..n), lane_sum's partial sums and order.
template <class T>
inline T row_sum(const T* v, int64_t n) {
  return lane_sum<T>(n, [v](int64_t j, auto x) { return load_lanes<decltype(x)>(v + j); });
}

#if TESSERA_HAVE_XSMM

// libxsmm's kernel for C [m, n] = A [m, k] · B [k, n] (column-major, leading dimensions lda, ldb,
// ldc), with β = 1 when `accumulate`; null where libxsmm has none.
template <class T>
auto dispatch(libxsmm_blasint m, libxsmm_blasint n, libxsmm_blasint k, libxsmm_blasint lda, libxsmm_blasint ldb,
              libxsmm_blasint ldc, bool accumulate = false, int flags = LIBXSMM_GEMM_FLAG_NONE) {
  const T alpha = 1, beta = accumulate ? 1 : 0;
  if constexpr (std::is_same_v<T, float>)
    return libxsmm_smmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, nullptr);
  else
    return libxsmm_dmmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, nullptr);
}

#endif

}  // namespace tessera::linalg::detail
