// linalg::mlp, the fused MLP node, against its modules one by one in ATen (values, gradients, and
// a double backward's first and second derivatives), mlp_backward_by_chunks against a backward
// composed by hand in ATen, and the fused epilogues' statistics and bits on 1 and 2 threads.
#include <ATen/ATen.h>
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <tuple>

#include "linalg/linear.hpp"
#include "linalg/outer_product_sum.hpp"
#include "linalg/small_products.hpp"
#include "tests/linalg/scoped_threads.hpp"

using namespace tessera::linalg;
using tessera::test::Threads;

TEST_CASE("mlp_backward_by_chunks equals ATen's backward layer by layer", "[linalg]") {
  // The reference: each layer's gradients composed by hand in ATen over all rows at once
  // (native_layer_norm_backward, then gzᵀ · in_k, Σ gz and the masked input gradient per layer).
  for (at::ScalarType type : {at::kFloat, at::kDouble})
    for (int64_t m : {5, 1023, 3000})
      for (int variant = 0; variant < 8; ++variant) {
        const bool norm = variant & 1, some = variant & 2, input_relu = variant & 4;  // some: not every gradient
        INFO((type == at::kFloat ? "fp32, " : "fp64, ")
             << m << " rows, norm " << norm << ", some " << some << ", input ReLU " << input_relu);
        at::manual_seed(m + variant);
        const at::TensorOptions o = at::TensorOptions().dtype(type);
        const std::vector<int64_t> width{20, 32, 24, 24};  // layer k: width[k] -> width[k + 1]
        MlpBackwardInputs in;
        at::Tensor x = at::randn({m, width[0]}, o);
        in.ins.push_back(input_relu ? x.relu() : x);
        for (int64_t k = 0; k < 3; ++k) {
          in.weights.push_back(at::randn({width[k + 1], width[k]}, o) * 0.3);
          if (k > 0) in.ins.push_back(at::randn({m, width[k]}, o).relu_());  // a ReLU's output: zeros and positives
          in.weight_grad.push_back(!some || k != 1);
          in.bias_grad.push_back(!some || k != 2);
        }
        in.input_grad = !some, in.input_relu = input_relu;
        in.gy = at::randn({m, 24}, o);
        at::Tensor gz = in.gy, ggamma, gbeta;
        if (norm) {
          in.z = at::randn({m, 24}, o) * 2 + 1;
          in.gamma = 1 + 0.3 * at::randn({24}, o);
          in.gamma_grad = true, in.beta_grad = !some;
          at::Tensor y;
          std::tie(y, in.mean, in.rstd) = at::native_layer_norm(in.z, {24}, in.gamma, at::zeros({24}, o), 1e-5);
          in.mean = in.mean.reshape({m, 1}).contiguous(), in.rstd = in.rstd.reshape({m, 1}).contiguous();
          std::tie(gz, ggamma, gbeta) = at::native_layer_norm_backward(in.gy, in.z, {24}, in.mean, in.rstd, in.gamma,
                                                                       at::zeros({24}, o), {true, true, true});
        }
        REQUIRE(mlp_backward_by_chunks_applies(in));
        const MlpBackwardGrads got = mlp_backward_by_chunks(in);
        const double tol = type == at::kFloat ? 2e-5 : 1e-12;
        auto close = [&](const at::Tensor& a, const at::Tensor& b) {
          REQUIRE(a.defined());
          REQUIRE(a.sizes() == b.sizes());
          return (a - b).abs().max().item<double>() <= tol * std::max(1.0, b.abs().max().item<double>());
        };
        if (norm) {
          CHECK(close(got.gamma, ggamma));
          CHECK(got.beta.defined() == in.beta_grad);
          if (in.beta_grad) CHECK(close(got.beta, gbeta));
        }
        for (int64_t k = 2; k >= 0; --k) {
          INFO("layer " << k);
          CHECK(got.weights[k].defined() == in.weight_grad[k]);
          CHECK(got.biases[k].defined() == in.bias_grad[k]);
          if (in.weight_grad[k]) CHECK(close(got.weights[k], at::mm(gz.t(), in.ins[k])));
          if (in.bias_grad[k]) CHECK(close(got.biases[k], gz.sum(0)));
          if (k > 0 || input_relu)
            gz = at::threshold_backward(at::mm(gz, in.weights[k]), in.ins[k], 0);
          else
            gz = at::mm(gz, in.weights[k]);
        }
        CHECK(got.input.defined() == in.input_grad);
        if (in.input_grad) CHECK(close(got.input, gz));
        // What it does not take: a strided layer input, a width that does not chain.
        MlpBackwardInputs strided = in;
        strided.ins[1] = at::randn({width[1], m}, o).t();
        CHECK_FALSE(mlp_backward_by_chunks_applies(strided));
        MlpBackwardInputs wrong = in;
        wrong.weights[1] = at::randn({24, 31}, o);
        CHECK_FALSE(mlp_backward_by_chunks_applies(wrong));
        CHECK_THROWS(mlp_backward_by_chunks(wrong));
      }
}

