// weight_product (physics/weight_product.hpp) against at::mm, which it replaces: fp32 and fp64, point
// counts below, at and past one panel (with a remainder), non-contiguous operands (at::mm's path),
// and operands that autograd would record (at::mm's path, so the product stays differentiable).
#include <ATen/ATen.h>

#include <catch2/catch.hpp>

#include "physics/weight_product.hpp"

using tessera::physics::weight_product;

TEST_CASE("weight_product equals at::mm", "[weight_product]") {
  INFO("libxsmm in this build: " << tessera::physics::weight_product_has_jit());
  for (at::ScalarType type : {at::kFloat, at::kDouble})
    for (auto [rows, k] : {std::pair{50, 50}, std::pair{50, 3}, std::pair{1, 50}, std::pair{17, 33}})
      for (int64_t m : {1, 100, 128, 1000, 3200}) {
        at::manual_seed(rows * 1000 + k + m);
        const at::Tensor w = at::randn({rows, k}, at::TensorOptions().dtype(type)),
                         h = at::randn({k, m}, at::TensorOptions().dtype(type));
        const at::Tensor expected = at::mm(w.to(at::kDouble), h.to(at::kDouble)), got = weight_product(w, h);
        INFO((type == at::kFloat ? "fp32 " : "fp64 ") << rows << " x " << k << " by " << k << " x " << m);
        REQUIRE(got.sizes() == expected.sizes());
        REQUIRE(got.scalar_type() == type);
        // Sums of k products: fp32 rounding is ~1e-7 of their magnitudes (√k·|w||h| ≲ 30 here).
        const double tolerance = type == at::kFloat ? 1e-5 : 1e-12;
        CHECK((got.to(at::kDouble) - expected).abs().max().item<double>() < tolerance);
      }
}

TEST_CASE("weight_product takes transposed views and stays differentiable under autograd", "[weight_product]") {
  at::manual_seed(7);
  const at::Tensor w = at::randn({50, 40}, at::kDouble), h = at::randn({300, 50}, at::kDouble);
  // A non-contiguous operand (a transposed view).
  CHECK(at::allclose(weight_product(w.t(), h.t()), at::mm(w.t(), h.t()), 1e-12, 1e-12));
  // With grad mode on and a weight that requires grad, the product is recorded and its gradient is hᵀ.
  const at::Tensor x = at::randn({40, 30}, at::kDouble), wr = w.clone().requires_grad_(true);
  weight_product(wr, x).sum().backward();
  REQUIRE(wr.grad().defined());
  CHECK(at::allclose(wr.grad(), at::ones({50, 30}, at::kDouble).mm(x.t()), 1e-12, 1e-12));
}
