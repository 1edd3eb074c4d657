#include "linalg/small_products.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/error.hpp"
#include "linalg/kernels/transposed_product.hpp"
#include "linalg/small_products_detail.hpp"

namespace tessera::linalg {
namespace {

using detail::eligible;
using detail::row_sum;
#if TESSERA_HAVE_XSMM
using detail::dispatch;
#endif

// The products' epilogues run on a panel of `rows` rows of width n while it is in cache; each is
// built for AVX2 as well (core/cpu_clones.hpp: in SSE2 they were no faster than ATen's separate,
// AVX2-dispatched passes they replace).

// o += bias on every row (if given), then max(o, 0) (if relu).
template <class T>
TESSERA_CPU_CLONES void bias_relu_rows(T* o, const T* bias, int64_t rows, int64_t n, bool relu) {
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
TESSERA_CPU_CLONES void mask_rows(T* o, const T* mask, int64_t count) {
  for (int64_t i = 0; i < count; ++i) o[i] = mask[i] > T(0) ? o[i] : T(0);
}

// o[r, :] += c[r, :] (if c) + table[index[r], :] (if table) over `rows` rows of width n.
template <class T>
TESSERA_CPU_CLONES void add_rows(T* __restrict__ o, const T* __restrict__ c, const T* __restrict__ table,
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

// o[r, :] = o[r, :] + bias + ta[ia[r], :] + tb[ib[r], :] (added in this order), then max(·, 0)
// if relu, over `rows` rows of width n.
template <class T>
TESSERA_CPU_CLONES void gathered_rows(T* __restrict__ o, const T* __restrict__ bias, const T* __restrict__ ta,
                                      const int64_t* ia, const T* __restrict__ tb, const int64_t* ib, int64_t rows,
                                      int64_t n, bool relu) {
  for (int64_t r = 0; r < rows; ++r, o += n) {
    const T* __restrict__ a = ta + ia[r] * n;
    const T* __restrict__ b = tb + ib[r] * n;
    if (bias && relu)
      for (int64_t j = 0; j < n; ++j) o[j] = std::max(((o[j] + bias[j]) + a[j]) + b[j], T(0));
    else if (bias)
      for (int64_t j = 0; j < n; ++j) o[j] = ((o[j] + bias[j]) + a[j]) + b[j];
    else if (relu)
      for (int64_t j = 0; j < n; ++j) o[j] = std::max((o[j] + a[j]) + b[j], T(0));
    else
      for (int64_t j = 0; j < n; ++j) o[j] = (o[j] + a[j]) + b[j];
  }
}

// Each row of z: + bias, its mean and biased variance (two passes over the row), then
// y = (z - mean) * rstd * gamma + beta (+ residual); mean and rstd stored per row.
template <class T>
TESSERA_CPU_CLONES void layer_norm_rows(T* z, T* y, const T* bias, const T* gamma, const T* beta, const T* residual,
                                        T* mean_out, T* rstd_out, int64_t rows, int64_t n, T eps) {
  for (int64_t r = 0; r < rows; ++r, z += n, y += n) {
    // The bias added in the pass that sums the row, and the squares summed without being stored:
    // the values of separate passes, in fewer sweeps over the row.
    const auto add_bias = [&](int64_t j, auto x) {
      using X = decltype(x);
      const X zb = load_lanes<X>(z + j) + load_lanes<X>(bias + j);
      store_lanes(z + j, zb);
      return zb;
    };
    const T mean = (bias ? lane_sum<T>(n, add_bias) : row_sum(z, n)) / T(n);
    const auto square_deviation = [&](int64_t j, auto x) {
      using X = decltype(x);
      const X c = load_lanes<X>(z + j) - mean;
      return c * c;
    };
    const T rstd = T(1) / std::sqrt(lane_sum<T>(n, square_deviation) / T(n) + eps);
    mean_out[r] = mean, rstd_out[r] = rstd;
    if (residual)
      for (int64_t j = 0; j < n; ++j) y[j] = (z[j] - mean) * rstd * gamma[j] + beta[j] + residual[r * n + j];
    else
      for (int64_t j = 0; j < n; ++j) y[j] = (z[j] - mean) * rstd * gamma[j] + beta[j];
  }
}

#if TESSERA_HAVE_XSMM

// Points per kernel call. Feature-major (weight_product, k = rows = 50): 64–256 all ran at
// 109–111 GFLOP/s. Point-major (product_with_weight, k = n = 128): 16 ran at 101, 128 at 95; on
// the Zen 4 VM (AVX-512), a 512-row block in L2: 16, 24, 32, 48 and 64 all at 110–115.
constexpr int64_t kFeatureMajorPanel = 128;  // kPointMajorPanel: small_products.hpp

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

bool small_products_have_jit() { return TESSERA_HAVE_XSMM != 0; }

at::Tensor transposed_weight(const at::Tensor& w) {
#if TESSERA_HAVE_XSMM
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
#if TESSERA_HAVE_XSMM
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
[[maybe_unused]] bool fits_row(const at::Tensor& v, const at::Tensor& b) {
  return v.dim() == 1 && v.size(0) == b.size(1) && v.is_contiguous() && v.scalar_type() == b.scalar_type() &&
         v.device().is_cpu() && !(c10::GradMode::is_enabled() && v.requires_grad());
}

// An _into function's output: contiguous [m, n] of `like`'s type; else one error naming `what`.
void check_out(const at::Tensor& out, int64_t m, int64_t n, const at::Tensor& like, const char* what) {
  if (!(out.defined() && out.dim() == 2 && out.size(0) == m && out.size(1) == n && out.is_contiguous() &&
        out.scalar_type() == like.scalar_type()))
    throw Error(cat(what, " must be a contiguous [", m, ", ", n, "] tensor of the operands' type"));
}

}  // namespace

void product_with_weight_into(const at::Tensor& out, const at::Tensor& x, const at::Tensor& b, const at::Tensor& bias,
                              bool relu) {
  const int64_t n = b.size(1);
  check_out(out, x.size(0), n, x, "product_with_weight_into: out");
#if TESSERA_HAVE_XSMM
  if ((!bias.defined() || fits_row(bias, b)) && eligible(x, b)) {
    const bool done = AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "product_with_weight", [&] {
      const scalar_t* pb = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
      scalar_t* const po = out.data_ptr<scalar_t>();
      return point_major<scalar_t>(x.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), po, x.size(0), x.size(1), n,
                                   [&](int64_t start, int64_t size) {
                                     if (pb || relu) bias_relu_rows(po + start * n, pb, size, n, relu);
                                   });
    });
    if (done) return;
  }
#endif
  at::Tensor o = out;  // at::*_out take a non-const reference
  if (bias.defined())
    at::addmm_out(o, bias, x, b);
  else
    at::mm_out(o, x, b);
  if (relu) o.relu_();
}

namespace {

// Whether autograd would record an operation on these tensors (a double backward's grad mode): then
// the allocating products are ATen's differentiable ones, since the _into functions' fallbacks
// write through at::*_out, which autograd refuses.
bool recorded(std::initializer_list<at::Tensor> ts) {
  if (!c10::GradMode::is_enabled()) return false;
  for (const at::Tensor& t : ts)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

}  // namespace

at::Tensor product_with_weight(const at::Tensor& x, const at::Tensor& b, const at::Tensor& bias, bool relu) {
  if (recorded({x, b, bias})) {
    at::Tensor y = bias.defined() ? at::addmm(bias, x, b) : at::mm(x, b);
    return relu ? at::relu(y) : y;
  }
  at::Tensor out = at::empty({x.size(0), b.size(1)}, x.options());
  product_with_weight_into(out, x, b, bias, relu);
  return out;
}

void product_with_weight_plus_into(const at::Tensor& out, const at::Tensor& x, const at::Tensor& b, const at::Tensor& c,
                                   const at::Tensor& table, const at::Tensor& index) {
  const int64_t m = x.size(0), n = b.size(1);
  check_out(out, m, n, x, "product_with_weight_plus_into: out");
  if (!(!c.defined() || (c.dim() == 2 && c.size(0) == m && c.size(1) == n)))
    throw Error(cat("product_with_weight_plus: c must be [", m, ", ", n, "], got ", c.sizes()));
  if (!(table.defined() == index.defined() &&
        (!table.defined() || (table.dim() == 2 && table.size(1) == n && index.dim() == 1 && index.size(0) == m &&
                              index.scalar_type() == at::kLong))))
    throw Error(cat("product_with_weight_plus: table [t, ", n, "] and index [", m, "] int64 come together"));
#if TESSERA_HAVE_XSMM
  const auto fits = [&](const at::Tensor& t) {
    return !t.defined() || (t.is_contiguous() && t.scalar_type() == b.scalar_type() && t.device().is_cpu() &&
                            !(c10::GradMode::is_enabled() && t.requires_grad()));
  };
  if (fits(c) && fits(table) && (!index.defined() || (index.is_contiguous() && index.device().is_cpu())) &&
      eligible(x, b)) {
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
    if (done) return;
  }
#endif
  at::Tensor o = out;  // at::*_out take a non-const reference
  if (c.defined())
    at::addmm_out(o, c, x, b);
  else
    at::mm_out(o, x, b);
  if (table.defined()) o.add_(table.index_select(0, index));
}

at::Tensor product_with_weight_plus(const at::Tensor& x, const at::Tensor& b, const at::Tensor& c,
                                    const at::Tensor& table, const at::Tensor& index) {
  if (recorded({x, b, c, table})) {
    at::Tensor y = c.defined() ? at::addmm(c, x, b) : at::mm(x, b);
    return table.defined() ? y + table.index_select(0, index) : y;
  }
  at::Tensor out = at::empty({x.size(0), b.size(1)}, x.options());
  product_with_weight_plus_into(out, x, b, c, table, index);
  return out;
}

void product_with_weight_gathered_into(const at::Tensor& out, const at::Tensor& x, const at::Tensor& b,
                                       const at::Tensor& bias, const at::Tensor& table_a, const at::Tensor& index_a,
                                       const at::Tensor& table_b, const at::Tensor& index_b, bool relu) {
  const int64_t m = x.size(0), n = b.size(1);
  check_out(out, m, n, x, "product_with_weight_gathered_into: out");
  const auto table_fits = [&](const at::Tensor& t, const at::Tensor& i) {
    return t.defined() && t.dim() == 2 && t.size(1) == n && i.defined() && i.dim() == 1 && i.size(0) == m &&
           i.scalar_type() == at::kLong && i.device() == t.device();
  };
  if (!(table_fits(table_a, index_a) && table_fits(table_b, index_b)))
    throw Error(cat("product_with_weight_gathered_into: tables [t, ", n, "] with indices [", m, "] int64 expected"));
#if TESSERA_HAVE_XSMM
  const auto fits = [&](const at::Tensor& t) {
    return t.is_contiguous() && t.scalar_type() == b.scalar_type() && t.device().is_cpu() &&
           !(c10::GradMode::is_enabled() && t.requires_grad());
  };
  if ((!bias.defined() || fits_row(bias, b)) && fits(table_a) && fits(table_b) && index_a.is_contiguous() &&
      index_b.is_contiguous() && index_a.device().is_cpu() && eligible(x, b)) {
    const bool done = AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "product_with_weight_gathered", [&] {
      const scalar_t* pb = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
      const scalar_t *ta = table_a.data_ptr<scalar_t>(), *tb = table_b.data_ptr<scalar_t>();
      const int64_t *ia = index_a.data_ptr<int64_t>(), *ib = index_b.data_ptr<int64_t>();
      scalar_t* const po = out.data_ptr<scalar_t>();
      return point_major<scalar_t>(x.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), po, m, x.size(1), n,
                                   [&](int64_t start, int64_t size) {
                                     gathered_rows(po + start * n, pb, ta, ia + start, tb, ib + start, size, n, relu);
                                   });
    });
    if (done) return;
  }
#endif
  at::Tensor y = bias.defined() ? at::addmm(bias, x, b) : at::mm(x, b);
  y = y + table_a.index_select(0, index_a) + table_b.index_select(0, index_b);
  out.copy_(relu ? y.relu_() : y);
}

void product_with_weight_masked_into(const at::Tensor& out, const at::Tensor& g, const at::Tensor& b,
                                     const at::Tensor& mask) {
  const int64_t n = b.size(1);
  check_out(out, g.size(0), n, g, "product_with_weight_masked_into: out");
#if TESSERA_HAVE_XSMM
  const bool fits = mask.dim() == 2 && mask.size(0) == g.size(0) && mask.size(1) == n && mask.is_contiguous() &&
                    mask.scalar_type() == b.scalar_type() && mask.device().is_cpu() &&
                    !(c10::GradMode::is_enabled() && mask.requires_grad());
  if (fits && eligible(g, b)) {
    const bool done = AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "product_with_weight_masked", [&] {
      const scalar_t* pm = mask.data_ptr<scalar_t>();
      scalar_t* const po = out.data_ptr<scalar_t>();
      return point_major<scalar_t>(
          g.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), po, g.size(0), g.size(1), n,
          [&](int64_t start, int64_t size) { mask_rows(po + start * n, pm + start * n, size * n); });
    });
    if (done) return;
  }
