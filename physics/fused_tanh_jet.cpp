#include "physics/fused_tanh_jet.hpp"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <Eigen/Core>

#include "core/error.hpp"
#include "linalg/small_products.hpp"

namespace tessera::physics {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Channels of the stacked jet: k * n + i is channel k, element i; k < Channels (2: value and d/dt;
// 3: and d/dx; 4: and d²/dx²). The channel count is a compile-time constant so each loop is branch-free.
// Both loops are called in place (out = y, ga = g) and touch element i of each channel only in
// iteration i, so they carry no dependence between iterations: `ivdep` says so. Without it GCC
// vectorises a copy of each loop behind a run-time overlap check, which an in-place call fails,
// and the scalar loop ran instead (17% of the Burgers PINN step). Each loop is built for AVX-512,
// AVX2 and the baseline, chosen at load time by the CPU (the build targets plain x86-64).
#define TESSERA_JET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
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
// (the step ran 40% slower).
template <int Channels>
TESSERA_JET_CLONES __attribute__((flatten)) void tanh_jet_forward_fp32(const float* a, float bias, float* out,
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
constexpr int64_t kNarrowInput = 4;

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

struct TanhJet : public torch::autograd::Function<TanhJet> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a_in) {
    const at::Tensor a = a_in.contiguous();
    const at::Tensor y = at::tanh(a[0]);  // vectorised tanh
    at::Tensor out = at::empty_like(a);
    out[0].copy_(y);
    const int64_t n = y.numel();
    AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "tanh_jet", [&] {
      with_channels(a.size(0), [&]<int C>() {
        jet_forward<scalar_t, C>(a.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), n);
      });
    });
    ctx->save_for_backward({out});
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor y = ctx->get_saved_variables()[0];
    const at::Tensor g = grads[0].contiguous();
    at::Tensor ga = at::empty_like(y);
    AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "tanh_jet_backward", [&] {
      with_channels(y.size(0), [&]<int C>() {
        jet_backward<scalar_t, C>(y.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), ga.data_ptr<scalar_t>(),
                                  y[0].numel());
      });
    });
    return {ga};
  }
};

// Points per block of the whole-network node: a block's jets ([width, C, 2048], ≤ 3.3 MB in fp64 at
// width 50) stay in cache between the GEMM and the elementwise step, and stay under glibc's mmap
// threshold, so the same heap blocks are reused every step (core/malloc_policy.hpp).
constexpr int64_t kPointBlock = 2048;

// The split of N points into blocks: at most kPointBlock each, equal to within one point, and (past
// one block) a multiple of 4 of them, so 2 or 4 threads get equal shares; 13 blocks of 2048 for the
// 25,600 collocation points left one of 2 threads 7 and the other 5.5 (12% of the step idle). The
// split depends on N alone, not on the threads, so neither do the results.
struct PointBlocks {
  int64_t points, count;
  explicit PointBlocks(int64_t n) : points(n), count((n + kPointBlock - 1) / kPointBlock) {
    if (count > 1) count = (count + 3) / 4 * 4;
  }
  int64_t begin(int64_t blk) const { return blk * points / count; }
  int64_t size(int64_t blk) const { return begin(blk + 1) - begin(blk); }
};

// Runs f(block) for blocks 0 .. count − 1 on torch's intra-op threads, each block on one thread (the
// GEMMs inside run single-threaded there). One thread per block, not threads inside each block's
// small GEMMs: the Burgers PINN step took 184 ms at 2 threads that way against 119 ms at 1. The
// worker threads do not inherit the caller's grad mode, and nothing here is to be recorded.
template <class F>
void for_blocks(int64_t count, const F& f) {
  at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
    const c10::AutoGradMode no_grad(false);
    for (int64_t blk = begin; blk < end; ++blk) f(blk);
  });
}

// The jet step of every feature row of a feature-major jet [rows, C, n] (row j's channel k at
// (j C + k) n): the elementwise kernels above per row, with channel stride n.
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

