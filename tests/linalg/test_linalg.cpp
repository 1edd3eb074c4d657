// tessera_linalg against ATen, which it replaces: weight_product, product_with_weight,
// product_with_transpose and outer_product_sum against at::mm (fp32 and fp64; point counts below,
// at and past one panel, with remainders; non-contiguous operands, which take at::mm's path;
// operands autograd would record, which stay differentiable), and linalg::linear's value and
// gradients (input, weight, bias; a column-block view as the weight; the result modified in place
// afterwards) against at::addmm under autograd; linalg::mlp, the fused MLP node, against its
// modules one by one in ATen (the chunked backward, and the layer-by-layer one a double backward
// takes), mlp_backward_by_chunks against a backward composed by hand in ATen, the _into products,
// and the epilogues' statistics and bits.
#include <ATen/ATen.h>
#include <torch/torch.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <tuple>

#include "linalg/kernels/transposed_product.hpp"
#include "linalg/linear.hpp"
#include "linalg/outer_product_sum.hpp"
#include "linalg/small_products.hpp"

using namespace tessera::linalg;

namespace {

// Sets torch's thread count for a scope and restores it, also when a REQUIRE throws.
struct Threads {
  explicit Threads(int n) : before(at::get_num_threads()) { at::set_num_threads(n); }
  ~Threads() { at::set_num_threads(before); }
  int before;
};

// Sums of k products of standard normal entries: rounding grows with k (observed up to 2.7e-5 in
// fp32 at k = 128); a wrong kernel or panel is off by O(1).
double tolerance(at::ScalarType type, int64_t k) {
  return (type == at::kFloat ? 1e-6 : 1e-14) * static_cast<double>(k);
}

}  // namespace

TEST_CASE("weight_product and product_with_weight equal at::mm", "[linalg]") {
  INFO("libxsmm in this build: " << small_products_have_jit());
  for (at::ScalarType type : {at::kFloat, at::kDouble})
    for (auto [rows, k] :
         {std::pair{50, 50}, std::pair{50, 3}, std::pair{1, 50}, std::pair{17, 33}, std::pair{128, 128}})
      for (int64_t m : {1, 15, 100, 128, 1000, 3200}) {
        at::manual_seed(rows * 1000 + k + m);
        const at::TensorOptions o = at::TensorOptions().dtype(type);
        INFO((type == at::kFloat ? "fp32 " : "fp64 ") << rows << " x " << k << ", " << m << " points");
        // Feature-major: w [rows, k] · h [k, m].
        const at::Tensor w = at::randn({rows, k}, o), h = at::randn({k, m}, o);
        const at::Tensor expected = at::mm(w.to(at::kDouble), h.to(at::kDouble)), got = weight_product(w, h);
        REQUIRE(got.sizes() == expected.sizes());
        REQUIRE(got.scalar_type() == type);
        CHECK((got.to(at::kDouble) - expected).abs().max().item<double>() < tolerance(type, k));
        // Point-major: x [m, k] · b [k, rows], with and without a bias.
        const at::Tensor x = at::randn({m, k}, o), b = at::randn({k, rows}, o), bias = at::randn({rows}, o);
        const at::Tensor plain = at::mm(x.to(at::kDouble), b.to(at::kDouble));
        CHECK((product_with_weight(x, b).to(at::kDouble) - plain).abs().max().item<double>() < tolerance(type, k));
        CHECK((product_with_weight(x, b, bias).to(at::kDouble) - (plain + bias.to(at::kDouble)))
                  .abs()
                  .max()
                  .item<double>() < tolerance(type, k));
      }
}

