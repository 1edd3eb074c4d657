#include "linalg/small_products.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <tuple>
#include <vector>

#include "linalg/kernels/transposed_product.hpp"

#if TESSERA_WITH_XSMM
#include <libxsmm.h>
#endif

namespace tessera::linalg {
namespace {

// Whether a product of a and b (both 2-D, summed over a's dimension a_dim and b's b_dim) may take a
// CPU kernel: the same fp32/fp64 type, contiguous, nothing for autograd to record.
bool eligible(const at::Tensor& a, const at::Tensor& b, int64_t a_dim = 1, int64_t b_dim = 0) {
  return a.device().is_cpu() && b.device().is_cpu() && a.dim() == 2 && b.dim() == 2 &&
         a.scalar_type() == b.scalar_type() && (a.scalar_type() == at::kFloat || a.scalar_type() == at::kDouble) &&
         a.size(a_dim) == b.size(b_dim) && a.numel() > 0 && b.numel() > 0 && a.is_contiguous() && b.is_contiguous() &&
         !(c10::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad()));
}

// The products' epilogues, on a panel of `rows` rows of width n while it is in cache. Each is built
// for AVX2 + FMA and the baseline, chosen at load time by the CPU (the build targets plain
// x86-64, and these loops ran at half speed in SSE2: no faster than ATen's separate, AVX2-dispatched
// passes they replace).
#define TESSERA_EPILOGUE_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), flatten))

// The sum of v[0..n), in 8 independent partial sums (which the compiler vectorises).
template <class T>
inline T row_sum(const T* v, int64_t n) {
  T acc[8] = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; ++l) acc[l] += v[j + l];
  for (; j < n; ++j) acc[0] += v[j];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// o += bias on every row (if given), then max(o, 0) (if relu).
template <class T>
TESSERA_EPILOGUE_CLONES void bias_relu_rows(T* o, const T* bias, int64_t rows, int64_t n, bool relu) {
  if (bias && relu)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j) o[r * n + j] = std::max(o[r * n + j] + bias[j], T(0));
  else if (bias)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j) o[r * n + j] += bias[j];
  else if (relu)
    for (int64_t i = 0; i < rows * n; ++i) o[i] = std::max(o[i], T(0));
}

// o = o where mask > 0, else 0, over `count` elements. Both operands are loaded unconditionally,
// then selected: this form vectorises (a conditional load did not).
template <class T>
TESSERA_EPILOGUE_CLONES void mask_rows(T* o, const T* mask, int64_t count) {
  for (int64_t i = 0; i < count; ++i) o[i] = mask[i] > T(0) ? o[i] : T(0);
}

// o[r, :] += c[r, :] (if c) + table[index[r], :] (if table) over `rows` rows of width n.
template <class T>
TESSERA_EPILOGUE_CLONES void add_rows(T* __restrict__ o, const T* __restrict__ c, const T* __restrict__ table,
                                      const int64_t* index, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r, o += n) {
    if (c)
      for (int64_t j = 0; j < n; ++j) o[j] += c[r * n + j];
    if (table) {
      const T* t = table + index[r] * n;
      for (int64_t j = 0; j < n; ++j) o[j] += t[j];
    }
  }
}

// Each row of z: + bias, its mean and biased variance (two passes over the row), then
// y = (z - mean) * rstd * gamma + beta (+ residual); mean and rstd stored per row.
template <class T>
TESSERA_EPILOGUE_CLONES void layer_norm_rows(T* z, T* y, const T* bias, const T* gamma, const T* beta,
                                             const T* residual, T* mean_out, T* rstd_out, int64_t rows, int64_t n,
                                             T eps) {
  for (int64_t r = 0; r < rows; ++r, z += n, y += n) {
    if (bias)
      for (int64_t j = 0; j < n; ++j) z[j] += bias[j];
    const T mean = row_sum(z, n) / T(n);
    for (int64_t j = 0; j < n; ++j) y[j] = (z[j] - mean) * (z[j] - mean);
    const T rstd = T(1) / std::sqrt(row_sum(y, n) / T(n) + eps);
    mean_out[r] = mean, rstd_out[r] = rstd;
    if (residual)
      for (int64_t j = 0; j < n; ++j) y[j] = (z[j] - mean) * rstd * gamma[j] + beta[j] + residual[r * n + j];
    else
      for (int64_t j = 0; j < n; ++j) y[j] = (z[j] - mean) * rstd * gamma[j] + beta[j];
  }
}

