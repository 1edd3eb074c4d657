// CPU sparse attention: parallel over destination rows (forward, dQ) and over source nodes
// (dK, dV), so every output row has one writer: deterministic, no atomics.
#include "gnn/kernels/sparse_attention.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/cpu_clones.hpp"
#include "gnn/kernels/cpu/dot.hpp"
#include "gnn/kernels/cpu/vector_exp.hpp"

namespace tessera::gnn::kernels::cpu {
namespace {

// y[0..d) += w_t x_t[0..d) for t = 0 .. count - 1 in that order, term(t) giving (w_t, x_t). With
// the head dimension fixed at compile time (D == d, a multiple of 8) the row is summed in
// registers; with d known only at run time each term stored y and the next loaded it back, a
// store-to-load chain through memory that was the hottest instruction of the forward kernel. The
// same multiply-adds in the same order either way.
template <int64_t D, class T, class Term>
inline void accumulate_rows(T* __restrict__ y, int64_t d, int64_t count, const Term& term) {
  if constexpr (D > 0 && D % 8 == 0) {
    using V = typename Lanes8<T>::type;
    V acc[D / 8];
    for (int64_t c = 0; c < D / 8; ++c) acc[c] = load_lanes<V>(y + 8 * c);
    for (int64_t t = 0; t < count; ++t) {
      const auto [w, x] = term(t);
      for (int64_t c = 0; c < D / 8; ++c) acc[c] += w * load_lanes<V>(x + 8 * c);
    }
    for (int64_t c = 0; c < D / 8; ++c) store_lanes(y + 8 * c, acc[c]);
  } else {
    for (int64_t t = 0; t < count; ++t) {
      const auto [w, x] = term(t);
      for (int64_t c = 0; c < d; ++c) y[c] += w * x[c];
    }
  }
}

// Calls f(std::integral_constant<int64_t, D>) with D = d for the usual head dimensions, D = 0
// (d at run time) otherwise.
template <class F>
void with_head_dim(int64_t d, const F& f) {
  if (d == 16)
    f(std::integral_constant<int64_t, 16>());
  else if (d == 32)
    f(std::integral_constant<int64_t, 32>());
  else if (d == 8)
    f(std::integral_constant<int64_t, 8>());
  else
    f(std::integral_constant<int64_t, 0>());
}

// Forward, destination rows [begin, end): out_i = softmax_j(scale <q_i, k_j>) v_j per head, and
// (lp not null) the log-sum-exp of the scores. Node i's head h starts at i * row + h * d in q, k,
// v (one row stride: views of head ranges of one [N, 3, H, D] tensor qualify) and at
// i * orow + h * d in out, which need not be zero. `s` holds one row's scores, head by head, and
// `m` their maxima: all of a row's exponentials are taken in one vectorised call. (Neighbour by
// neighbour with all heads at once, reading each k_j row in one stretch, ran 1% slower.)
// D > 0: the head dimension known at compile time (d == D; see accumulate_rows), which also
// unrolls the dot products. Same values either way.
template <class T, int64_t D = 0>
TESSERA_CPU_CLONES void forward_rows(const T* qp, const T* kp, const T* vp, T* op, T* lp, const int64_t* ptr,
                                     const int64_t* src, int64_t heads, int64_t d_run, int64_t row, int64_t orow, T sc,
                                     int64_t begin, int64_t end, std::vector<T>& s, std::vector<T>& m) {
  const int64_t d = D > 0 ? D : d_run;
  m.resize(heads);
  for (int64_t i = begin; i < end; ++i) {
    const int64_t e0 = ptr[i], deg = ptr[i + 1] - ptr[i];
    T* oi = op + i * orow;
    for (int64_t c = 0; c < heads * d; ++c) oi[c] = T(0);
    if (deg == 0) {
      if (lp)
        for (int64_t h = 0; h < heads; ++h) lp[i * heads + h] = -std::numeric_limits<T>::infinity();
      continue;
    }
    s.resize(deg * heads);
    // Scores and, for stability, each head's maximum, subtracted before the exponentials.
    for (int64_t h = 0; h < heads; ++h) {
      const T* qi = qp + i * row + h * d;
      T* sh = s.data() + h * deg;
      T mh = -std::numeric_limits<T>::infinity();
      for (int64_t t = 0; t < deg; ++t) {
        sh[t] = sc * dot(qi, kp + src[e0 + t] * row + h * d, d);
        mh = std::max(mh, sh[t]);
      }
      for (int64_t t = 0; t < deg; ++t) sh[t] -= mh;
      m[h] = mh;
    }
    exp_inplace(s.data(), deg * heads);
    for (int64_t h = 0; h < heads; ++h) {
      const T* ph = s.data() + h * deg;
      T* oh = oi + h * d;
      T l = 0;
      for (int64_t t = 0; t < deg; ++t) l += ph[t];
      accumulate_rows<D>(oh, d, deg, [&](int64_t t) { return std::pair(ph[t], vp + src[e0 + t] * row + h * d); });
      const T inv = T(1) / l;
      for (int64_t c = 0; c < d; ++c) oh[c] *= inv;
      if (lp) lp[i * heads + h] = m[h] + std::log(l);
    }
  }
}

// Backward row pass, destination rows [begin, end): ds_e = a_e (<dO_i, v_j> - <dO_i, o_i>),
// dQ_i = scale sum_e ds_e k_j (D: as in forward_rows).
template <class T, int64_t D = 0>
TESSERA_CPU_CLONES void backward_dst_rows(const T* qp, const T* kp, const T* vp, const T* gp, const T* op, const T* lp,
                                          T* dqp, T* ap, T* dsp, const int64_t* ptr, const int64_t* src, int64_t heads,
                                          int64_t d_run, T sc, int64_t begin, int64_t end) {
  const int64_t d = D > 0 ? D : d_run;
  for (int64_t i = begin; i < end; ++i)
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t row = (i * heads + h) * d;
      const T delta = dot(gp + row, op + row, d), l = lp[i * heads + h];
      for (int64_t t = ptr[i]; t < ptr[i + 1]; ++t) {
        const int64_t col = (src[t] * heads + h) * d;
        const T w = std::exp(sc * dot(qp + row, kp + col, d) - l);
        ap[t * heads + h] = w;
        dsp[t * heads + h] = w * (dot(gp + row, vp + col, d) - delta);
      }
      accumulate_rows<D>(dqp + row, d, ptr[i + 1] - ptr[i], [&](int64_t u) {
        const int64_t t = ptr[i] + u;
        return std::pair(sc * dsp[t * heads + h], kp + (src[t] * heads + h) * d);
      });
    }
}

// Backward source pass, source nodes [begin, end): dK_j = scale sum ds_e q_i, dV_j = sum a_e dO_i
// over the edges leaving j.
template <class T, int64_t D = 0>
TESSERA_CPU_CLONES void backward_src_rows(const T* qp, const T* gp, const T* ap, const T* dsp, T* dkp, T* dvp,
                                          const int64_t* sptr, const int64_t* perm, const int64_t* dst, int64_t heads,
                                          int64_t d_run, T sc, int64_t begin, int64_t end) {
  const int64_t d = D > 0 ? D : d_run;
  for (int64_t j = begin; j < end; ++j)
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t row = (j * heads + h) * d, e0 = sptr[j], count = sptr[j + 1] - sptr[j];
      const auto col = [&](int64_t u) { return (dst[perm[e0 + u]] * heads + h) * d; };
      const auto edge = [&](int64_t u) { return perm[e0 + u] * heads + h; };
      accumulate_rows<D>(dkp + row, d, count, [&](int64_t u) { return std::pair(sc * dsp[edge(u)], qp + col(u)); });
      accumulate_rows<D>(dvp + row, d, count, [&](int64_t u) { return std::pair(ap[edge(u)], gp + col(u)); });
    }
}

}  // namespace