// product_with_weight_plus against at::mm plus c plus gathered table rows, in double: each of c and
// the table present or not, panels with remainders, a repeated and an unused table row; operands
// the kernels do not take (a strided c) go through ATen with the same result.
TEST_CASE("product_with_weight_plus equals x · b + c + table[index]", "[linalg]") {
  for (at::ScalarType type : {at::kFloat, at::kDouble})
    for (int64_t m : {1, 15, 17, 1000})
      for (int parts = 0; parts < 4; ++parts) {
        const bool with_c = parts & 1, with_table = parts & 2;
        INFO((type == at::kFloat ? "fp32 " : "fp64 ")
             << m << " rows" << (with_c ? ", c" : "") << (with_table ? ", table" : ""));
        at::manual_seed(m + 10 * parts);
        const at::TensorOptions o = at::TensorOptions().dtype(type);
        const int64_t k = 128, n = 96, t = 7;
        const at::Tensor x = at::randn({m, k}, o), b = at::randn({k, n}, o), c = at::randn({m, n}, o),
                         table = at::randn({t, n}, o), index = at::randint(0, t - 1, {m}, at::kLong);  // row 6 unused
        at::Tensor expected = at::mm(x.to(at::kDouble), b.to(at::kDouble));
        if (with_c) expected += c.to(at::kDouble);
        if (with_table) expected += table.to(at::kDouble).index_select(0, index);
        const at::Tensor got = product_with_weight_plus(
            x, b, with_c ? c : at::Tensor(), with_table ? table : at::Tensor(), with_table ? index : at::Tensor());
        REQUIRE(got.sizes() == expected.sizes());
        REQUIRE(got.scalar_type() == type);
        CHECK((got.to(at::kDouble) - expected).abs().max().item<double>() < tolerance(type, k) + tolerance(type, 2));
        if (with_c && m > 1) {  // a strided c (one row would count as contiguous): ATen's path
          const at::Tensor wide = at::randn({m, 2 * n}, o), cs = wide.narrow(1, 0, n);
          REQUIRE(!cs.is_contiguous());
          const at::Tensor strided = product_with_weight_plus(x, b, cs);
          CHECK((strided.to(at::kDouble) - at::mm(x.to(at::kDouble), b.to(at::kDouble)) - cs.to(at::kDouble))
                    .abs()
                    .max()
                    .item<double>() < tolerance(type, k) + tolerance(type, 2));
        }
      }
  CHECK_THROWS(product_with_weight_plus(at::randn({4, 8}), at::randn({8, 5}), at::randn({3, 5})));
  CHECK_THROWS(product_with_weight_plus(at::randn({4, 8}), at::randn({8, 5}), {}, at::randn({3, 5})));
}

TEST_CASE("product_with_transpose equals at::mm with a transposed operand", "[linalg]") {
  // Tile edges (rows and columns not multiples of the 5 x 5 or 3 x 4 tiles), k below, at and past a
  // vector's lanes, and the PINN's weight-gradient shapes.
  for (at::ScalarType type : {at::kFloat, at::kDouble})
    for (auto [m, n] : {std::pair{50, 50}, std::pair{50, 3}, std::pair{1, 1}, std::pair{7, 13}, std::pair{128, 128},
                        std::pair{16, 12}})
      for (int64_t k : {1, 7, 16, 17, 100, 3200, 6401}) {
        at::manual_seed(m * 100000 + n * 1000 + k);
        const at::TensorOptions o = at::TensorOptions().dtype(type);
        INFO((type == at::kFloat ? "fp32 " : "fp64 ") << m << " x " << n << ", k = " << k);
        const at::Tensor a = at::randn({m, k}, o), b = at::randn({n, k}, o);
        const at::Tensor expected = at::mm(a.to(at::kDouble), b.to(at::kDouble).t()),
                         got = product_with_transpose(a, b);
        REQUIRE(got.sizes() == expected.sizes());
        REQUIRE(got.scalar_type() == type);
        CHECK((got.to(at::kDouble) - expected).abs().max().item<double>() < tolerance(type, k));
      }
  // The 256-bit tiles (3 x 4; CPUs without AVX-512), whatever this CPU has.
  if constexpr (tessera::linalg::kernels::have_transposed_product_cpu)
    for (auto [m, n, k] :
         {std::tuple{50, 50, 3200}, std::tuple{7, 13, 17}, std::tuple{1, 1, 1}, std::tuple{16, 12, 100}}) {
      INFO("256-bit tiles, " << m << " x " << n << ", k = " << k);
      at::manual_seed(m + n + k);
      const at::Tensor a = at::randn({m, k}, at::kDouble), b = at::randn({n, k}, at::kDouble);
      at::Tensor c = at::empty({m, n}, at::kDouble);
      tessera::linalg::kernels::transposed_product_cpu_256<double>(a.data_ptr<double>(), b.data_ptr<double>(),
                                                                   c.data_ptr<double>(), m, n, k);
      CHECK((c - at::mm(a, b.t())).abs().max().item<double>() < tolerance(at::kDouble, k));
      const at::Tensor af = a.to(at::kFloat), bf = b.to(at::kFloat);
      at::Tensor cf = at::empty({m, n}, at::kFloat);
      tessera::linalg::kernels::transposed_product_cpu_256<float>(af.data_ptr<float>(), bf.data_ptr<float>(),
                                                                  cf.data_ptr<float>(), m, n, k);
      CHECK((cf.to(at::kDouble) - at::mm(a, b.t())).abs().max().item<double>() < tolerance(at::kFloat, k));
    }
  // Strided operands take at::mm's path, with the same result.
  const at::Tensor a = at::randn({60, 40}, at::kDouble), b = at::randn({60, 30}, at::kDouble);
  CHECK(at::allclose(product_with_transpose(a.t(), b.t()), at::mm(a.t(), b), 1e-12, 1e-12));
}