// The layer norm's backward on `rows` rows of width p (the rows of product_with_weight_layer_norm's
// z, mean and rstd): with x̂ = (z - mean) · rstd and gg = gy · gamma,
// gz = rstd · (gg - mean(gg) - x̂ · mean(gg · x̂)); dgamma += gy · x̂ and dbeta += gy (in double).
template <class T>
TESSERA_EPILOGUE_CLONES void layer_norm_backward_rows(const T* gy, const T* z, const T* mean, const T* rstd,
                                                      const T* gamma, T* gz, double* __restrict__ dgamma,
                                                      double* __restrict__ dbeta, int64_t rows, int64_t p) {
  for (int64_t r = 0; r < rows; ++r, gy += p, z += p, gz += p) {
    const T mu = mean[r], rs = rstd[r];
    // gz's row is the scratch for gg, then gg · x̂ (each summed), then overwritten with the result.
    for (int64_t j = 0; j < p; ++j) gz[j] = gy[j] * gamma[j];
    const T c1 = row_sum(gz, p) / T(p);
    for (int64_t j = 0; j < p; ++j) gz[j] *= (z[j] - mu) * rs;
    const T c2 = row_sum(gz, p) / T(p);
    for (int64_t j = 0; j < p; ++j) {
      const T xhat = (z[j] - mu) * rs;
      dgamma[j] += double(gy[j] * xhat);
      dbeta[j] += double(gy[j]);
      gz[j] = rs * (gy[j] * gamma[j] - c1 - xhat * c2);
    }
  }
}

// sums[j] += Σ_r a[r, j] over `rows` rows of width p, in double.
template <class T>
TESSERA_EPILOGUE_CLONES void add_columns(const T* __restrict__ a, int64_t rows, int64_t p, double* __restrict__ sums) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < p; ++j) sums[j] += double(a[r * p + j]);
}

#if TESSERA_WITH_XSMM

// Points per kernel call. Feature-major (weight_product, k = rows = 50): 64–256 all ran at
// 109–111 GFLOP/s. Point-major (product_with_weight, k = n = 128): 16 ran at 101, 128 at 95.
constexpr int64_t kFeatureMajorPanel = 128, kPointMajorPanel = 16;

template <class T>
auto dispatch(libxsmm_blasint m, libxsmm_blasint n, libxsmm_blasint k, libxsmm_blasint lda, libxsmm_blasint ldb,
              libxsmm_blasint ldc, bool accumulate = false, int flags = LIBXSMM_GEMM_FLAG_NONE) {
  const T alpha = 1, beta = accumulate ? 1 : 0;
  if constexpr (std::is_same_v<T, float>)
    return libxsmm_smmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, nullptr);
  else
    return libxsmm_dmmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, nullptr);
}

// Runs panel(start, size) for the panels of `step` points (the last one shorter) that cover
// `points`, on torch's intra-op threads; each panel is one kernel call.
template <class Panel>
void for_panels(int64_t points, int64_t step, const Panel& panel) {
  at::parallel_for(0, (points + step - 1) / step, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) panel(p * step, std::min(step, points - p * step));
  });
}

// libxsmm is column-major: C [M, N] = A [M, K] · B [K, N]; each function below takes the kernel for
// a full panel and one for the remainder, and returns false when libxsmm has none (the caller
// falls back to at::mm).

// out [rows, m] row-major is outᵀ [m, rows] column-major, and outᵀ = hᵀ · wᵀ with hᵀ [m, k]
// (leading dimension m) and wᵀ [k, rows] (leading dimension k) being h's and w's memory as they
// are. A panel is a range of m.
template <class T>
bool feature_major(const T* w, const T* h, T* out, int64_t rows, int64_t k, int64_t m) {
  const int64_t step = std::min(kFeatureMajorPanel, m), rest = m % step;
  const auto full = dispatch<T>(step, rows, k, m, k, m);
  const auto last = rest ? dispatch<T>(rest, rows, k, m, k, m) : full;
  if (!full || !last) return false;
  for_panels(m, step, [&](int64_t i, int64_t size) { (size == step ? full : last)(h + i, w, out + i); });
  return true;
}

