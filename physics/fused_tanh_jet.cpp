#include "physics/fused_tanh_jet.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/error.hpp"
#include "linalg/sequential_blas.hpp"
#include "linalg/small_products.hpp"
#include "physics/kernels/tanh_jet.hpp"

namespace tessera::physics {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct TanhJet : public torch::autograd::Function<TanhJet> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a_in) {
    const at::Tensor a = a_in.contiguous();
    const at::Tensor y = at::tanh(a[0]);  // vectorised tanh
    at::Tensor out = at::empty_like(a);
    out[0].copy_(y);
    kernels::cpu::tanh_jet_step(a, y, out);
    ctx->save_for_backward({out});
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor y = ctx->get_saved_variables()[0];
    const at::Tensor g = grads[0].contiguous();
    at::Tensor ga = at::empty_like(y);
    kernels::cpu::tanh_jet_step_backward(y, g, ga);
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
    const linalg::SequentialBlas one_thread;
    for (int64_t blk = begin; blk < end; ++blk) f(blk);
  });
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
        if (in <= kernels::cpu::kNarrowInput && w.is_contiguous()) {
          a = at::empty({rows, C, n}, h.options());
          kernels::cpu::narrow_input_product(w, h, a);
        } else {
          a = linalg::weight_product(w, h.view({in, C * n})).view({rows, C, n});
        }
        if (l + 1 == layers) {
          a.select(1, 0).add_(bias.unsqueeze(1));  // the bias enters the value channel only
          out.narrow(1, b, n).copy_(a.permute({1, 2, 0}));
          break;
        }
        if (a.scalar_type() == at::kFloat && bias.is_contiguous()) {
          kernels::cpu::tanh_bias_jet_rows_fp32(a, bias);
        } else {
          // y = tanh(a + bias) as 2 sigmoid(2(a + bias)) − 1: torch's CPU tanh (MKL VML, high
          // accuracy) costs ~6x its sigmoid and was a sixth of the LPINN step; this form is as
          // accurate in absolute terms (what the jet and the next layer see), though not relatively
          // for |a| ≪ 1. Then the jet step reads the value channel's tanh and the derivative channels.
          a.select(1, 0).add_(bias.unsqueeze(1)).mul_(2).sigmoid_().mul_(2).sub_(1);
          kernels::cpu::tanh_jet_step_rows(a);
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
        kernels::cpu::tanh_jet_step_backward_rows(h, gh);
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
