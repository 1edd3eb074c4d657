// The CPU loops of the tanh MLP's jets (physics/fused_tanh_jet.cpp): elementwise jet steps
// forward and backward, the fp32 tanh + jet step in one pass, and the first layer's product for
// a few input features. Own translation unit (no unity build): each loop is cloned per
// instruction set (target_clones), and what is inlined into the clones stays as written.
#include "physics/kernels/tanh_jet.hpp"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include <Eigen/Core>

#include "core/error.hpp"

namespace tessera::physics::kernels::cpu {
namespace {

// Channels of the stacked jet: k * n + i is channel k, element i; k < Channels (2: value and d/dt;
// 3: and d/dx; 4: and d²/dx²). The channel count is a compile-time constant so each loop is branch-free.
// Both loops are called in place (out = y, ga = g) and touch element i of each channel only in
// iteration i, so they carry no dependence between iterations: `ivdep` says so. Without it GCC
// vectorises a copy of each loop behind a run-time overlap check, which an in-place call fails,
// and the scalar loop ran instead (17% of the Burgers PINN step). Each loop is built for AVX-512,
// AVX2 and the baseline, chosen at load time by the CPU (the build targets plain x86-64).
#if defined(__clang__)  // no target_clones on function templates (core/cpu_clones.hpp)
#define TESSERA_JET_CLONES
#else
#define TESSERA_JET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
template <class T, int Channels>
TESSERA_JET_CLONES void jet_forward(const T* a, const T* y, T* out, int64_t n) {
  const T *at = a + n, *ax = a + 2 * n, *axx = a + 3 * n;
  T *ot = out + n, *ox = out + 2 * n, *oxx = out + 3 * n;
#pragma GCC ivdep
  for (int64_t i = 0; i < n; ++i) {
    // Every input read before any output is written: out may be a (in place).
    const T d1 = T(1) - y[i] * y[i], a_t = at[i], a_x = Channels >= 3 ? ax[i] : T(0);
    ot[i] = d1 * a_t;
    if constexpr (Channels >= 3) ox[i] = d1 * a_x;
    if constexpr (Channels >= 4) oxx[i] = T(-2) * y[i] * d1 * a_x * a_x + d1 * axx[i];
  }
}

// The fp32 hidden-layer step in one pass: y = tanh(a + bias) by Eigen's rational approximation
// (within 4e-7 of tanh, relative as well as absolute), then the jet step of jet_forward. The
// alternative, torch's sigmoid-based form plus jet_forward, took five passes over the value channel
// and a tenth of the advection PINN step (docs/pinn.md). fp64 keeps that form: Eigen has no fast
// double tanh.
// `flatten` inlines Eigen's function into each clone: called out of line it is not vectorised
// (the step ran 40% slower). `no-trapping-math`: without it GCC keeps the division p / q of
// Eigen's scalar form (and its selects) behind branches, since a division not taken must not
// raise an FP exception, and only the AVX-512 clone (masked operations) was vectorised: on an
// AVX2 CPU this step ran one element at a time (16% of the advection PINN step on a Zen-1 EPYC,
// 198 -> 177 ms with the option). The option changes no value, only which operations may run
// speculatively.
template <int Channels>
TESSERA_JET_CLONES __attribute__((flatten, optimize("no-trapping-math"))) void tanh_jet_forward_fp32(const float* a,
                                                                                                     float bias,
                                                                                                     float* out,
                                                                                                     int64_t n) {
  const float *at = a + n, *ax = a + 2 * n, *axx = a + 3 * n;
  float *ot = out + n, *ox = out + 2 * n, *oxx = out + 3 * n;
#pragma GCC ivdep
  for (int64_t i = 0; i < n; ++i) {
    // Every input read before any output is written: out may be a (in place).
    const float y = Eigen::internal::generic_fast_tanh_float(a[i] + bias), d1 = 1.0f - y * y;
    const float a_t = at[i], a_x = Channels >= 3 ? ax[i] : 0.0f;
    out[i] = y;
    ot[i] = d1 * a_t;
    if constexpr (Channels >= 3) ox[i] = d1 * a_x;
    if constexpr (Channels >= 4) oxx[i] = -2.0f * y * d1 * a_x * a_x + d1 * axx[i];
  }
}

// The first layer's product W h for an input of a few features (in ≤ 4; the network's input is
// (cos x, sin x, t)): out[j, m] = Σ_k W[j, k] h[k, m] over the m = C·n jet columns. MKL's GEMM
// spends 112 µs on W [50 × 3] × h [3 × 4096] (its packing dominates at K = 3); this loop about a
// tenth of that.
template <class T, int In>
TESSERA_JET_CLONES void narrow_input_product(const T* w, const T* h, T* out, int64_t rows, int64_t m) {
  for (int64_t j = 0; j < rows; ++j) {
    T* o = out + j * m;
    const T* wj = w + j * In;
    // One pass over the row: every input feature's term at once.
#pragma GCC ivdep
    for (int64_t i = 0; i < m; ++i) {
      T sum = wj[0] * h[i];
      for (int k = 1; k < In; ++k) sum += wj[k] * h[k * m + i];
      o[i] = sum;
    }
  }
}

// The backward step from the output jet y alone (value y, y_t = y' a_t, y_x = y' a_x,
// y_xx = y'' a_x² + y' a_xx, with y' = 1 − y², y'' = −2 y y', y''' = (6y² − 2) y'): every
// derivative of the output channels w.r.t. the input channels rewrites in them without a division,
//   ∂y_t/∂a = y'' a_t = −2 y y_t,  ∂y_x/∂a = −2 y y_x,
//   ∂y_xx/∂a = y''' a_x² + y'' a_xx = −2 y_x² − 2 y y_xx,  ∂y_xx/∂a_x = 2 y'' a_x = −4 y y_x,
// and every ∂y_k/∂a_k = y'. So the pre-activation need not be kept for the backward: half the saved
// memory, and a quarter less to read here.
// ga may be g (in place): each ga channel at i is written after its own g channel at i is read.
template <class T, int Channels>
TESSERA_JET_CLONES void jet_backward(const T* y, const T* g, T* ga, int64_t n) {
  const T *yt = y + n, *yx = y + 2 * n, *yxx = y + 3 * n;
  const T *g1 = g + n, *g2 = g + 2 * n, *g3 = g + 3 * n;
  T *ga1 = ga + n, *ga2 = ga + 2 * n, *ga3 = ga + 3 * n;
#pragma GCC ivdep
  for (int64_t i = 0; i < n; ++i) {
    const T d1 = T(1) - y[i] * y[i], m2y = T(-2) * y[i];
    T value = g[i] * d1 + g1[i] * m2y * yt[i];
    ga1[i] = g1[i] * d1;
    if constexpr (Channels >= 3) {
      value += g2[i] * m2y * yx[i];
      ga2[i] = g2[i] * d1;
    }
    if constexpr (Channels == 4) {
      value += g3[i] * (T(-2) * yx[i] * yx[i] + m2y * yxx[i]);
      ga2[i] += g3[i] * T(2) * m2y * yx[i];
      ga3[i] = g3[i] * d1;
    }
    ga[i] = value;
  }
}

// Calls f.template operator()<C>() with C = channels (2, 3 or 4).
template <class F>
void with_channels(int64_t channels, F&& f) {
  if (channels == 2) return f.template operator()<2>();
  if (channels == 3) return f.template operator()<3>();
  return f.template operator()<4>();
}

// The jet step of every feature row of a feature-major jet [rows, C, n] (row j's channel k at
// (j C + k) n): the elementwise loops above per row, with channel stride n.
template <class T, int Channels>
void jet_forward_rows(const T* a, T* y, int64_t rows, int64_t n) {
  for (int64_t j = 0; j < rows; ++j) {
    const int64_t o = j * Channels * n;
    jet_forward<T, Channels>(a + o, y + o, y + o, n);  // in place
  }
}
template <class T, int Channels>
void jet_backward_rows(const T* y, T* g, int64_t rows, int64_t n) {
  for (int64_t j = 0; j < rows; ++j) {
    const int64_t o = j * Channels * n;
    jet_backward<T, Channels>(y + o, g + o, g + o, n);  // in place (see jet_backward)
  }
}

void check_cpu(const at::Tensor& t, const char* what) {
  if (!t.device().is_cpu() || !t.is_contiguous())
    throw Error(cat(what, ": expects contiguous CPU tensors, got ", t.sizes(), " on ", t.device().str()));
}

}  // namespace

void tanh_jet_step(const at::Tensor& a, const at::Tensor& y, at::Tensor& out) {
  check_cpu(a, "tanh_jet_step"), check_cpu(y, "tanh_jet_step"), check_cpu(out, "tanh_jet_step");
  const int64_t n = y.numel();
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "tanh_jet", [&] {
    with_channels(a.size(0), [&]<int C>() {
      jet_forward<scalar_t, C>(a.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), n);
    });
  });
}