TEST_CASE("outer_product_sum takes libxsmm's kernel wherever the build has it and it is asked for", "[linalg]") {
  // Both files that use libxsmm must see the build's choice: outer_product_sum.cpp once read its
  // `#if` as 0 and ran BLAS for the Jit and Auto kernels, which every value test still passed.
  CHECK(outer_product_sum_takes_jit(OuterSumKernel::Jit) == small_products_have_jit());
  CHECK_FALSE(outer_product_sum_takes_jit(OuterSumKernel::Blas));
  if (!small_products_have_jit()) CHECK_FALSE(outer_product_sum_takes_jit(OuterSumKernel::Auto));
}

TEST_CASE("outer_product_sum equals at::mm with a transposed operand, on any number of threads", "[linalg]") {
  // Both chunk kernels (libxsmm's where the build has it, and BLAS), whichever this CPU's Auto
  // takes; points below, at and past a panel (128) and a chunk (1024), with remainders.
  std::vector<OuterSumKernel> kernels = {OuterSumKernel::Auto, OuterSumKernel::Blas};
  if (small_products_have_jit()) kernels.push_back(OuterSumKernel::Jit);
  for (OuterSumKernel kernel : kernels)
    for (at::ScalarType type : {at::kFloat, at::kDouble})
      for (auto [p, n] : {std::pair{128, 128}, std::pair{50, 3}, std::pair{1, 1}, std::pair{17, 33}})
        for (int64_t m : {1, 15, 128, 1023, 1024, 1025, 5000}) {
          at::manual_seed(p * 100000 + n * 1000 + m);
          const at::TensorOptions o = at::TensorOptions().dtype(type);
          INFO("kernel " << int(kernel) << ", " << (type == at::kFloat ? "fp32 " : "fp64 ") << p << " x " << n << ", "
                         << m << " points");
          const at::Tensor a = at::randn({m, p}, o), b = at::randn({m, n}, o);
          const at::Tensor expected = at::mm(a.to(at::kDouble).t(), b.to(at::kDouble)),
                           got = outer_product_sum(a, b, kernel);
          REQUIRE(got.sizes() == expected.sizes());
          REQUIRE(got.scalar_type() == type);
          CHECK((got.to(at::kDouble) - expected).abs().max().item<double>() < tolerance(type, m));
        }
  // The same bits on 1 and 2 threads (the chunks fix the summation order), with one chunk too.
  for (OuterSumKernel kernel : kernels)
    for (at::ScalarType type : {at::kFloat, at::kDouble})
      for (auto [m, p, n] : {std::tuple{1000, 128, 128}, std::tuple{7000, 128, 128}, std::tuple{900, 50, 3}}) {
        INFO("kernel " << int(kernel) << ", " << m << " points, " << p << " x " << n);
        const at::TensorOptions o = at::TensorOptions().dtype(type);
        const at::Tensor a = at::randn({m, p}, o), b = at::randn({m, n}, o);
        at::Tensor one, two;
        {
          Threads t(1);
          one = outer_product_sum(a, b, kernel);
        }
        {
          Threads t(2);
          two = outer_product_sum(a, b, kernel);
        }
        CHECK(at::equal(one, two));
      }
  // Operands that require grad (under no_grad, as in a backward pass) and inference mode: the
  // chunks on torch's worker threads run with the caller's modes.
  Threads t(2);
  const at::Tensor a = at::randn({3000, 16}).requires_grad_(true), b = at::randn({3000, 8});
  const at::Tensor expected = at::mm(a.detach().to(at::kDouble).t(), b.to(at::kDouble));
  auto error = [&](const at::Tensor& got) { return (got.to(at::kDouble) - expected).abs().max().item<double>(); };
  for (OuterSumKernel kernel : kernels) {
    INFO("kernel " << int(kernel));
    {
      at::NoGradGuard no_grad;
      CHECK(error(outer_product_sum(a, b, kernel)) < tolerance(at::kFloat, 3000));
    }
    {
      c10::InferenceMode inference;
      CHECK(error(outer_product_sum(a.detach(), b, kernel)) < tolerance(at::kFloat, 3000));
    }
  }
}