namespace {

// An MLP's parameters for linalg::mlp and for the ATen composition it replaces: widths 20 -> 24
// (layer 0's weight a column block of a wider matrix, as MeshGraphNet's split first layers) ->
// 24 ..., `layers` layers, optionally biases and an output LayerNorm.
struct MlpCase {
  at::Tensor full;  // layer 0's weight is full[:, 20:40]
  std::vector<at::Tensor> rest, biases;
  at::Tensor gamma, beta;
  MlpCase(int64_t layers, bool with_bias, bool norm, const at::TensorOptions& o) {
    full = at::randn({24, 60}, o).mul_(0.3).requires_grad_(true);
    for (int64_t k = 0; k < layers; ++k) {
      if (k > 0) rest.push_back(at::randn({24, 24}, o).mul_(0.25).requires_grad_(true));
      biases.push_back(with_bias ? at::randn({24}, o).requires_grad_(true) : at::Tensor());
    }
    if (norm) {
      gamma = (1 + 0.3 * at::randn({24}, o)).requires_grad_(true);
      beta = (0.1 * at::randn({24}, o)).requires_grad_(true);
    }
  }
  MlpLayers layers(bool input_relu) const {
    MlpLayers l;
    l.input_relu = input_relu;
    l.weights.push_back(full.narrow(1, 20, 20));
    l.weights.insert(l.weights.end(), rest.begin(), rest.end());
    l.biases = biases;
    l.gamma = gamma, l.beta = beta;
    return l;
  }
  std::vector<at::Tensor> leaves() const {
    std::vector<at::Tensor> v{full, gamma, beta};
    v.insert(v.end(), rest.begin(), rest.end());
    v.insert(v.end(), biases.begin(), biases.end());
    return v;
  }
};

// The modules one by one in ATen: relu, addmm, relu, ..., addmm, layer_norm, + residual.
at::Tensor aten_mlp(const at::Tensor& x, const MlpLayers& l, const at::Tensor& residual) {
  at::Tensor h = l.input_relu ? at::relu(x) : x;
  for (size_t k = 0; k < l.weights.size(); ++k) {
    h = l.biases[k].defined() ? at::addmm(l.biases[k], h, l.weights[k].t()) : at::mm(h, l.weights[k].t());
    if (k + 1 < l.weights.size()) h = at::relu(h);
  }
  if (l.gamma.defined()) h = at::layer_norm(h, {h.size(1)}, l.gamma, l.beta, l.eps);
  return residual.defined() ? h + residual : h;
}

}  // namespace