void tanh_jet_step_backward(const at::Tensor& y, const at::Tensor& g, at::Tensor& ga) {
  check_cpu(y, "tanh_jet_step_backward"), check_cpu(g, "tanh_jet_step_backward"),
      check_cpu(ga, "tanh_jet_step_backward");
  AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "tanh_jet_backward", [&] {
    with_channels(y.size(0), [&]<int C>() {
      jet_backward<scalar_t, C>(y.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), ga.data_ptr<scalar_t>(), y[0].numel());
    });
  });
}

void tanh_jet_step_rows(at::Tensor& a) {
  check_cpu(a, "tanh_jet_step_rows");
  const int64_t rows = a.size(0), n = a.size(2);
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "tanh_mlp_jet", [&] {
    with_channels(a.size(1), [&]<int Ch>() {
      jet_forward_rows<scalar_t, Ch>(a.data_ptr<scalar_t>(), a.data_ptr<scalar_t>(), rows, n);
    });
  });
}

void tanh_jet_step_backward_rows(const at::Tensor& h, at::Tensor& gh) {
  check_cpu(h, "tanh_jet_step_backward_rows"), check_cpu(gh, "tanh_jet_step_backward_rows");
  const int64_t rows = h.size(0), n = h.size(2);
  AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "tanh_mlp_jet_backward", [&] {
    with_channels(h.size(1), [&]<int Ch>() {
      jet_backward_rows<scalar_t, Ch>(h.data_ptr<scalar_t>(), gh.data_ptr<scalar_t>(), rows, n);
    });
  });
}