TEST_CASE("outer_product_sum_and_column_sums: the weight and bias gradients from one pass", "[linalg]") {
  std::vector<OuterSumKernel> kernels = {OuterSumKernel::Auto, OuterSumKernel::Blas};
  if (small_products_have_jit()) kernels.push_back(OuterSumKernel::Jit);
  for (OuterSumKernel kernel : kernels)
    for (at::ScalarType type : {at::kFloat, at::kDouble})
      for (auto [p, n] : {std::pair{128, 128}, std::pair{3, 50}, std::pair{1, 1}})
        for (int64_t m : {1, 1023, 1025, 5000}) {
          INFO("kernel " << int(kernel) << ", " << (type == at::kFloat ? "fp32 " : "fp64 ") << p << " x " << n << ", "
                         << m << " points");
          const at::TensorOptions o = at::TensorOptions().dtype(type);
          // Column means far from zero, as in a bias gradient, so that a sum in fp32 would show.
          const at::Tensor a = at::randn({m, p}, o) + 3, b = at::randn({m, n}, o);
          const auto [sum, column_sums] = outer_product_sum_and_column_sums(a, b, kernel);
          REQUIRE(column_sums.sizes() == at::IntArrayRef{p});
          REQUIRE(column_sums.scalar_type() == type);
          CHECK(at::equal(sum, outer_product_sum(a, b, kernel)));
          const at::Tensor expected = a.to(at::kDouble).sum(0);
          // Summed in double: an fp32 result is within one rounding of the (double) reference; an
          // fp64 one within the rounding of m additions (the terms are mostly positive).
          const double bound = type == at::kFloat ? 2 * 6e-8 : 1.2e-16 * double(m);
          CHECK(((column_sums.to(at::kDouble) - expected).abs() / expected.abs().clamp_min(1)).max().item<double>() <
                bound);
        }
  // The same bits on 1 and 2 threads.
  const at::Tensor a = at::randn({7000, 128}), b = at::randn({7000, 128});
  at::Tensor one, two;
  {
    Threads t(1);
    one = outer_product_sum_and_column_sums(a, b).second;
  }
  {
    Threads t(2);
    two = outer_product_sum_and_column_sums(a, b).second;
  }
  CHECK(at::equal(one, two));
  // Operands that take at::mm's path (a strided view) still get their column sums.
  const at::Tensor s = at::randn({40, 60}, at::kDouble);
  CHECK(at::allclose(outer_product_sum_and_column_sums(s.t(), s.t()).second, s.t().sum(0), 1e-12, 1e-12));
}

