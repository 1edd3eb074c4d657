#include "physics/weight_product.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#if TESSERA_WITH_XSMM
#include <libxsmm.h>
#endif

namespace tessera::physics {
namespace {

#if TESSERA_WITH_XSMM
// Points per kernel call: 64–256 all ran at 109–111 GFLOP/s (fp32, k = rows = 50); 128 keeps the
// JIT kernels few (one per shape and one for the remainder).
constexpr int64_t kPanel = 128;

// libxsmm is column-major: out [rows, m] row-major is outᵀ [m, rows] column-major, and
// outᵀ = hᵀ · wᵀ, with hᵀ [m, k] (leading dimension m) and wᵀ [k, rows] (leading dimension k) being
// h's and w's memory as they are. Each call computes one panel of points. Returns false when
// libxsmm has no kernel for the shape (the caller falls back to at::mm).
template <class T, class Dispatch>
bool jit_product(Dispatch dispatch, const T* w, const T* h, T* out, int64_t rows, int64_t k, int64_t m) {
  const libxsmm_blasint lda = m, ldb = k, ldc = m;
  const T alpha = 1, beta = 0;
  const int flags = LIBXSMM_GEMM_FLAG_NONE;
  const int64_t panel = std::min(kPanel, m), rest = m % panel;
  const auto full = dispatch(panel, rows, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, nullptr);
  const auto last = rest ? dispatch(rest, rows, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, nullptr) : full;
  if (!full || !last) return false;
  int64_t i = 0;
  for (; i + panel <= m; i += panel) full(h + i, w, out + i);
  if (rest) last(h + i, w, out + i);
  return true;
}
#endif

}  // namespace

bool weight_product_has_jit() { return TESSERA_WITH_XSMM != 0; }

at::Tensor weight_product(const at::Tensor& w, const at::Tensor& h) {
#if TESSERA_WITH_XSMM
  const bool eligible = w.device().is_cpu() && h.device().is_cpu() && w.dim() == 2 && h.dim() == 2 &&
                        w.scalar_type() == h.scalar_type() && w.size(1) == h.size(0) && h.size(1) > 0 &&
                        w.is_contiguous() && h.is_contiguous() &&
                        !(c10::GradMode::is_enabled() && (w.requires_grad() || h.requires_grad()));
  if (eligible && (w.scalar_type() == at::kFloat || w.scalar_type() == at::kDouble)) {
    at::Tensor out = at::empty({w.size(0), h.size(1)}, h.options());
    const bool done = w.scalar_type() == at::kFloat
                          ? jit_product<float>(libxsmm_smmdispatch, w.data_ptr<float>(), h.data_ptr<float>(),
                                               out.data_ptr<float>(), w.size(0), w.size(1), h.size(1))
                          : jit_product<double>(libxsmm_dmmdispatch, w.data_ptr<double>(), h.data_ptr<double>(),
                                                out.data_ptr<double>(), w.size(0), w.size(1), h.size(1));
    if (done) return out;
  }
#endif
  return at::mm(w, h);
}

}  // namespace tessera::physics
