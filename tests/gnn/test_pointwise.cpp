// The inference kernels (gnn/kernels/pointwise.hpp, cpu/vector_exp.hpp) against the ATen ops they
// replace: RMSNorm's six ops, silu(g) * u, and std::exp, at vector tails and extreme values.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "gnn/kernels/cpu/vector_exp.hpp"
#include "gnn/kernels/pointwise.hpp"

using namespace tessera;

namespace {

at::Tensor rms_reference(const at::Tensor& x, const at::Tensor& w, double eps) {
  return x * at::rsqrt(x.pow(2).mean(-1, true) + eps) * w;
}

double max_rel(const at::Tensor& got, const at::Tensor& ref) {
  return ((got - ref).abs() / (ref.abs() + 1e-30)).max().item<double>();
}

}  // namespace

TEST_CASE("rms_norm_inference equals RMSNorm's ATen ops", "[pointwise]") {
  at::manual_seed(3);
  for (auto t : {at::kFloat, at::kDouble})
    for (int64_t d : {1, 7, 8, 64, 67}) {
      const at::TensorOptions o = at::TensorOptions().dtype(t);
      const at::Tensor x = at::randn({301, d}, o) * 3, w = at::randn({d}, o);
      const double tol = t == at::kFloat ? 2e-6 : 1e-14;
      INFO("dtype " << t << " d " << d);
      const at::Tensor got = gnn::kernels::rms_norm_inference(x, w, 1e-6);
      CHECK(max_rel(got, rms_reference(x, w, 1e-6)) < tol);
      // Three dimensions, a non-contiguous view (the ATen fallback) and a zero row (eps alone).
      CHECK(max_rel(gnn::kernels::rms_norm_inference(x.view({7, 43, d}), w, 1e-6),
                    rms_reference(x.view({7, 43, d}), w, 1e-6)) < tol);
      const at::Tensor xt = at::randn({d, 50}, o).t();
      CHECK(max_rel(gnn::kernels::rms_norm_inference(xt, w, 1e-6), rms_reference(xt, w, 1e-6)) < tol);
      CHECK(gnn::kernels::rms_norm_inference(at::zeros({2, d}, o), w, 1e-6).abs().max().item<double>() == 0);
    }
  CHECK_THROWS_AS(gnn::kernels::rms_norm_inference(at::ones({3, 4}), at::ones({5}), 1e-6), Error);
}

TEST_CASE("silu_mul_ equals silu(g) * u, at every tail length and extreme values", "[pointwise]") {
  at::manual_seed(4);
  for (auto t : {at::kFloat, at::kDouble}) {
    const at::TensorOptions o = at::TensorOptions().dtype(t);
    const double tol = t == at::kFloat ? 1e-6 : 1e-14;
    for (int64_t n : {1, 7, 8, 15, 16, 17, 33, 5000, 100003}) {
      const at::Tensor g = at::randn({n}, o) * 4, u = at::randn({n}, o);
      at::Tensor got = g.clone(), alone = g.clone();
      gnn::kernels::silu_mul_(got, u);
      gnn::kernels::silu_mul_(alone, {});
      INFO("dtype " << t << " n " << n);
      CHECK(at::allclose(got, at::silu(g) * u, tol, tol));
      CHECK(at::allclose(alone, at::silu(g), tol, tol));
    }
    // Large |g|: silu(g) -> g for g >> 0 and -> -0 for g << 0, without inf or NaN.
    const at::Tensor g = at::tensor({-200.0, -90.0, -20.0, -1e-8, 0.0, 1e-8, 20.0, 90.0, 200.0}, o);
    at::Tensor got = g.clone();
    gnn::kernels::silu_mul_(got, {});
    CHECK(at::isfinite(got).all().item<bool>());
    CHECK(at::allclose(got, at::silu(g), tol, 1e-30));
    // A two-dimensional, non-contiguous gate runs the ATen ops: the same values.
    const at::Tensor g2 = at::randn({40, 30}, o).t(), u2 = at::randn({30, 40}, o);
    at::Tensor got2 = g2.clone(at::MemoryFormat::Preserve);
    REQUIRE_FALSE(got2.is_contiguous());
    gnn::kernels::silu_mul_(got2, u2);
    CHECK(at::allclose(got2, at::silu(g2) * u2, tol, tol));
  }
  at::Tensor g = at::ones({4});
  CHECK_THROWS_AS(gnn::kernels::silu_mul_(g, at::ones({5})), Error);
  CHECK_THROWS_AS(gnn::kernels::silu_mul_(g, at::ones({4}, at::kDouble)), Error);
}