TEST_CASE("weight_and_bias_grads_then: the same gradients, and each row to the callback once", "[linalg]") {
  Threads two(2);
  for (at::ScalarType type : {at::kFloat, at::kDouble})
    for (int64_t m : {5, 1024, 3000}) {
      INFO((type == at::kFloat ? "fp32, " : "fp64, ") << m << " rows");
      at::manual_seed(m);
      const at::TensorOptions o = at::TensorOptions().dtype(type);
      const at::Tensor gy = at::randn({m, 24}, o), x = at::randn({m, 20}, o);
      at::Tensor seen = at::zeros({m}, at::kInt);
      std::atomic<int64_t> calls{0};
      const auto [w, bias] = weight_and_bias_grads_then(gy, x, true, [&](int64_t start, int64_t size) {
        seen.narrow(0, start, size).add_(1);
        ++calls;
      });
      CHECK(at::equal(seen, at::ones({m}, at::kInt)));  // every row once
      CHECK(calls.load() == (m + 1023) / 1024);         // once per chunk
      const auto [w_ref, bias_ref] = weight_and_bias_grads(gy, x, true, true);
      CHECK(at::equal(w, w_ref));  // the same chunks, the same bits
      CHECK(at::equal(bias, bias_ref));
      const auto [w_only, none] = weight_and_bias_grads_then(gy, x, false, [](int64_t, int64_t) {});
      CHECK(at::equal(w_only, w_ref));
      CHECK_FALSE(none.defined());
      // A strided x takes at::mm's path: one call on all rows.
      int64_t rows = 0;
      const at::Tensor xs = at::randn({20, m}, o).t();
      const auto [ws, unused] = weight_and_bias_grads_then(gy, xs, false, [&](int64_t start, int64_t size) {
        CHECK(start == 0);
        rows += size;
      });
      CHECK(rows == m);
      CHECK(at::allclose(ws, at::mm(gy.t(), xs), 1e-4, 1e-4));
    }
}

TEST_CASE("transposed_weight equals w.t().contiguous(), for column blocks of a larger weight too", "[linalg]") {
  for (at::ScalarType type : {at::kFloat, at::kDouble}) {
    const at::Tensor full = at::randn({128, 384}, at::TensorOptions().dtype(type));
    for (const at::Tensor& w : {full, full.narrow(1, 128, 128), full.narrow(1, 256, 128), full.narrow(0, 3, 5),
                                at::randn({1, 7}, full.options()), full.t() /* strided: ATen's copy */}) {
      INFO(w.sizes() << " strides " << w.strides());
      const at::Tensor t = transposed_weight(w);
      CHECK(t.is_contiguous());
      CHECK(at::equal(t, w.t()));
    }
  }
}

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

TEST_CASE("the _into products write exactly their rows of a larger tensor", "[linalg]") {
  at::manual_seed(3);
  for (at::ScalarType type : {at::kFloat, at::kDouble}) {
    const at::TensorOptions o = at::TensorOptions().dtype(type);
    const at::Tensor x = at::randn({100, 20}, o), b = at::randn({20, 24}, o), bias = at::randn({24}, o);
    const at::Tensor mask = at::randn({100, 24}, o).relu_(), gamma = at::randn({24}, o), beta = at::randn({24}, o);
    const at::Tensor rows_x = x.narrow(0, 30, 41);
    const auto check_rows = [&](const at::Tensor& full, const at::Tensor& expected) {
      CHECK(at::equal(full.narrow(0, 30, 41), expected));  // the same kernel on the same rows: the same bits
      CHECK(at::equal(full.narrow(0, 0, 30), at::full({30, full.size(1)}, 7.0, o)));  // the rest untouched
      CHECK(at::equal(full.narrow(0, 71, 29), at::full({29, full.size(1)}, 7.0, o)));
    };
    at::Tensor out = at::full({100, 24}, 7.0, o);
    product_with_weight_into(out.narrow(0, 30, 41), rows_x, b, bias, true);
    check_rows(out, product_with_weight(rows_x, b, bias, true));
    out.fill_(7.0);
    product_with_weight_masked_into(out.narrow(0, 30, 41), rows_x, b, mask.narrow(0, 30, 41));
    check_rows(out, product_with_weight_masked(rows_x, b, mask.narrow(0, 30, 41)));
    NormedProduct r{at::full({100, 24}, 7.0, o), at::full({100, 24}, 7.0, o), at::full({100, 1}, 7.0, o),
                    at::full({100, 1}, 7.0, o)};
    const auto rows = [](const at::Tensor& t) { return t.narrow(0, 30, 41); };
    product_with_weight_layer_norm_into({rows(r.z), rows(r.y), rows(r.mean), rows(r.rstd)}, rows_x, b, bias, gamma,
                                        beta, 1e-5);
    const NormedProduct whole = product_with_weight_layer_norm(rows_x, b, bias, gamma, beta, 1e-5);
    check_rows(r.z, whole.z);
    check_rows(r.y, whole.y);
    check_rows(r.mean, whole.mean);
    check_rows(r.rstd, whole.rstd);
    const at::Tensor c = at::randn({100, 24}, o), table = at::randn({9, 24}, o);
    const at::Tensor index = at::randint(0, 9, {100}, at::TensorOptions().dtype(at::kLong));
    out.fill_(7.0);
    product_with_weight_plus_into(out.narrow(0, 30, 41), rows_x, b, rows(c), table, rows(index));
    check_rows(out, product_with_weight_plus(rows_x, b, rows(c), table, rows(index)));
    // An output of the wrong shape or type is an error, not a write past it.
    CHECK_THROWS(product_with_weight_into(at::empty({41, 23}, o), rows_x, b));
    CHECK_THROWS(product_with_weight_into(at::empty({41, 24}, at::kInt), rows_x, b));
    CHECK_THROWS(product_with_weight_into(at::empty({24, 41}, o).t(), rows_x, b));
  }
}