namespace {

// Node i's head h at i * stride(0) + h * D in all of q, k, v; out's last two dimensions dense.
bool rows_dense(const at::Tensor& t) { return t.stride(2) == 1 && t.stride(1) == t.size(2); }

}  // namespace

bool attention_layout_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& out) {
  return rows_dense(q) && rows_dense(k) && rows_dense(v) && rows_dense(out) && k.stride(0) == q.stride(0) &&
         v.stride(0) == q.stride(0) && out.scalar_type() == q.scalar_type();
}

void sparse_attention_forward_into(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const AttentionGraph& g, double scale, const at::Tensor& out, at::Tensor* lse) {
  const int64_t n = q.size(0), heads = q.size(1), d = q.size(2), row = q.stride(0), orow = out.stride(0);
  const int64_t* ptr = g.dst_ptr.data_ptr<int64_t>();
  const int64_t* src = g.src.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "sparse_attention_forward_cpu", [&] {
    const scalar_t *qp = q.data_ptr<scalar_t>(), *kp = k.data_ptr<scalar_t>(), *vp = v.data_ptr<scalar_t>();
    scalar_t *op = out.data_ptr<scalar_t>(), *lp = lse ? lse->data_ptr<scalar_t>() : nullptr;
    const scalar_t sc = static_cast<scalar_t>(scale);
    at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
      std::vector<scalar_t> s, m;  // one row's scores and per-head maxima (reused)
      with_head_dim(d, [&](auto fixed) {
        forward_rows<scalar_t, decltype(fixed)::value>(qp, kp, vp, op, lp, ptr, src, heads, d, row, orow, sc, begin,
                                                       end, s, m);
      });
    });
  });
}