TEST_CASE("exp_inplace equals std::exp to float rounding", "[pointwise]") {
  for (int64_t n : {0, 1, 5, 15, 16, 17, 40, 1000}) {
    std::vector<float> x(n);
    for (int64_t i = 0; i < n; ++i) x[i] = -87.0f + 100.0f * float(i) / float(n > 1 ? n - 1 : 1);
    std::vector<float> y = x;
    gnn::kernels::cpu::exp_inplace(y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double ref = std::exp(double(x[i]));
      INFO("n " << n << " x " << x[i]);
      CHECK(std::abs(y[i] - ref) <= 1.5e-7 * ref);  // the AVX-512 path measured 1.19e-7 at most
    }
  }
  // The softmax's shifted scores are <= 0, down to -inf for a masked score: exp gives 0, not NaN.
  std::vector<float> z = {0.0f, -1e-3f, -104.0f, -std::numeric_limits<float>::infinity()};
  gnn::kernels::cpu::exp_inplace(z.data(), 4);
  CHECK(z[0] == 1.0f);
  CHECK(std::abs(z[1] - std::exp(-1e-3)) <= 1.5e-7);
  CHECK(z[2] == 0.0f);
  CHECK(z[3] == 0.0f);
  // Below the normal range the result rounds once into the denormals (vscalefps with AVX-512, two
  // exact powers of two with AVX2): within one denormal step of exp, not flushed to 0 (so this
  // fails under flush-to-zero, which tessera never sets).
  const std::vector<float> low = {-88.0f, -95.0f, -100.0f, -103.0f};
  std::vector<float> sub = low;
  gnn::kernels::cpu::exp_inplace(sub.data(), 4);
  for (int i = 0; i < 4; ++i) {
    const double ref = std::exp(double(low[i]));
    INFO("x " << low[i]);
    CHECK(std::abs(double(sub[i]) - ref) <= 1.5e-7 * ref + double(std::numeric_limits<float>::denorm_min()));
  }
  // Beyond the float range: inf, not a wrapped exponent; NaN stays NaN (a diverging rollout must
  // show as NaN, not as a number).
  std::vector<float> w = {89.0f, 100.0f, std::numeric_limits<float>::infinity(), std::nanf(""), 88.5f};
  gnn::kernels::cpu::exp_inplace(w.data(), 5);
  CHECK(std::isinf(w[0]));
  CHECK(std::isinf(w[1]));
  CHECK(std::isinf(w[2]));
  CHECK(std::isnan(w[3]));
  CHECK(std::abs(w[4] - std::exp(88.5)) <= 2.5e-7 * std::exp(88.5));
}

// Densely over the clamped range [-104, 89] and beyond, then every 4099th bit pattern (NaNs,
// infinities and denormals among them).
static std::vector<float> exponential_inputs() {
  std::vector<float> x;
  for (int64_t i = 0; i <= 400000; ++i) x.push_back(-110.0f + 205.0f * float(i) / 400000.0f);
  for (uint64_t b = 0; b < (uint64_t(1) << 32); b += 4099) {
    const uint32_t bits = uint32_t(b);
    float f;
    std::memcpy(&f, &bits, sizeof f);
    x.push_back(f);
  }
  return x;
}

// exp of those inputs by the AVX2 and by the AVX-512 path, each where this CPU has it.
struct BothExponentials {
  std::vector<float> x = exponential_inputs(), by2 = x, by512 = x;
  int64_t n = static_cast<int64_t>(x.size());
  bool has2 = gnn::kernels::cpu::exp_inplace_by(gnn::kernels::cpu::VectorIsa::avx2, by2.data(), n);
  bool has512 = gnn::kernels::cpu::exp_inplace_by(gnn::kernels::cpu::VectorIsa::avx512, by512.data(), n);
};

TEST_CASE("each vector exponential this CPU has is within 1.5e-7 of exp", "[pointwise]") {
  const BothExponentials e;
  const auto& [x, by2, by512, n, has2, has512] = e;
  // Each path this CPU has, whichever exp_inplace would pick: within 1.5e-7 of exp where the
  // result is a normal float (the AVX2 path runs on AVX-512 CPUs only here).
  for (const auto& [has, y] : {std::pair{has2, &by2}, std::pair{has512, &by512}}) {
    if (!has) continue;
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double ref = std::exp(double(x[i]));
      if (std::isnan(x[i]))
        bad += !std::isnan((*y)[i]);
      else if (ref >= double(std::numeric_limits<float>::min()) && ref <= double(std::numeric_limits<float>::max()))
        bad += std::abs(double((*y)[i]) - ref) > 1.5e-7 * ref;
    }
    CHECK(bad == 0);
  }
}

// Its own ctest entry (test_pointwise.avx512), reported as skipped, not passed, on CPUs without
// AVX-512: a model's results must not depend on which of the two paths a machine takes.
TEST_CASE("the AVX2 and AVX-512 exponentials give the same bits", "[avx512]") {
  using gnn::kernels::cpu::VectorIsa;
  const BothExponentials e;
  const auto& [x, by2, by512, n, has2, has512] = e;
  if (!(has2 && has512)) {
    std::printf("SKIPPED: this CPU lacks AVX2 or AVX-512: the two exponentials' bits are not compared\n");
    return;
  }
  int64_t differ = 0;
  for (int64_t i = 0; i < n; ++i)
    differ += std::isnan(by2[i]) != std::isnan(by512[i]) ||
              (!std::isnan(by2[i]) && std::memcmp(&by2[i], &by512[i], sizeof(float)) != 0);
  CHECK(differ == 0);
  // silu(g)·u by both: the same exponential, then the same division and product.
  const int64_t m = 100003;
  std::vector<float> g(m), u(m), s2(m), s512(m);
  for (int64_t i = 0; i < m; ++i) g[i] = -120.0f + 240.0f * float(i) / float(m), u[i] = 1.0f + float(i % 7);
  REQUIRE(gnn::kernels::cpu::silu_mul_by(VectorIsa::avx2, g.data(), u.data(), s2.data(), m));
  REQUIRE(gnn::kernels::cpu::silu_mul_by(VectorIsa::avx512, g.data(), u.data(), s512.data(), m));
  CHECK(std::memcmp(s2.data(), s512.data(), m * sizeof(float)) == 0);
}