#endif
  out.copy_(at::threshold_backward(at::mm(g, b), mask, 0));
}

at::Tensor product_with_weight_masked(const at::Tensor& g, const at::Tensor& b, const at::Tensor& mask) {
  if (recorded({g, b, mask})) return at::threshold_backward(at::mm(g, b), mask, 0);
  at::Tensor out = at::empty({g.size(0), b.size(1)}, g.options());
  product_with_weight_masked_into(out, g, b, mask);
  return out;
}

void product_with_weight_layer_norm_into(const NormedProduct& r, const at::Tensor& x, const at::Tensor& b,
                                         const at::Tensor& bias, const at::Tensor& gamma, const at::Tensor& beta,
                                         double eps, const at::Tensor& residual) {
  const int64_t m = x.size(0), n = b.size(1);
  check_out(r.z, m, n, x, "product_with_weight_layer_norm_into: z");
  check_out(r.y, m, n, x, "product_with_weight_layer_norm_into: y");
  check_out(r.mean, m, 1, x, "product_with_weight_layer_norm_into: mean");
  check_out(r.rstd, m, 1, x, "product_with_weight_layer_norm_into: rstd");
#if TESSERA_HAVE_XSMM
  const bool fits = (!bias.defined() || fits_row(bias, b)) && fits_row(gamma, b) && fits_row(beta, b) &&
                    (!residual.defined() ||
                     (residual.dim() == 2 && residual.size(0) == m && residual.size(1) == n &&
                      residual.is_contiguous() && residual.scalar_type() == b.scalar_type() &&
                      residual.device().is_cpu() && !(c10::GradMode::is_enabled() && residual.requires_grad())));
  if (fits && eligible(x, b)) {
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
    if (done) return;
  }
#endif
  const at::Tensor z = bias.defined() ? at::addmm(bias, x, b) : at::mm(x, b);
  auto [y, mean, rstd] = at::native_layer_norm(z, {n}, gamma, beta, eps);
  if (residual.defined()) y.add_(residual);
  r.z.copy_(z), r.y.copy_(y), r.mean.copy_(mean.view({m, 1})), r.rstd.copy_(rstd.view({m, 1}));
}

NormedProduct product_with_weight_layer_norm(const at::Tensor& x, const at::Tensor& b, const at::Tensor& bias,
                                             const at::Tensor& gamma, const at::Tensor& beta, double eps,
                                             const at::Tensor& residual) {
  const int64_t m = x.size(0), n = b.size(1);
  NormedProduct r{at::empty({m, n}, x.options()), at::empty({m, n}, x.options()), at::empty({m, 1}, x.options()),
                  at::empty({m, 1}, x.options())};
  product_with_weight_layer_norm_into(r, x, b, bias, gamma, beta, eps, residual);
  return r;
}

}  // namespace tessera::linalg