// out [m, n] row-major is outᵀ [n, m] column-major, and outᵀ = bᵀ · xᵀ with bᵀ [n, k] (leading
// dimension n) and xᵀ [k, m] (leading dimension k) being b's and x's memory. A panel is a range of
// m (columns of xᵀ and outᵀ). epilogue(start, size) runs on each panel's rows right after the
// kernel, while they are in cache (a bias, a ReLU, a layer norm).
template <class T, class Epilogue>
bool point_major(const T* x, const T* b, T* out, int64_t m, int64_t k, int64_t n, const Epilogue& epilogue) {
  const int64_t step = std::min(kPointMajorPanel, m), rest = m % step;
  const auto full = dispatch<T>(n, step, k, n, k, n);
  const auto last = rest ? dispatch<T>(n, rest, k, n, k, n) : full;
  if (!full || !last) return false;
  for_panels(m, step, [&](int64_t start, int64_t size) {
    (size == step ? full : last)(b, x + start * k, out + start * n);
    epilogue(start, size);
  });
  return true;
}

// libxsmm's kernel for a range of points of outer_product_sum: out [p, n] row-major is
// outᵀ [n, p] column-major = bᵀ · a, with bᵀ [n, m] (b's memory, leading dimension n) and a as a
// transposed B (a's memory is [p, m] column-major, leading dimension p). Panels of kOuterPanel
// points accumulate (β = 1) into `sum`, zeroed first. False where libxsmm has no kernel.
constexpr int64_t kOuterPanel = 128;
template <class T>
bool outer_sum_jit(const T* a, const T* b, T* sum, int64_t start, int64_t stop, int64_t p, int64_t n) {
  const int64_t step = kOuterPanel;
  const auto kernel = [&](int64_t size) { return dispatch<T>(n, p, size, n, p, n, true, LIBXSMM_GEMM_FLAG_TRANS_B); };
  const auto full = kernel(step);
  if (!full) return false;
  std::fill(sum, sum + p * n, T(0));
  for (; start < stop; start += step) {
    const int64_t size = std::min(step, stop - start);
    const auto f = size == step ? full : kernel(size);
    if (f) {
      f(b + start * n, a + start * p, sum);
      continue;
    }
    for (int64_t r = start; r < start + size; ++r)  // no kernel for this remainder: row by row
      for (int64_t i = 0; i < p; ++i)
        for (int64_t j = 0; j < n; ++j) sum[i * n + j] += a[r * p + i] * b[r * n + j];
  }
  return true;
}
#endif

}  // namespace

at::Tensor product_with_transpose(const at::Tensor& a, const at::Tensor& b) {
  if (kernels::have_transposed_product_cpu && eligible(a, b, 1, 1)) {
    const int64_t m = a.size(0), n = b.size(0), k = a.size(1);
    at::Tensor out = at::empty({m, n}, a.options());
    // Split over threads by whole column tiles, each worth at least ~1 MFLOP: each element is one
    // tile's sums whatever the threads.
    const int64_t cols = kernels::transposed_product_tile_columns(), tiles = (n + cols - 1) / cols;
    const int64_t grain = std::max<int64_t>(1, (1 << 19) / std::max<int64_t>(1, m * k * cols));
    AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "product_with_transpose", [&] {
      const scalar_t *pa = a.data_ptr<scalar_t>(), *pb = b.data_ptr<scalar_t>();
      scalar_t* pc = out.data_ptr<scalar_t>();
      at::parallel_for(0, tiles, grain, [&](int64_t begin, int64_t end) {
        kernels::transposed_product_cpu<scalar_t>(pa, pb, pc, m, n, k, begin * cols, std::min(n, end * cols));
      });
    });
    return out;
  }
  return at::mm(a, b.t());
}

// Points per chunk of outer_product_sum, at most: each chunk's partial sum is one [p, n] buffer,
// added in chunk order; the chunks, not the threads, fix the summation order. The m points are
// split into ceil(m / 1024) chunks of equal size (to a point), so that 2 threads get equal work
// on a 1,723-node graph's layers (2 chunks of 862; 1,024 + 699 left one thread waiting) and MKL
// keeps its whole-product speed on 9,964 edges (docs/design.md).
constexpr int64_t kOuterChunk = 1024;