// The jet through every layer of the MLP as one autograd node: per block of points, per layer, one
// GEMM over all channels, the tanh of the value channel plus bias and the fused jet step; backward
// the same in reverse with hand-written weight, bias and input gradients. Inside, a block's jets are
// feature-major, [features, C, n]: each GEMM is W [out, in] × h [in, C·n], whose long dimension
// (points) is the one the kernels vectorise (linalg::weight_product); the point-major form ([C·n, in] × Wᵀ, width 50 as
// the short dimension) ran these products 10–25% slower (docs/design.md). Saves each layer's input jet only
// (jet_backward needs no pre-activation); the tanh step runs in place on the GEMM's output.
struct TanhMlpJet : public torch::autograd::Function<TanhMlpJet> {
  // h0: [C, N, 3] the input jet; params: W0, b0, W1, b1, ... (torch::nn::Linear layout).
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& h0, at::TensorList params) {
    const int64_t C = h0.size(0), N = h0.size(1), layers = static_cast<int64_t>(params.size()) / 2;
    const PointBlocks split(N);
    const int64_t blocks = split.count;
    at::Tensor out = at::empty({C, N, params[2 * layers - 2].size(0)}, h0.options());
    // Per block, per layer l: its input h_l (for l ≥ 1, the output jet of layer l − 1).
    std::vector<at::Tensor> saved(blocks * layers);
    for_blocks(blocks, [&](int64_t blk) {
      const int64_t b = split.begin(blk), n = split.size(blk);
      at::Tensor h = h0.narrow(1, b, n).permute({2, 0, 1}).contiguous();  // [3, C, n]
      for (int64_t l = 0; l < layers; ++l) {
        const at::Tensor &w = params[2 * l], &bias = params[2 * l + 1];
        saved[blk * layers + l] = h;
        const int64_t rows = w.size(0), in = h.size(0);
        at::Tensor a;
        if (in <= kNarrowInput && w.is_contiguous()) {
          a = at::empty({rows, C, n}, h.options());
          AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "narrow_input_product", [&] {
            const scalar_t *pw = w.data_ptr<scalar_t>(), *ph = h.data_ptr<scalar_t>();
            scalar_t* pa = a.data_ptr<scalar_t>();
            if (in == 1) narrow_input_product<scalar_t, 1>(pw, ph, pa, rows, C * n);
            if (in == 2) narrow_input_product<scalar_t, 2>(pw, ph, pa, rows, C * n);
            if (in == 3) narrow_input_product<scalar_t, 3>(pw, ph, pa, rows, C * n);
            if (in == 4) narrow_input_product<scalar_t, 4>(pw, ph, pa, rows, C * n);
          });
        } else {
          a = linalg::weight_product(w, h.view({in, C * n})).view({rows, C, n});
        }
        if (l + 1 == layers) {
          a.select(1, 0).add_(bias.unsqueeze(1));  // the bias enters the value channel only
          out.narrow(1, b, n).copy_(a.permute({1, 2, 0}));
          break;
        }
        if (a.scalar_type() == at::kFloat && bias.is_contiguous()) {
          float* pa = a.data_ptr<float>();
          const float* pb = bias.data_ptr<float>();
          with_channels(C, [&]<int Ch>() {
            for (int64_t j = 0; j < rows; ++j) tanh_jet_forward_fp32<Ch>(pa + j * Ch * n, pb[j], pa + j * Ch * n, n);
          });
        } else {
          // y = tanh(a + bias) as 2 sigmoid(2(a + bias)) − 1: torch's CPU tanh (MKL VML, high
          // accuracy) costs ~6x its sigmoid and was a sixth of the LPINN step; this form is as
          // accurate in absolute terms (what the jet and the next layer see), though not relatively
          // for |a| ≪ 1. Then the jet step reads the value channel's tanh and the derivative channels.
          a.select(1, 0).add_(bias.unsqueeze(1)).mul_(2).sigmoid_().mul_(2).sub_(1);
          AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "tanh_mlp_jet", [&] {
            with_channels(C, [&]<int Ch>() {
              jet_forward_rows<scalar_t, Ch>(a.data_ptr<scalar_t>(), a.data_ptr<scalar_t>(), rows, n);
            });
          });
        }
        h = a;  // now the output jet of layer l
      }
    });
    std::vector<at::Tensor> to_save = saved;
    for (const at::Tensor& p : params) to_save.push_back(p);
    ctx->save_for_backward(to_save);
    ctx->saved_data["layers"] = layers;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const int64_t layers = ctx->saved_data["layers"].toInt();
    const int64_t blocks = (static_cast<int64_t>(saved.size()) - 2 * layers) / layers;
    const auto param = [&](int64_t i) -> const at::Tensor& { return saved[blocks * layers + i]; };
    const at::Tensor& g = grads[0];
    const int64_t C = g.size(0), N = g.size(1);
    const PointBlocks split(N);
    // Each block's weight and bias gradients apart ([block][layer]), summed in block order after
    // the blocks: the same sums whatever the threads, so results do not depend on them.
    std::vector<std::vector<at::Tensor>> gw(blocks, std::vector<at::Tensor>(layers)), gbias = gw;
    // Each weight transposed once (contiguous, for linalg::weight_product), not once per block.
    std::vector<at::Tensor> transposed(layers);
    for (int64_t l = 1; l < layers; ++l) transposed[l] = param(2 * l).t().contiguous();
    const bool input_grad = ctx->needs_input_grad(0);
    at::Tensor gh0 = input_grad ? at::empty({C, N, 3}, g.options()) : at::Tensor();
    for_blocks(blocks, [&](int64_t blk) {
      const int64_t b = split.begin(blk), n = split.size(blk);
      const auto input = [&](int64_t l) -> const at::Tensor& { return saved[blk * layers + l]; };
      // The gradient w.r.t. layer l's pre-activation jet, [out, C, n].
      at::Tensor ga = g.narrow(1, b, n).permute({2, 0, 1}).contiguous();
      for (int64_t l = layers - 1; l >= 0; --l) {
        const at::Tensor& h = input(l);
        const int64_t in = h.size(0);
        const at::Tensor ga2 = ga.view({ga.size(0), C * n});
        gw[blk][l] = linalg::product_with_transpose(ga2, h.view({in, C * n}));
        gbias[blk][l] = ga.select(1, 0).sum(1);
        if (l == 0) {
          // The input jet's gradient only when asked for: the PINN's inputs are data.
          if (input_grad) gh0.narrow(1, b, n).copy_(at::mm(param(0).t(), ga2).view({in, C, n}).permute({1, 2, 0}));
          break;
        }
        at::Tensor gh = linalg::weight_product(transposed[l], ga2).view({in, C, n});
        // Through the tanh jet of layer l − 1, from its output jet h.
        AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "tanh_mlp_jet_backward", [&] {
          with_channels(C, [&]<int Ch>() {
            jet_backward_rows<scalar_t, Ch>(h.data_ptr<scalar_t>(), gh.data_ptr<scalar_t>(), in, n);
          });
        });
        ga = gh;
      }
    });
    for (int64_t blk = 1; blk < blocks; ++blk)
      for (int64_t l = 0; l < layers; ++l) {
        gw[0][l].add_(gw[blk][l]);
        gbias[0][l].add_(gbias[blk][l]);
      }
    variable_list result = {gh0};
    for (int64_t l = 0; l < layers; ++l) {
      result.push_back(gw[0][l]);
      result.push_back(gbias[0][l]);
    }
    return result;
  }
};

