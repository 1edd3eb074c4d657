#include "linalg/outer_product_sum.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "linalg/small_products_detail.hpp"

namespace tessera::linalg {
namespace {

using detail::eligible;
using detail::row_sum;

// The layer norm's backward on `rows` rows of width p (the rows of product_with_weight_layer_norm's
// z, mean and rstd): with x̂ = (z - mean) · rstd and gg = gy · gamma,
// gz = rstd · (gg - mean(gg) - x̂ · mean(gg · x̂)); dgamma += gy · x̂ and dbeta += gy (in double).
template <class T>
TESSERA_CPU_CLONES void layer_norm_backward_rows(const T* gy, const T* z, const T* mean, const T* rstd, const T* gamma,
                                                 T* gz, double* __restrict__ dgamma, double* __restrict__ dbeta,
                                                 int64_t rows, int64_t p) {
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
TESSERA_CPU_CLONES void add_columns(const T* __restrict__ a, int64_t rows, int64_t p, double* __restrict__ sums) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < p; ++j) sums[j] += double(a[r * p + j]);
}

#if TESSERA_HAVE_XSMM
// libxsmm's kernel for a range of points of outer_product_sum: out [p, n] row-major is
// outᵀ [n, p] column-major = bᵀ · a, with bᵀ [n, m] (b's memory, leading dimension n) and a as a
// transposed B (a's memory is [p, m] column-major, leading dimension p). Panels of kOuterPanel
// points accumulate (β = 1) into `sum`, zeroed first. False where libxsmm has no kernel.
constexpr int64_t kOuterPanel = 128;
template <class T>
bool outer_sum_jit(const T* a, const T* b, T* sum, int64_t start, int64_t stop, int64_t p, int64_t n) {
  const int64_t step = kOuterPanel;
  const auto kernel = [&](int64_t size) {
    return detail::dispatch<T>(n, p, size, n, p, n, true, LIBXSMM_GEMM_FLAG_TRANS_B);
  };
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

// Points per chunk of outer_product_sum, at most: each chunk's partial sum is one [p, n] buffer,
// added in chunk order; the chunks, not the threads, fix the summation order. The m points are
// split into ceil(m / 1024) chunks of equal size (to a point), so that 2 threads get equal work
// on a 1,723-node graph's layers (2 chunks of 862; 1,024 + 699 left one thread waiting) and MKL
// keeps its whole-product speed on 9,964 edges (docs/design.md).
constexpr int64_t kOuterChunk = 1024;

namespace {

// Whether OuterSumKernel::Auto takes libxsmm's kernel on this machine.
bool outer_product_sum_uses_jit() {
#if TESSERA_HAVE_XSMM
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
  [[maybe_unused]] const bool jit = outer_product_sum_takes_jit(kernel);
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
                                   norm->gamma.data_ptr<scalar_t>(), pa + start * p, dgamma.data() + c * p,
                                   dbeta.data() + c * p, size, p);
#if TESSERA_HAVE_XSMM
        if (!(jit && outer_sum_jit(pa, b.data_ptr<scalar_t>(), sum.data_ptr<scalar_t>(), start, start + size, p, n)))
#endif
          at::mm_out(sum, ad.narrow(0, start, size).t(), bd.narrow(0, start, size));       // BLAS, one thread here
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

bool outer_product_sum_takes_jit(OuterSumKernel kernel) {
  return TESSERA_HAVE_XSMM &&
         (kernel == OuterSumKernel::Jit || (kernel == OuterSumKernel::Auto && outer_product_sum_uses_jit()));
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
    std::tie(g.gz, g.gamma, g.beta) =
        at::native_layer_norm_backward(gy, z, {p}, mean, rstd, gamma, at::zeros_like(gamma), {true, true, true});
    g.gz = g.gz.contiguous();
    std::tie(g.weight, g.bias) = weight_and_bias_grads(g.gz, x, true, bias);
    return g;
  }
  NormBackward norm{gy, z, mean, rstd, gamma, {}, {}};
  g.gz = at::empty_like(z);
  std::tie(g.weight, g.bias) = outer_sum(g.gz, x, OuterSumKernel::Auto, bias, &norm);
  g.gamma = norm.dgamma, g.beta = norm.dbeta;
  return g;
}

std::pair<at::Tensor, at::Tensor> weight_and_bias_grads(const at::Tensor& gy, const at::Tensor& x, bool weight,
                                                        bool bias) {
  if (weight && bias) return outer_product_sum_and_column_sums(gy, x);
  return {weight ? outer_product_sum(gy, x) : at::Tensor(), bias ? gy.sum(0) : at::Tensor()};
}

}  // namespace tessera::linalg