namespace {

// Whether OuterSumKernel::Auto takes libxsmm's kernel on this machine.
bool outer_product_sum_uses_jit() {
#if TESSERA_WITH_XSMM
  // libxsmm's transposed-B kernel beat MKL where libxsmm targets AVX-512 (~100 against 77 GFLOP/s)
  // and lost to it on an AVX2 EPYC (55–64 against 71–81), so the choice follows libxsmm's target:
  // fixed per machine, so a run and its resumption compute alike.
  static const bool jit = libxsmm_get_target_archid() >= LIBXSMM_X86_AVX512_CORE;
  return jit;
#else
  return false;
#endif
}

// Per-chunk sums v [chunks, p] (double) added in chunk order, as a [p] tensor of `options`' type.
at::Tensor sum_chunks_in_order(std::vector<double>& v, int64_t chunks, int64_t p, const at::TensorOptions& options) {
  for (int64_t c = 1; c < chunks; ++c)
    for (int64_t j = 0; j < p; ++j) v[j] += v[c * p + j];
  at::Tensor out = at::empty({p}, options);
  AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "sum_chunks_in_order",
                             [&] { std::copy(v.begin(), v.begin() + p, out.data_ptr<scalar_t>()); });
  return out;
}

// outer_product_sum, and with `column_sums` also a's column sums, each chunk's summed right after
// its product (in double) and the chunks' sums added in chunk order.
// With `norm`, a is filled chunk by chunk first: the layer norm's input gradient from norm's gy, z,
// mean, rstd and gamma (layer_norm_backward_rows), with its dgamma and dbeta per chunk.
struct NormBackward {
  at::Tensor gy, z, mean, rstd, gamma;
  at::Tensor dgamma, dbeta;  // outputs: [p], summed in chunk order
};

std::pair<at::Tensor, at::Tensor> outer_sum(const at::Tensor& a, const at::Tensor& b, OuterSumKernel kernel,
                                            bool column_sums, NormBackward* norm = nullptr) {
  if (!eligible(a, b, 0, 0)) return {at::mm(a.t(), b), column_sums ? a.sum(0) : at::Tensor()};
  [[maybe_unused]] const bool jit =
      kernel == OuterSumKernel::Jit || (kernel == OuterSumKernel::Auto && outer_product_sum_uses_jit());
  const int64_t m = a.size(0), p = a.size(1), n = b.size(1), chunks = (m + kOuterChunk - 1) / kOuterChunk;
  at::Tensor out = at::empty({p, n}, a.options());
  // Chunk c's sum: `out` itself for c = 0, else partial[c - 1].
  at::Tensor partial = at::empty({std::max<int64_t>(chunks - 1, 0), p, n}, a.options());
  std::vector<double> chunk_sums(column_sums ? chunks * p : 0), dgamma(norm ? chunks * p : 0),
      dbeta(norm ? chunks * p : 0);
  // Detached, and with the caller's thread-local state (grad and inference mode): the BLAS product
  // runs on torch's worker threads, whose modes are their own, and would refuse operands that
  // require grad (a backward pass's saved inputs) or outputs made under inference mode.
  const at::Tensor ad = a.detach(), bd = b.detach();
  const at::ThreadLocalState caller;
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "outer_product_sum", [&] {
    scalar_t* const po = out.data_ptr<scalar_t>();
    scalar_t* const pp = partial.data_ptr<scalar_t>();
    scalar_t* const pa = a.data_ptr<scalar_t>();  // written first with `norm`
    // At least two items, so that with several threads the chunks always run inside a parallel
    // region, where BLAS is sequential: a single chunk run inline would let MKL thread it, and its
    // result could then depend on the thread count.
    at::parallel_for(0, std::max<int64_t>(chunks, 2), 1, [&](int64_t begin, int64_t end) {
      const at::ThreadLocalStateGuard guard(caller);
      for (int64_t c = begin; c < std::min(end, chunks); ++c) {
        const int64_t start = c * m / chunks, size = (c + 1) * m / chunks - start;  // ≤ 1024, never empty
        at::Tensor sum = c == 0 ? out : partial[c - 1];
        if (norm)
          layer_norm_backward_rows(norm->gy.data_ptr<scalar_t>() + start * p, norm->z.data_ptr<scalar_t>() + start * p,
                                   norm->mean.data_ptr<scalar_t>() + start, norm->rstd.data_ptr<scalar_t>() + start,
                                   norm->gamma.data_ptr<scalar_t>(), pa + start * p,
                                   dgamma.data() + c * p, dbeta.data() + c * p, size, p);
#if TESSERA_WITH_XSMM
        if (!(jit && outer_sum_jit(pa, b.data_ptr<scalar_t>(), sum.data_ptr<scalar_t>(), start, start + size, p, n)))
#endif
          at::mm_out(sum, ad.narrow(0, start, size).t(), bd.narrow(0, start, size));  // BLAS, one thread here
        if (column_sums) add_columns(pa + start * p, size, p, chunk_sums.data() + c * p);  // a's chunk is in cache
      }
    });
    // The partial sums added in chunk order, element ranges on the threads.
    if (chunks > 1)
      at::parallel_for(0, p * n, 4096, [&](int64_t begin, int64_t end) {
        for (int64_t c = 1; c < chunks; ++c)
          for (int64_t i = begin; i < end; ++i) po[i] += pp[(c - 1) * p * n + i];
      });
  });
  if (norm) {
    norm->dgamma = sum_chunks_in_order(dgamma, chunks, p, a.options());
    norm->dbeta = sum_chunks_in_order(dbeta, chunks, p, a.options());
  }
  return {out, column_sums ? sum_chunks_in_order(chunk_sums, chunks, p, a.options()) : at::Tensor()};
}

}  // namespace