std::tuple<at::Tensor, at::Tensor> sparse_attention_forward(const at::Tensor& q_in, const at::Tensor& k_in,
                                                            const at::Tensor& v_in, const AttentionGraph& g,
                                                            double scale) {
  const at::Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
  at::Tensor out = at::empty_like(q);
  at::Tensor lse = at::empty({q.size(0), q.size(1)}, q.options());
  sparse_attention_forward_into(q, k, v, g, scale, out, &lse);
  return {out, lse};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> sparse_attention_backward(
    const at::Tensor& go_in, const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in,
    const at::Tensor& out_in, const at::Tensor& lse_in, const AttentionGraph& g, double scale) {
  const at::Tensor go = go_in.contiguous(), q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
  const at::Tensor out = out_in.contiguous(), lse = lse_in.contiguous();
  const int64_t n = q.size(0), heads = q.size(1), d = q.size(2), e = g.src.numel();
  at::Tensor dq = at::zeros_like(q), dk = at::zeros_like(k), dv = at::zeros_like(v);
  // Per-edge weights a and score gradients ds, produced by the row pass, consumed by the source pass.
  at::Tensor a = at::empty({e, heads}, q.options()), ds = at::empty({e, heads}, q.options());
  const int64_t *ptr = g.dst_ptr.data_ptr<int64_t>(), *src = g.src.data_ptr<int64_t>(),
                *dst = g.dst.data_ptr<int64_t>(), *sptr = g.src_ptr.data_ptr<int64_t>(),
                *perm = g.src_perm.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "sparse_attention_backward_cpu", [&] {
    const scalar_t *qp = q.data_ptr<scalar_t>(), *kp = k.data_ptr<scalar_t>(), *vp = v.data_ptr<scalar_t>(),
                   *gp = go.data_ptr<scalar_t>(), *op = out.data_ptr<scalar_t>(), *lp = lse.data_ptr<scalar_t>();
    scalar_t *dqp = dq.data_ptr<scalar_t>(), *dkp = dk.data_ptr<scalar_t>(), *dvp = dv.data_ptr<scalar_t>();
    scalar_t *ap = a.data_ptr<scalar_t>(), *dsp = ds.data_ptr<scalar_t>();
    const scalar_t sc = static_cast<scalar_t>(scale);
    with_head_dim(d, [&](auto fixed) {
      constexpr int64_t D = decltype(fixed)::value;
      at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
        backward_dst_rows<scalar_t, D>(qp, kp, vp, gp, op, lp, dqp, ap, dsp, ptr, src, heads, d, sc, begin, end);
      });
      at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
        backward_src_rows<scalar_t, D>(qp, gp, ap, dsp, dkp, dvp, sptr, perm, dst, heads, d, sc, begin, end);
      });
    });
  });
  return {dq, dk, dv};
}

}  // namespace tessera::gnn::kernels::cpu
