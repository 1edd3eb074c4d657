#include "linalg/outer_product_sum.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "core/error.hpp"
#include "linalg/sequential_blas.hpp"
#include "linalg/small_products.hpp"
#include "linalg/small_products_detail.hpp"

namespace tessera::linalg {
namespace {

using detail::eligible;

// The layer norm's backward on `rows` rows of width p (the rows of product_with_weight_layer_norm's
// z, mean and rstd): with x̂ = (z - mean) · rstd and gg = gy · gamma,
// gz = rstd · (gg - mean(gg) - x̂ · mean(gg · x̂)); dgamma += gy · x̂ and dbeta += gy (in double).
template <class T>
TESSERA_CPU_CLONES void layer_norm_backward_rows(const T* gy, const T* z, const T* mean, const T* rstd, const T* gamma,
                                                 T* gz, double* __restrict__ dgamma, double* __restrict__ dbeta,
                                                 int64_t rows, int64_t p) {
  for (int64_t r = 0; r < rows; ++r, gy += p, z += p, gz += p) {
    const T mu = mean[r], rs = rstd[r];
    // Σ gg and Σ gg · x̂ summed without storing them (row_sum's partial sums and order).
    const auto gg = [&](int64_t j, auto x) {
      using X = decltype(x);
      return load_lanes<X>(gy + j) * load_lanes<X>(gamma + j);
    };
    const auto gg_xhat = [&](int64_t j, auto x) {
      using X = decltype(x);
      return load_lanes<X>(gy + j) * load_lanes<X>(gamma + j) * ((load_lanes<X>(z + j) - mu) * rs);
    };
    const T c1 = lane_sum<T>(p, gg) / T(p);
    const T c2 = lane_sum<T>(p, gg_xhat) / T(p);
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
// libxsmm's kernel for a chunk of `rows` points of outer_product_sum: out [p, n] row-major is
// outᵀ [n, p] column-major = bᵀ · a, with bᵀ [n, m] (b's memory, leading dimension n) and a as a
// transposed B (a's memory is [p, m] column-major, leading dimension p). The first panel of
// kOuterPanel points writes `sum` (β = 0), the others accumulate into it (β = 1): no pass to zero
// it first. False where libxsmm has no kernel.
constexpr int64_t kOuterPanel = 128;
template <class T>
bool outer_sum_jit(const T* a, const T* b, T* sum, int64_t rows, int64_t p, int64_t n) {
  const int64_t step = kOuterPanel;
  const auto kernel = [&](int64_t size, bool accumulate) {
    return detail::dispatch<T>(n, p, size, n, p, n, accumulate, LIBXSMM_GEMM_FLAG_TRANS_B);
  };
  const auto full = kernel(step, true);
  if (!full) return false;
  bool written = false;  // whether `sum` holds a value yet
  for (int64_t start = 0; start < rows; start += step) {
    const int64_t size = std::min(step, rows - start);
    const auto f = written ? (size == step ? full : kernel(size, true)) : kernel(size, false);
    if (f) {
      f(b + start * n, a + start * p, sum);
      written = true;
      continue;
    }
    if (!written) std::fill(sum, sum + p * n, T(0)), written = true;
    for (int64_t r = start; r < start + size; ++r)  // no kernel for this remainder: row by row
      for (int64_t i = 0; i < p; ++i)
        for (int64_t j = 0; j < n; ++j) sum[i * n + j] += a[r * p + i] * b[r * n + j];
  }
  if (!written) std::fill(sum, sum + p * n, T(0));  // no points
  return true;
}
#endif

// One chunk's sum aᵀ · b into `sum` [p, n], for a chunk's rows a [rows, p] and b [rows, n]:
// libxsmm's kernel with `jit`, else (or where libxsmm has none) one BLAS product, single-threaded
// inside the chunks' parallel region.
template <class T>
void chunk_outer_sum(const at::Tensor& a, const at::Tensor& b, at::Tensor sum, [[maybe_unused]] bool jit) {
#if TESSERA_HAVE_XSMM
  if (jit && outer_sum_jit(a.data_ptr<T>(), b.data_ptr<T>(), sum.data_ptr<T>(), a.size(0), a.size(1), b.size(1)))
    return;
#endif
  at::mm_out(sum, a.t(), b);
}

// out[i] += partials[c][i] for c = 0, 1, ... in order (each partial `size` elements), element
// ranges on the threads: the chunks' sums added in chunk order.
template <class T>
void add_partials_in_order(T* out, const T* partials, int64_t count, int64_t size) {
  if (count == 0) return;
  at::parallel_for(0, size, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t c = 0; c < count; ++c)
      for (int64_t i = begin; i < end; ++i) out[i] += partials[c * size + i];
  });
}

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
// its product (in double) and the chunks' sums added in chunk order; `then` (if given) runs on each
// chunk's rows right after them, on the same thread.
std::pair<at::Tensor, at::Tensor> outer_sum(const at::Tensor& a, const at::Tensor& b, OuterSumKernel kernel,
                                            bool column_sums, const ChunkCallback* then = nullptr) {
  if (!eligible(a, b, 0, 0)) {
    std::pair<at::Tensor, at::Tensor> r{at::mm(a.t(), b), column_sums ? a.sum(0) : at::Tensor()};
    if (then && a.size(0) > 0) (*then)(0, a.size(0));
    return r;
  }
  const bool jit = outer_product_sum_takes_jit(kernel);
  const int64_t m = a.size(0), p = a.size(1), n = b.size(1), chunks = (m + kOuterChunk - 1) / kOuterChunk;
  at::Tensor out = at::empty({p, n}, a.options());
  // Chunk c's sum: `out` itself for c = 0, else partial[c - 1].
  at::Tensor partial = at::empty({std::max<int64_t>(chunks - 1, 0), p, n}, a.options());
  std::vector<double> chunk_sums(column_sums ? chunks * p : 0);
  // Detached, and with the caller's thread-local state (grad and inference mode): the BLAS product
  // runs on torch's worker threads, whose modes are their own, and would refuse operands that
  // require grad (a backward pass's saved inputs) or outputs made under inference mode.
  const at::Tensor ad = a.detach(), bd = b.detach();
  const at::ThreadLocalState caller;
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "outer_product_sum", [&] {
    scalar_t* const po = out.data_ptr<scalar_t>();
    scalar_t* const pp = partial.data_ptr<scalar_t>();
    const scalar_t* const pa = a.data_ptr<scalar_t>();
    // At least two items, so that with several threads the chunks always run inside a parallel
    // region, with BLAS kept on each chunk's thread (SequentialBlas): a single chunk run inline
    // would let MKL thread it, and its result could then depend on the thread count.
    at::parallel_for(0, std::max<int64_t>(chunks, 2), 1, [&](int64_t begin, int64_t end) {
      const at::ThreadLocalStateGuard guard(caller);
      const SequentialBlas one_thread;
      for (int64_t c = begin; c < std::min(end, chunks); ++c) {
        const int64_t start = c * m / chunks, size = (c + 1) * m / chunks - start;  // ≤ 1024, never empty
        at::Tensor sum = c == 0 ? out : partial[c - 1];
        chunk_outer_sum<scalar_t>(ad.narrow(0, start, size), bd.narrow(0, start, size), sum, jit);
        if (column_sums) add_columns(pa + start * p, size, p, chunk_sums.data() + c * p);  // a's chunk is in cache
        if (then) (*then)(start, size);
      }
    });
    add_partials_in_order(po, pp, chunks - 1, p * n);
  });
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

std::pair<at::Tensor, at::Tensor> weight_and_bias_grads_then(const at::Tensor& gy, const at::Tensor& x, bool bias,
                                                             const ChunkCallback& then) {
  return outer_sum(gy, x, OuterSumKernel::Auto, bias, &then);
}

std::pair<at::Tensor, at::Tensor> weight_and_bias_grads(const at::Tensor& gy, const at::Tensor& x, bool weight,
                                                        bool bias) {
  if (weight && bias) return outer_product_sum_and_column_sums(gy, x);
  return {weight ? outer_product_sum(gy, x) : at::Tensor(), bias ? gy.sum(0) : at::Tensor()};
}

// Points per chunk of mlp_backward_by_chunks, at most (equal chunks, as outer_product_sum's): a
// chunk's gradient rows, a layer's saved input and the next gradient rows (256 KB each at 128
// fp32 columns) fit a core's L2 together.
constexpr int64_t kMlpChunk = 512;

bool mlp_backward_by_chunks_applies(const MlpBackwardInputs& in) {
  const at::Tensor& gy = in.gy;
  const auto fits = [&](const at::Tensor& t, int64_t rows, int64_t cols) {
    return t.defined() && t.dim() == 2 && t.size(0) == rows && (cols < 0 || t.size(1) == cols) && t.is_contiguous() &&
           t.device().is_cpu() && t.scalar_type() == gy.scalar_type() &&
           !(c10::GradMode::is_enabled() && t.requires_grad());
  };
  const size_t layers = in.weights.size();
  if (!(gy.defined() && (gy.scalar_type() == at::kFloat || gy.scalar_type() == at::kDouble) && layers > 0 &&
        in.ins.size() == layers && in.weight_grad.size() == layers && in.bias_grad.size() == layers &&
        fits(gy, gy.size(0), -1) && gy.size(0) > 0))
    return false;
  const int64_t m = gy.size(0);
  for (size_t k = 0; k < layers; ++k)
    if (!fits(in.weights[k], in.weights[k].size(0), k ? in.weights[k - 1].size(0) : -1) ||
        !fits(in.ins[k], m, in.weights[k].size(1)))
      return false;
  if (in.weights.back().size(0) != gy.size(1)) return false;
  if (!in.z.defined()) return true;
  return fits(in.z, m, gy.size(1)) && fits(in.mean, m, 1) && fits(in.rstd, m, 1) && in.gamma.defined() &&
         in.gamma.dim() == 1 && in.gamma.size(0) == gy.size(1) && in.gamma.is_contiguous() &&
         in.gamma.device().is_cpu() && in.gamma.scalar_type() == gy.scalar_type() &&
         !(c10::GradMode::is_enabled() && in.gamma.requires_grad());
}

MlpBackwardGrads mlp_backward_by_chunks(const MlpBackwardInputs& in) {
  if (!mlp_backward_by_chunks_applies(in)) throw Error("mlp_backward_by_chunks: operands it does not take");
  const at::Tensor& gy = in.gy;
  const int64_t m = gy.size(0), n = gy.size(1), layers = static_cast<int64_t>(in.weights.size());
  const int64_t chunks = (m + kMlpChunk - 1) / kMlpChunk;
  const bool norm = in.z.defined();
  const bool jit = outer_product_sum_takes_jit(OuterSumKernel::Auto);
  const auto options = gy.options();
  MlpBackwardGrads out;
  out.weights.resize(layers), out.biases.resize(layers);
  // Per layer: the weight gradient, which is chunk 0's sum, the other chunks' partials
  // [chunks - 1, out, in] (as outer_sum's), and the chunks' column sums (double).
  std::vector<at::Tensor> partial(layers);
  std::vector<std::vector<double>> column_sums(layers);
  for (int64_t k = 0; k < layers; ++k) {
    const int64_t p = in.weights[k].size(0), q = in.weights[k].size(1);
    if (in.weight_grad[k])
      out.weights[k] = at::empty({p, q}, options), partial[k] = at::empty({chunks - 1, p, q}, options);
    if (in.bias_grad[k]) column_sums[k].assign(chunks * p, 0.0);
  }
  std::vector<double> dgamma(norm ? chunks * n : 0), dbeta(norm ? chunks * n : 0);
  if (in.input_grad) out.input = at::empty({m, in.weights[0].size(1)}, options);
  const at::ThreadLocalState caller;
  AT_DISPATCH_FLOATING_TYPES(gy.scalar_type(), "mlp_backward_by_chunks", [&] {
    // At least two items, so that with several threads every chunk runs inside a parallel region,
    // where the products below and BLAS stay on one thread (outer_sum's reason, SequentialBlas).
    at::parallel_for(0, std::max<int64_t>(chunks, 2), 1, [&](int64_t begin, int64_t end) {
      const at::ThreadLocalStateGuard guard(caller);
      const SequentialBlas one_thread;
      for (int64_t c = begin; c < std::min(end, chunks); ++c) {
        const int64_t start = c * m / chunks, size = (c + 1) * m / chunks - start;
        const auto rows = [&](const at::Tensor& t) { return t.narrow(0, start, size); };
        at::Tensor g;  // this chunk's gradient rows of the current layer's output
        if (norm) {
          g = at::empty({size, n}, options);
          layer_norm_backward_rows(gy.data_ptr<scalar_t>() + start * n, in.z.data_ptr<scalar_t>() + start * n,
                                   in.mean.data_ptr<scalar_t>() + start, in.rstd.data_ptr<scalar_t>() + start,
                                   in.gamma.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), dgamma.data() + c * n,
                                   dbeta.data() + c * n, size, n);
        } else {
          g = rows(gy);
        }
        for (int64_t k = layers - 1; k >= 0; --k) {
          const at::Tensor x = rows(in.ins[k]);
          const int64_t p = in.weights[k].size(0);
          if (in.weight_grad[k]) chunk_outer_sum<scalar_t>(g, x, c == 0 ? out.weights[k] : partial[k][c - 1], jit);
          if (in.bias_grad[k]) add_columns(g.data_ptr<scalar_t>(), size, p, column_sums[k].data() + c * p);
          if (k > 0)
            g = product_with_weight_masked(g, in.weights[k], x);
          else if (in.input_grad && in.input_relu)
            product_with_weight_masked_into(rows(out.input), g, in.weights[0], x);
          else if (in.input_grad)
            product_with_weight_into(rows(out.input), g, in.weights[0]);
        }
      }
    });
  });
  // The partials added in chunk order.
  for (int64_t k = 0; k < layers; ++k) {
    if (in.weight_grad[k])
      AT_DISPATCH_FLOATING_TYPES(gy.scalar_type(), "mlp_backward_by_chunks", [&] {
        add_partials_in_order(out.weights[k].data_ptr<scalar_t>(), partial[k].data_ptr<scalar_t>(), chunks - 1,
                              out.weights[k].numel());
      });
    if (in.bias_grad[k]) out.biases[k] = sum_chunks_in_order(column_sums[k], chunks, in.weights[k].size(0), options);
  }
  if (norm && in.gamma_grad) out.gamma = sum_chunks_in_order(dgamma, chunks, n, options);
  if (norm && in.beta_grad) out.beta = sum_chunks_in_order(dbeta, chunks, n, options);
  return out;
}

}  // namespace tessera::linalg