at::Tensor outer_product_sum(const at::Tensor& a, const at::Tensor& b, OuterSumKernel kernel) {
  return outer_sum(a, b, kernel, false).first;
}

std::pair<at::Tensor, at::Tensor> outer_product_sum_and_column_sums(const at::Tensor& a, const at::Tensor& b,
                                                                    OuterSumKernel kernel) {
  return outer_sum(a, b, kernel, true);
}

NormedProductGrads layer_norm_backward_and_weight_grads(const at::Tensor& gy, const at::Tensor& z,
                                                        const at::Tensor& mean, const at::Tensor& rstd,
                                                        const at::Tensor& gamma, const at::Tensor& x, bool bias) {
  const int64_t m = z.size(0), p = z.size(1);
  const bool fits = gy.sizes() == z.sizes() && mean.numel() == m && rstd.numel() == m && gamma.numel() == p &&
                    x.dim() == 2 && x.size(0) == m && eligible(z, x, 0, 0) && eligible(gy, x, 0, 0) &&
                    mean.is_contiguous() && rstd.is_contiguous() && gamma.is_contiguous() &&
                    mean.scalar_type() == z.scalar_type() && rstd.scalar_type() == z.scalar_type() &&
                    gamma.scalar_type() == z.scalar_type() && gamma.device().is_cpu() &&
                    !(c10::GradMode::is_enabled() && gamma.requires_grad());
  NormedProductGrads g;
  if (!fits) {  // ATen's layer norm backward, then the products
    // (ATen takes beta only for dbeta's type and device: its values do not enter the backward.)
    std::tie(g.gz, g.gamma, g.beta) = at::native_layer_norm_backward(gy, z, {p}, mean, rstd, gamma,
                                                                     at::zeros_like(gamma), {true, true, true});
    g.gz = g.gz.contiguous();
    if (bias)
      std::tie(g.weight, g.bias) = outer_product_sum_and_column_sums(g.gz, x);
    else
      g.weight = outer_product_sum(g.gz, x);
    return g;
  }
  NormBackward norm{gy, z, mean, rstd, gamma, {}, {}};
  g.gz = at::empty_like(z);
  std::tie(g.weight, g.bias) = outer_sum(g.gz, x, OuterSumKernel::Auto, bias, &norm);
  g.gamma = norm.dgamma, g.beta = norm.dbeta;
  return g;
}

bool small_products_have_jit() { return TESSERA_WITH_XSMM != 0; }

