// tessera_linalg's products against ATen, which they replace: weight_product, product_with_weight,
// product_with_transpose and outer_product_sum against at::mm (fp32 and fp64; point counts below,
// at and past one panel, with remainders; non-contiguous operands, which take at::mm's path;
// operands autograd would record, which stay differentiable), the _into products, and
// linalg::linear's value and gradients (input, weight, bias; a column-block view as the weight; the
// result modified in place afterwards) against at::addmm under autograd. The MLP node and its
// chunked backward: test_mlp.cpp.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <atomic>
#include <catch2/catch.hpp>

#include "linalg/kernels/transposed_product.hpp"
#include "linalg/linear.hpp"
#include "linalg/outer_product_sum.hpp"
#include "linalg/small_products.hpp"
#include "tests/linalg/scoped_threads.hpp"

using namespace tessera::linalg;
using tessera::test::Threads;

namespace {

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
  // Tile edges (rows and columns not multiples of the 5 x 5 or 2 x 5 tiles), k below, at and past a
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
  // The 256-bit tiles (2 x 5; CPUs without AVX-512), whatever this CPU has.
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
      c10::NoGradGuard no_grad;
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