TEST_CASE("linalg::mlp equals its modules one by one, values and gradients", "[linalg]") {
  // mlp_forward's fused node against the ATen composition under autograd: the result and the
  // gradients of every input (x, each weight, a column-block one included, each bias, the norm's
  // gamma and beta, the residual); one and three layers, with and without a ReLU before the first,
  // bias, norm and residual; rows below a panel (16), and several chunks.
  Threads two(2);
  for (at::ScalarType type : {at::kDouble, at::kFloat})
    for (int64_t layers : {1, 3})
      for (int variant = 0; variant < 16; ++variant)
        for (int64_t m : {7, 3000}) {
          const bool with_bias = variant & 1, norm = variant & 2, with_residual = variant & 4, input_relu = variant & 8;
          at::manual_seed(23 + m + 7 * variant + layers);
          const at::TensorOptions o = at::TensorOptions().dtype(type);
          INFO((type == at::kFloat ? "fp32" : "fp64")
               << ", " << layers << " layers, bias " << with_bias << ", norm " << norm << ", residual " << with_residual
               << ", input ReLU " << input_relu << ", " << m << " rows");
          const MlpCase c(layers, with_bias, norm, o);
          const MlpLayers l = c.layers(input_relu);
          const at::Tensor residual = with_residual ? at::randn({m, 24}, o).requires_grad_(true) : at::Tensor();
          const at::Tensor x = at::randn({m, 20}, o).requires_grad_(true), upstream = at::randn({m, 24}, o);
          auto run = [&](bool ours) {
            std::vector<at::Tensor> inputs = c.leaves();
            inputs.insert(inputs.end(), {x, residual});
            for (const at::Tensor& t : inputs)
              if (t.defined()) t.mutable_grad() = at::Tensor();
            at::Tensor y = ours ? mlp(x, l, residual) : aten_mlp(x, l, residual);
            if (ours) y.mul_(1);  // the result is not saved: changing it in place is allowed
            (y * upstream).sum().backward();
            std::vector<at::Tensor> out = {y.detach().clone()};
            for (const at::Tensor& t : inputs)
              if (t.defined()) out.push_back(t.grad().clone());
            return out;
          };
          const std::vector<at::Tensor> reference = run(false), ours = run(true);
          REQUIRE(reference.size() == ours.size());
          for (size_t i = 0; i < reference.size(); ++i) {
            const double scale = reference[i].abs().max().item<double>(),
                         error = (reference[i] - ours[i]).abs().max().item<double>();
            INFO("member " << i << ": error " << error << ", scale " << scale);
            CHECK(scale > 1e-3);
            CHECK(error < (type == at::kFloat ? 2e-5 : 1e-12) * scale);
          }
        }
  // With create_graph (a double backward) the backward recomputes the MLP differentiably: the same
  // first derivatives, and second derivatives (d/dθ of |dL/dθ|², through the norm and into x) as
  // the modules one by one. With and without the input ReLU (its input gradient is a masked
  // product, else a plain one).
  for (bool norm : {true, false})
    for (bool input_relu : {true, false}) {
      INFO("create_graph, norm " << norm << ", input ReLU " << input_relu);
      at::manual_seed(11);
      const at::TensorOptions o = at::TensorOptions().dtype(at::kDouble);
      const MlpCase c(3, true, norm, o);
      const MlpLayers l = c.layers(input_relu);
      const at::Tensor x = at::randn({600, 20}, o).requires_grad_(true), upstream = at::randn({600, 24}, o);
      std::vector<at::Tensor> inputs{x, c.full};
      inputs.insert(inputs.end(), c.rest.begin(), c.rest.end());
      auto second = [&](const at::Tensor& y, std::vector<at::Tensor>& first) {
        first = torch::autograd::grad({(y * y * upstream).sum()}, inputs, {}, true, true);
        at::Tensor sq = at::zeros({}, o);
        for (const auto& d : first) sq = sq + (d * d).sum();
        return torch::autograd::grad({sq}, inputs, {}, false, false, true);
      };
      std::vector<at::Tensor> ours_first, reference_first;
      const auto ours = second(mlp(x, l), ours_first), reference = second(aten_mlp(x, l, {}), reference_first);
      for (size_t i = 0; i < inputs.size(); ++i) {
        INFO("input " << i);
        CHECK(at::allclose(ours_first[i], reference_first[i], 1e-12, 1e-12));
        REQUIRE(ours[i].defined() == reference[i].defined());
        if (ours[i].defined()) CHECK(at::allclose(ours[i], reference[i], 1e-10, 1e-10));
      }
    }
}

