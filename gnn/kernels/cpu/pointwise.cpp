#include "gnn/kernels/pointwise.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "core/cpu_clones.hpp"
#include "gnn/kernels/cpu/dot.hpp"
#include "gnn/kernels/cpu/vector_exp.hpp"

namespace tessera::gnn::kernels::cpu {
namespace {

// Rows [begin, end) of width d: the mean square (dot's 8 partial sums), then
// y = x * r * w with r = 1 / sqrt(ms + eps), ATen's order of the two products.
template <class T>
TESSERA_CPU_CLONES void rms_rows(const T* x, const T* w, T* y, int64_t d, T eps, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const T* xi = x + i * d;
    T* yi = y + i * d;
    const T r = T(1) / std::sqrt(dot(xi, xi, d) / T(d) + eps);
    for (int64_t c = 0; c < d; ++c) yi[c] = xi[c] * r * w[c];
  }
}

// Nodes [begin, end): q and k of each head turned pair by pair, v copied.
template <class T>
TESSERA_CPU_CLONES void rope_rows(const T* x, const T* cs, const T* sn, T* q, T* k, T* v, int64_t heads, int64_t d,
                                  int64_t r, int64_t begin, int64_t end) {
  const int64_t row = heads * d;
  for (int64_t i = begin; i < end; ++i) {
    const T *c = cs + i * r, *s = sn + i * r;
    for (int part = 0; part < 2; ++part) {
      T* out = (part == 0 ? q : k) + i * row;
      const T* in = x + (i * 3 + part) * row;
      for (int64_t h = 0; h < heads; ++h) {
        const T* a = in + h * d;
        T* b = out + h * d;
        for (int64_t j = 0; j < r; ++j) {
          const T x0 = a[2 * j], x1 = a[2 * j + 1];
          b[2 * j] = x0 * c[j] - x1 * s[j];
          b[2 * j + 1] = x0 * s[j] + x1 * c[j];
        }
        for (int64_t j = 2 * r; j < d; ++j) b[j] = a[j];
      }
    }
    const T* in = x + (i * 3 + 2) * row;
    for (int64_t j = 0; j < row; ++j) v[i * row + j] = in[j];
  }
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> rope_split_inference(const at::Tensor& qkv, const at::Tensor& cos,
                                                                    const at::Tensor& sin) {
  const int64_t n = qkv.size(0), heads = qkv.size(2), d = qkv.size(3), r = cos.size(1);
  at::Tensor q = at::empty({n, heads, d}, qkv.options()), k = at::empty_like(q), v = at::empty_like(q);
  AT_DISPATCH_FLOATING_TYPES(qkv.scalar_type(), "rope_split_inference_cpu", [&] {
    const scalar_t *x = qkv.data_ptr<scalar_t>(), *c = cos.data_ptr<scalar_t>(), *s = sin.data_ptr<scalar_t>();
    scalar_t *qp = q.data_ptr<scalar_t>(), *kp = k.data_ptr<scalar_t>(), *vp = v.data_ptr<scalar_t>();
    at::parallel_for(0, n, 64,
                     [&](int64_t begin, int64_t end) { rope_rows(x, c, s, qp, kp, vp, heads, d, r, begin, end); });
  });
  return {q, k, v};
}

at::Tensor rms_norm_inference(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor y = at::empty_like(x);
  const int64_t d = x.size(-1), rows = d ? x.numel() / d : 0;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rms_norm_inference_cpu", [&] {
    const scalar_t *xp = x.data_ptr<scalar_t>(), *wp = weight.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
      rms_rows(xp, wp, yp, d, static_cast<scalar_t>(eps), begin, end);
    });
  });
  return y;
}

void silu_mul_(at::Tensor& gate, const at::Tensor& up) {
  const at::Tensor u = up.defined() ? up.contiguous() : up;
  const int64_t n = gate.numel();
  AT_DISPATCH_FLOATING_TYPES(gate.scalar_type(), "silu_mul_cpu", [&] {
    scalar_t* g = gate.data_ptr<scalar_t>();
    const scalar_t* up_p = u.defined() ? u.data_ptr<scalar_t>() : nullptr;
    // Chunks of whole vectors, each in L1 while it is read and written.
    at::parallel_for(0, n, 4096, [&](int64_t begin, int64_t end) {
      silu_mul(g + begin, up_p ? up_p + begin : nullptr, g + begin, end - begin);
    });
  });
}

}  // namespace tessera::gnn::kernels::cpu