void tanh_bias_jet_rows_fp32(at::Tensor& a, const at::Tensor& bias) {
  check_cpu(a, "tanh_bias_jet_rows_fp32"), check_cpu(bias, "tanh_bias_jet_rows_fp32");
  if (a.scalar_type() != at::kFloat || bias.scalar_type() != at::kFloat || bias.numel() != a.size(0))
    throw Error(cat("tanh_bias_jet_rows_fp32: expects fp32 a [rows, C, n] and bias [rows], got ", a.sizes(), " and ",
                    bias.sizes()));
  const int64_t rows = a.size(0), n = a.size(2);
  float* pa = a.data_ptr<float>();
  const float* pb = bias.data_ptr<float>();
  with_channels(a.size(1), [&]<int Ch>() {
    for (int64_t j = 0; j < rows; ++j) tanh_jet_forward_fp32<Ch>(pa + j * Ch * n, pb[j], pa + j * Ch * n, n);
  });
}

void narrow_input_product(const at::Tensor& w, const at::Tensor& h, at::Tensor& out) {
  check_cpu(w, "narrow_input_product"), check_cpu(h, "narrow_input_product"), check_cpu(out, "narrow_input_product");
  const int64_t rows = w.size(0), in = w.size(1), m = h.numel() / std::max<int64_t>(in, 1);
  if (in < 1 || in > kNarrowInput || h.size(0) != in || out.numel() != rows * m)
    throw Error(cat("narrow_input_product: expects W [rows, <= ", kNarrowInput,
                    "], h [in, ...] and out [rows, ...]; got ", w.sizes(), ", ", h.sizes(), ", ", out.sizes()));
  AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "narrow_input_product", [&] {
    const scalar_t *pw = w.data_ptr<scalar_t>(), *ph = h.data_ptr<scalar_t>();
    scalar_t* pa = out.data_ptr<scalar_t>();
    if (in == 1) narrow_input_product<scalar_t, 1>(pw, ph, pa, rows, m);
    if (in == 2) narrow_input_product<scalar_t, 2>(pw, ph, pa, rows, m);
    if (in == 3) narrow_input_product<scalar_t, 3>(pw, ph, pa, rows, m);
    if (in == 4) narrow_input_product<scalar_t, 4>(pw, ph, pa, rows, m);
  });
}

}  // namespace tessera::physics::kernels::cpu