at::Tensor transposed_weight(const at::Tensor& w) {
#if TESSERA_WITH_XSMM
  if (w.device().is_cpu() && w.dim() == 2 && w.numel() > 0 && w.stride(1) == 1 && w.stride(0) >= w.size(1) &&
      (w.scalar_type() == at::kFloat || w.scalar_type() == at::kDouble) &&
      !(c10::GradMode::is_enabled() && w.requires_grad())) {
    // Column-major, w is a [in, out] matrix with leading dimension stride(0); its transpose [out, in]
    // with leading dimension out is wᵀ row-major.
    at::Tensor out = at::empty({w.size(1), w.size(0)}, w.options());
    libxsmm_otrans(out.data_ptr(), w.data_ptr(), static_cast<unsigned>(w.element_size()), w.size(1), w.size(0),
                   w.stride(0), w.size(0));
    return out;
  }
#endif
  return w.t().contiguous();
}

at::Tensor weight_product(const at::Tensor& w, const at::Tensor& h) {
#if TESSERA_WITH_XSMM
  if (eligible(w, h)) {
    at::Tensor out = at::empty({w.size(0), h.size(1)}, h.options());
    const bool done = AT_DISPATCH_FLOATING_TYPES(w.scalar_type(), "weight_product", [&] {
      return feature_major<scalar_t>(w.data_ptr<scalar_t>(), h.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                                     w.size(0), w.size(1), h.size(1));
    });
    if (done) return out;
  }
#endif
  return at::mm(w, h);
}

namespace {

// A vector operand of an epilogue: [n], contiguous, b's type, on the CPU, nothing to record.
bool fits_row(const at::Tensor& v, const at::Tensor& b) {
  return v.dim() == 1 && v.size(0) == b.size(1) && v.is_contiguous() && v.scalar_type() == b.scalar_type() &&
         v.device().is_cpu() && !(c10::GradMode::is_enabled() && v.requires_grad());
}

}  // namespace

at::Tensor product_with_weight(const at::Tensor& x, const at::Tensor& b, const at::Tensor& bias, bool relu) {
#if TESSERA_WITH_XSMM
  if ((!bias.defined() || fits_row(bias, b)) && eligible(x, b)) {
    const int64_t n = b.size(1);
    at::Tensor out = at::empty({x.size(0), n}, x.options());
    const bool done = AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "product_with_weight", [&] {
      const scalar_t* pb = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
      scalar_t* const po = out.data_ptr<scalar_t>();
      return point_major<scalar_t>(
          x.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), po, x.size(0), x.size(1), n, [&](int64_t start, int64_t size) {
            if (pb || relu) bias_relu_rows(po + start * n, pb, size, n, relu);
          });
    });
    if (done) return out;
  }
#endif
  at::Tensor out = bias.defined() ? at::addmm(bias, x, b) : at::mm(x, b);
  return relu ? out.relu_() : out;
}

at::Tensor product_with_weight_plus(const at::Tensor& x, const at::Tensor& b, const at::Tensor& c,
                                    const at::Tensor& table, const at::Tensor& index) {
  const int64_t m = x.size(0), n = b.size(1);
  TORCH_CHECK(!c.defined() || (c.dim() == 2 && c.size(0) == m && c.size(1) == n),
              "product_with_weight_plus: c must be [", m, ", ", n, "], got ", c.sizes());
  TORCH_CHECK(table.defined() == index.defined() &&
                  (!table.defined() || (table.dim() == 2 && table.size(1) == n && index.dim() == 1 &&
                                        index.size(0) == m && index.scalar_type() == at::kLong)),
              "product_with_weight_plus: table [t, ", n, "] and index [", m, "] int64 come together");
#if TESSERA_WITH_XSMM
  const auto fits = [&](const at::Tensor& t) {
    return !t.defined() || (t.is_contiguous() && t.scalar_type() == b.scalar_type() && t.device().is_cpu() &&
                            !(c10::GradMode::is_enabled() && t.requires_grad()));
  };
  if (fits(c) && fits(table) && (!index.defined() || (index.is_contiguous() && index.device().is_cpu())) &&
      eligible(x, b)) {
    at::Tensor out = at::empty({m, n}, x.options());
    const bool done = AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "product_with_weight_plus", [&] {
      const scalar_t* pc = c.defined() ? c.data_ptr<scalar_t>() : nullptr;
      const scalar_t* pt = table.defined() ? table.data_ptr<scalar_t>() : nullptr;
      const int64_t* pi = index.defined() ? index.data_ptr<int64_t>() : nullptr;
      scalar_t* const po = out.data_ptr<scalar_t>();
      return point_major<scalar_t>(
          x.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), po, m, x.size(1), n, [&](int64_t start, int64_t size) {
            add_rows(po + start * n, pc ? pc + start * n : nullptr, pt, pi ? pi + start : nullptr, size, n);
          });
    });
    if (done) return out;
  }
