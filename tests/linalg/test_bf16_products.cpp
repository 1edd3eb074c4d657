// bf16 products (linalg/bf16_products.hpp) against an fp64 reference of the same bf16-rounded
// operands, and the scope's reach: linalg::linear inside it, outside it, under autograd.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "linalg/bf16_products.hpp"
#include "linalg/linear.hpp"

using namespace tessera;

namespace {

// What the product must equal up to fp32 accumulation: both operands rounded to bf16, the sum in fp64.
at::Tensor reference(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias) {
  const auto r = [](const at::Tensor& t) { return t.to(at::kBFloat16).to(at::kDouble); };
  at::Tensor y = at::mm(r(x), r(w).t());
  return bias.defined() ? y + bias.to(at::kDouble) : y;
}

bool skip_without_kernels() {
  if (linalg::bf16_products_available()) return false;
  std::printf("SKIPPED: no bf16 matrix kernels on this machine (libxsmm with AVX512-BF16)\n");
  CHECK_THROWS_WITH(linalg::Bf16Products({at::ones({2, 2})}), Catch::Contains("no bf16 matrix kernels"));
  return true;
}

}  // namespace

TEST_CASE("bf16 product equals the fp64 product of the bf16-rounded operands", "[linalg][bf16]") {
  if (skip_without_kernels()) return;
  at::manual_seed(3);
  // Panels of 16 rows plus a remainder; even inner sizes (a panel rounded in one stretch, 18: with
  // a partial vector) and odd ones (row by row, the VNNI pair padded).
  for (int64_t m : {1, 16, 37, 2100})
    for (int64_t in : {64, 18, 5, 33})
      for (int64_t out : {192, 3}) {
        const at::Tensor x = at::randn({m, in}), w = at::randn({out, in}), bias = at::randn({out});
        for (const bool with_bias : {true, false}) {
          const at::Tensor b = with_bias ? bias : at::Tensor();
          const at::Tensor y = linalg::product_with_bf16_weight(x, linalg::pack_weight_bf16(w), b);
          REQUIRE(y.scalar_type() == at::kFloat);
          const at::Tensor ref = reference(x, w, b);
          INFO("m " << m << " in " << in << " out " << out << " bias " << with_bias << " max diff "
                    << (y.to(at::kDouble) - ref).abs().max().item<double>());
          CHECK(at::allclose(y.to(at::kDouble), ref, 1e-5, 1e-4));
        }
      }
  CHECK_THROWS_WITH(
      linalg::product_with_bf16_weight(at::randn({4, 6}), linalg::pack_weight_bf16(at::randn({3, 8})), {}),
      Catch::Contains("x must be fp32 [m, in]"));
  CHECK_THROWS_WITH(linalg::pack_weight_bf16(at::randn({3, 8}, at::kDouble)), Catch::Contains("must be fp32"));
}

TEST_CASE("Bf16Products: linalg::linear in bf16 only for its weights, without autograd, while alive",
          "[linalg][bf16]") {
  if (skip_without_kernels()) return;
  at::manual_seed(4);
  const at::Tensor x = at::randn({50, 24}), w = at::randn({40, 24}), other = at::randn({40, 24}), b = at::randn({40});
  const at::Tensor fp32 = at::addmm(b, x, w.t());
  c10::InferenceMode inference;
  {
    linalg::Bf16Products scope({w});
    REQUIRE(linalg::Bf16Products::current() == &scope);
    const at::Tensor y = linalg::linear(x, w, b);
    CHECK(at::allclose(y.to(at::kDouble), reference(x, w, b), 1e-5, 1e-4));
    CHECK_FALSE(at::allclose(y, fp32, 1e-6, 1e-6));  // really rounded: bf16 differs from fp32
    CHECK(at::allclose(linalg::linear(x, other, b), at::addmm(b, x, other.t()), 1e-5, 1e-5));  // not held
    CHECK(at::allclose(linalg::linear(x.to(at::kDouble), w.to(at::kDouble)), at::mm(x, w.t()).to(at::kDouble), 1e-5,
                       1e-5));  // fp64: untouched
    {
      linalg::Bf16Products inner({other});
      CHECK(linalg::Bf16Products::current() == &inner);
    }
    CHECK(linalg::Bf16Products::current() == &scope);
  }
  CHECK(linalg::Bf16Products::current() == nullptr);
  CHECK(at::allclose(linalg::linear(x, w, b), fp32, 1e-5, 1e-5));
}

TEST_CASE("Bf16Products leaves autograd alone", "[linalg][bf16]") {
  if (skip_without_kernels()) return;
  const at::Tensor x = at::randn({20, 8}), w = at::randn({6, 8}).requires_grad_(true);
  linalg::Bf16Products scope({w});
  const at::Tensor y = linalg::linear(x, w);
  CHECK(y.requires_grad());
  CHECK(at::allclose(y.detach(), at::mm(x, w.detach().t()), 1e-5, 1e-5));
}