// The stacked output jet [C, N, outputs] as members; those beyond C channels stay undefined.
Jet1D unstack(const at::Tensor& a) {
  Jet1D j{a[0], a[1], {}, {}};
  if (a.size(0) >= 3) j.u_x = a[2];
  if (a.size(0) == 4) j.u_xx = a[3];
  return j;
}

}  // namespace

at::Tensor tanh_jet(const at::Tensor& a) {
  if (a.dim() < 1 || a.size(0) < 2 || a.size(0) > 4)
    throw Error(cat("tanh_jet: expects a stacked jet [2, 3 or 4, ...], got ", a.sizes()));
  if (!a.device().is_cpu()) {  // the fused loops are CPU code; elsewhere the plain ops
    const at::Tensor y = at::tanh(a[0]), d1 = 1 - y * y;
    std::vector<at::Tensor> out = {y, d1 * a[1]};
    if (a.size(0) >= 3) out.push_back(d1 * a[2]);
    if (a.size(0) == 4) out.push_back(-2 * y * d1 * a[2] * a[2] + d1 * a[3]);
    return at::stack(out, 0);
  }
  return TanhJet::apply(a);
}

namespace {

// The input map z = (cos x, sin x, t) and its jet, as in tanh_mlp_jet: z, ∂t z, ∂x z, ∂²x z, each [N, 3].
std::vector<at::Tensor> input_jet(const at::Tensor& t, const at::Tensor& x) {
  const at::Tensor c = at::cos(x), s = at::sin(x), zero = at::zeros_like(x), one = at::ones_like(x);
  return {at::stack({c, s, t}, 1), at::stack({zero, zero, one}, 1), at::stack({-s, c, zero}, 1),
          at::stack({-c, -s, zero}, 1)};
}

// The network applied to an input jet h [C, N, 3] (value channel first): the stacked output jet
// [C, N, outputs], through the whole-network node on the CPU and layer by layer elsewhere.
at::Tensor stacked_jet(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases, at::Tensor h) {
  if (weights.empty() || weights.size() != biases.size())
    throw Error(cat("tanh MLP: ", weights.size(), " weights and ", biases.size(), " biases"));
  if (h.device().is_cpu()) {
    std::vector<at::Tensor> params;
    for (size_t l = 0; l < weights.size(); ++l) {
      params.push_back(weights[l]);
      params.push_back(biases[l]);
    }
    return TanhMlpJet::apply(h, at::TensorList(params));  // a TensorList: its tensors are inputs
  }
  // Elsewhere (the fused loops are CPU code): per layer, linear then the tanh jet step.
  const int64_t channels = h.size(0);
  for (size_t l = 0; l < weights.size(); ++l) {
    at::Tensor a = at::linear(h, weights[l]);
    // The bias enters the value channel only.
    a = at::cat({a.narrow(0, 0, 1) + biases[l], a.narrow(0, 1, channels - 1)}, 0);
    if (l + 1 == weights.size()) return a;
    h = tanh_jet(a);
  }
  throw Error("tanh MLP: unreachable");
}

}  // namespace

Jet1D tanh_mlp_jet_fused(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases,
                         const at::Tensor& t, const at::Tensor& x, JetOrder order) {
  std::vector<at::Tensor> input = input_jet(t, x);
  input.resize(static_cast<size_t>(order));  // the first `order` channels
  return unstack(stacked_jet(weights, biases, at::stack(input, 0)));
}

DirectionalJet tanh_mlp_directional_fused(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases,
                                          const at::Tensor& t, const at::Tensor& x, double speed) {
  // The input map's derivative along (1, speed): ∂t z + speed ∂x z.
  const std::vector<at::Tensor> input = input_jet(t, x);
  const at::Tensor out = stacked_jet(weights, biases, at::stack({input[0], input[1] + speed * input[2]}, 0));
  return {out[0], out[1]};
}

}  // namespace tessera::physics