#endif
  at::Tensor out = c.defined() ? at::addmm(c, x, b) : at::mm(x, b);
  return table.defined() ? out.add_(table.index_select(0, index)) : out;
}

at::Tensor product_with_weight_masked(const at::Tensor& g, const at::Tensor& b, const at::Tensor& mask) {
#if TESSERA_WITH_XSMM
  const bool fits = mask.dim() == 2 && mask.size(0) == g.size(0) && mask.size(1) == b.size(1) &&
                    mask.is_contiguous() && mask.scalar_type() == b.scalar_type() && mask.device().is_cpu() &&
                    !(c10::GradMode::is_enabled() && mask.requires_grad());
  if (fits && eligible(g, b)) {
    const int64_t n = b.size(1);
    at::Tensor out = at::empty({g.size(0), n}, g.options());
    const bool done = AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "product_with_weight_masked", [&] {
      const scalar_t* pm = mask.data_ptr<scalar_t>();
      scalar_t* const po = out.data_ptr<scalar_t>();
      return point_major<scalar_t>(
          g.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), po, g.size(0), g.size(1), n, [&](int64_t start, int64_t size) {
            mask_rows(po + start * n, pm + start * n, size * n);
          });
    });
    if (done) return out;
  }
#endif
  return at::threshold_backward(at::mm(g, b), mask, 0);
}

NormedProduct product_with_weight_layer_norm(const at::Tensor& x, const at::Tensor& b, const at::Tensor& bias,
                                             const at::Tensor& gamma, const at::Tensor& beta, double eps,
                                             const at::Tensor& residual) {
  const int64_t n = b.size(1);
#if TESSERA_WITH_XSMM
  const bool fits = (!bias.defined() || fits_row(bias, b)) && fits_row(gamma, b) && fits_row(beta, b) &&
                    (!residual.defined() || (residual.dim() == 2 && residual.size(0) == x.size(0) &&
                                             residual.size(1) == n && residual.is_contiguous() &&
                                             residual.scalar_type() == b.scalar_type() && residual.device().is_cpu() &&
                                             !(c10::GradMode::is_enabled() && residual.requires_grad())));
  if (fits && eligible(x, b)) {
    const int64_t m = x.size(0);
    NormedProduct r{at::empty({m, n}, x.options()), at::empty({m, n}, x.options()), at::empty({m, 1}, x.options()),
                    at::empty({m, 1}, x.options())};
    const bool done = AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "product_with_weight_layer_norm", [&] {
      const scalar_t* pb = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
      const scalar_t *pg = gamma.data_ptr<scalar_t>(), *pbeta = beta.data_ptr<scalar_t>();
      const scalar_t* pres = residual.defined() ? residual.data_ptr<scalar_t>() : nullptr;
      scalar_t *pz = r.z.data_ptr<scalar_t>(), *py = r.y.data_ptr<scalar_t>();
      scalar_t *pmean = r.mean.data_ptr<scalar_t>(), *prstd = r.rstd.data_ptr<scalar_t>();
      return point_major<scalar_t>(
          x.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), pz, m, x.size(1), n, [&](int64_t start, int64_t size) {
            layer_norm_rows(pz + start * n, py + start * n, pb, pg, pbeta, pres ? pres + start * n : nullptr,
                            pmean + start, prstd + start, size, n, scalar_t(eps));
          });
    });
    if (done) return r;
  }
#endif
  NormedProduct r;
  r.z = bias.defined() ? at::addmm(bias, x, b) : at::mm(x, b);
  std::tie(r.y, r.mean, r.rstd) = at::native_layer_norm(r.z, {n}, gamma, beta, eps);
  if (residual.defined()) r.y.add_(residual);
  return r;
}

}  // namespace tessera::linalg