TEST_CASE("the small products take transposed views and stay differentiable under autograd", "[linalg]") {
  at::manual_seed(7);
  const at::Tensor w = at::randn({50, 40}, at::kDouble), h = at::randn({300, 50}, at::kDouble);
  CHECK(at::allclose(weight_product(w.t(), h.t()), at::mm(w.t(), h.t()), 1e-12, 1e-12));
  CHECK(at::allclose(product_with_weight(h, w), at::mm(h, w), 1e-12, 1e-12));
  // With grad mode on and a weight that requires grad, the product is recorded and its gradient is hᵀ.
  const at::Tensor x = at::randn({40, 30}, at::kDouble), wr = w.clone().requires_grad_(true);
  weight_product(wr, x).sum().backward();
  REQUIRE(wr.grad().defined());
  CHECK(at::allclose(wr.grad(), at::ones({50, 30}, at::kDouble).mm(x.t()), 1e-12, 1e-12));
}

TEST_CASE("linalg::linear equals at::addmm, values and gradients", "[linalg]") {
  // Two threads: 3,000 rows are three chunks of the weight gradient, computed on torch's worker
  // threads (whose grad mode is their own) from inputs that require grad.
  Threads two(2);
  for (at::ScalarType type : {at::kDouble, at::kFloat})
    for (bool with_bias : {true, false})
      for (int64_t m : {7, 1000, 3000}) {
        at::manual_seed(11 + m);
        const at::TensorOptions o = at::TensorOptions().dtype(type);
        INFO((type == at::kFloat ? "fp32" : "fp64") << ", bias " << with_bias << ", " << m << " rows");
        // The weight is a column block of a larger one (a strided view), as in MeshGraphNet's split layer.
        const at::Tensor full = at::randn({24, 3 * 20}, o).requires_grad_(true);
        const at::Tensor bias = with_bias ? at::randn({24}, o).requires_grad_(true) : at::Tensor();
        const at::Tensor x = at::randn({m, 20}, o).requires_grad_(true), upstream = at::randn({m, 24}, o);
        auto run = [&](bool ours) {
          for (const at::Tensor* t : {&full, &bias, &x})
            if (t->defined()) t->mutable_grad() = at::Tensor();
          const at::Tensor weight = full.narrow(1, 20, 20);
          at::Tensor y =
              ours ? linear(x, weight, bias) : (with_bias ? at::addmm(bias, x, weight.t()) : at::mm(x, weight.t()));
          y.relu_();  // in place on the result, as MeshGraphNet's MLPs do
          (y * upstream).sum().backward();
          std::vector<at::Tensor> out = {y.detach().clone(), x.grad().clone(), full.grad().clone()};
          if (with_bias) out.push_back(bias.grad().clone());
          return out;
        };
        const std::vector<at::Tensor> reference = run(false), ours = run(true);
        for (size_t i = 0; i < reference.size(); ++i) {
          const double scale = reference[i].abs().max().item<double>(),
                       error = (reference[i] - ours[i]).abs().max().item<double>();
          INFO("member " << i << ": error " << error << ", scale " << scale);
          CHECK(scale > 1e-3);
          CHECK(error < (type == at::kFloat ? 1e-5 : 1e-12) * scale);
        }
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