TEST_CASE("the fused epilogues: layer-norm statistics, masked gradients, thread-independent bits", "[linalg]") {
  at::manual_seed(5);
  for (at::ScalarType type : {at::kDouble, at::kFloat}) {
    const at::TensorOptions o = at::TensorOptions().dtype(type);
    const at::Tensor x = at::randn({1001, 32}, o), b = at::randn({32, 40}, o), bias = at::randn({40}, o);
    const at::Tensor gamma = at::randn({40}, o), beta = at::randn({40}, o), residual = at::randn({1001, 40}, o);
    // Each row's mean and rstd as at::native_layer_norm computes them, and the pre-norm product.
    const NormedProduct got = product_with_weight_layer_norm(x, b, bias, gamma, beta, 1e-5, residual);
    const at::Tensor z = at::addmm(bias, x, b);
    const auto [y, mean, rstd] = at::native_layer_norm(z, {40}, gamma, beta, 1e-5);
    const double tol = type == at::kFloat ? 2e-5 : 1e-12;
    REQUIRE(got.mean.sizes() == mean.sizes());
    REQUIRE(got.rstd.sizes() == rstd.sizes());
    CHECK(at::allclose(got.z, z, tol, tol));
    CHECK(at::allclose(got.mean, mean, tol, tol));
    CHECK(at::allclose(got.rstd, rstd, tol, tol));
    CHECK(at::allclose(got.y, y + residual, tol, tol));
    CHECK(at::allclose(product_with_weight(x, b, bias, true), at::addmm(bias, x, b).relu(), tol, tol));
    CHECK(at::allclose(product_with_weight(x, b, at::Tensor(), true), at::mm(x, b).relu(), tol, tol));
    // Each panel of rows is one kernel call and its epilogue, whatever the threads.
    at::Tensor one_relu, one_norm, two_relu, two_norm;
    {
      Threads t(1);
      one_relu = product_with_weight(x, b, bias, true);
      one_norm = product_with_weight_layer_norm(x, b, bias, gamma, beta, 1e-5, residual).y;
    }
    {
      Threads t(2);
      two_relu = product_with_weight(x, b, bias, true);
      two_norm = product_with_weight_layer_norm(x, b, bias, gamma, beta, 1e-5, residual).y;
    }
    CHECK(at::equal(one_relu, two_relu));
    CHECK(at::equal(one_norm, two_norm));
  }
  // The masked input gradient against threshold_backward of at::mm, and the whole MLP's value and
  // gradients on 1 and 2 threads, bit for bit (several chunks of the weight gradients).
  for (at::ScalarType type : {at::kDouble, at::kFloat}) {
    const at::TensorOptions o = at::TensorOptions().dtype(type);
    const at::Tensor g = at::randn({1001, 40}, o), w = at::randn({40, 32}, o), mask = at::randn({1001, 32}, o).relu_();
    const double tol = type == at::kFloat ? 2e-5 : 1e-12;
    CHECK(
        at::allclose(product_with_weight_masked(g, w, mask), at::threshold_backward(at::mm(g, w), mask, 0), tol, tol));
    const MlpCase c(3, true, true, o);
    const MlpLayers l = c.layers(true);
    // 3,000 rows: 6 forward blocks on 1 and on 2 threads; 1,100 rows: 3 blocks on 1 thread, 4 on 2
    // (a multiple of the threads), so the rows' panels differ and the bits must not.
    for (int64_t m : {3000, 1100}) {
      INFO(m << " rows");
      const at::Tensor x = at::randn({m, 20}, o).requires_grad_(true), residual = at::randn({m, 24}, o);
      const auto run = [&](int threads) {
        Threads t(threads);
        for (const at::Tensor& p : c.leaves())
          if (p.defined()) p.mutable_grad() = at::Tensor();
        x.mutable_grad() = at::Tensor();
        const at::Tensor y = mlp(x, l, residual);
        y.square().sum().backward();
        std::vector<at::Tensor> out{y.detach(), x.grad().clone()};
        for (const at::Tensor& p : c.leaves())
          if (p.defined()) out.push_back(p.grad().clone());
        return out;
      };
      const auto one = run(1), two = run(2);
      // Every member, gamma's and beta's gradients too (their sums over the rows are
      // mlp_backward_by_chunks's chunks, not ATen's per-thread buffers). A build without libxsmm runs
      // the ATen modules one by one, whose layer-norm backward sums per thread: there, equal to
      // rounding.
      for (size_t i = 0; i < one.size(); ++i) {
        INFO("member " << i);
        if (small_products_have_jit())
          CHECK(at::equal(one[i], two[i]));
        else
          CHECK(at::allclose(one[i], two[i], 1e-5, 1e-6));
      }
    }
  }
}
