// linalg::product_with_weight_gathered_into (a product whose panels add two gathered table rows, a
// bias and a ReLU) against ATen's operations one by one, on the libxsmm path and on the fallback.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>

#include "linalg/small_products.hpp"

using namespace tessera::linalg;

TEST_CASE("product_with_weight_gathered_into equals ATen's product, gathers, bias and ReLU", "[linalg]") {
  at::manual_seed(2);
  for (at::ScalarType type : {at::kFloat, at::kDouble})
    for (int variant = 0; variant < 8; ++variant) {
      const bool bias = variant & 1, relu = variant & 2, strided = variant & 4;  // strided x: the fallback
      INFO((type == at::kFloat ? "fp32" : "fp64") << ", bias " << bias << ", relu " << relu << ", strided " << strided);
      const at::TensorOptions o = at::TensorOptions().dtype(type);
      const int64_t m = 1037, k = 24, n = 40, t = 57;
      const at::Tensor wide = at::randn({m, 2 * k}, o),
                       x = strided ? wide.narrow(1, 3, k) : wide.narrow(1, 0, k).contiguous();
      const at::Tensor b = at::randn({k, n}, o), c = bias ? at::randn({n}, o) : at::Tensor();
      const at::Tensor ta = at::randn({t, n}, o), tb = at::randn({t, n}, o);
      const at::Tensor ia = at::randint(t, {m}, at::kLong), ib = at::randint(t, {m}, at::kLong);
      at::Tensor expected = at::mm(x, b);
      if (bias) expected = expected + c;
      expected = expected + ta.index_select(0, ia) + tb.index_select(0, ib);
      if (relu) expected = expected.relu();
      // Into a row range of a larger tensor: the rows around it stay as they were.
      const at::Tensor big = at::full({m + 10, n}, 7.0, o), out = big.narrow(0, 5, m);
      product_with_weight_gathered_into(out, x, b, c, ta, ia, tb, ib, relu);
      const double tol = type == at::kFloat ? 1e-5 : 1e-12;
      CHECK(at::allclose(out, expected, tol, tol));
      CHECK(at::equal(big.narrow(0, 0, 5), at::full({5, n}, 7.0, o)));
      CHECK(at::equal(big.narrow(0, m + 5, 5), at::full({5, n}, 7.0, o)));
    }
  // A table of the wrong width, or an index of the wrong length: one error each.
  const at::Tensor x = at::randn({8, 4}), b = at::randn({4, 6}), out = at::empty({8, 6}), t = at::randn({3, 6});
  const at::Tensor i = at::zeros({8}, at::kLong);
  CHECK_THROWS(product_with_weight_gathered_into(out, x, b, {}, at::randn({3, 5}), i, t, i, true));
  CHECK_THROWS(product_with_weight_gathered_into(out, x, b, {}, t, i.narrow(0, 0, 7), t, i, true));
}
