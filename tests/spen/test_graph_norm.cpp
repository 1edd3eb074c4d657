// GraphNorm (gnn/graph_classifier) against its formula, values and gradients, and its round-off
// guard: a graph whose channel is constant up to a few ulps gives exactly beta, whichever the
// pattern of those ulps (GIN trained differently per rank count on that round-off's sign).
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <catch2/catch.hpp>
#include <utility>
#include <vector>

#include "gnn/graph_classifier.hpp"

using namespace tessera;

TEST_CASE(
    "GraphNorm: round-off on a constant graph does not reach the output; values and gradients otherwise as "
    "the formula",
    "[spen][gnn]") {
  // Graph 0 (4 rows) is constant per channel up to a few ulps, in two patterns (as matrix products
  // leave identical rows, by their place in the batch); graph 1 (3 rows) varies.
  const int64_t channels = 3;
  gnn::GraphNorm norm(channels);
  norm->to(at::kDouble);
  {
    at::NoGradGuard no_grad;
    norm->gamma.copy_(at::tensor({1.5, -0.5, 2.0}, at::kDouble));
    norm->beta.copy_(at::tensor({0.0, 0.1, -0.2}, at::kDouble));
  }
  const at::Tensor seg = at::tensor({0, 0, 0, 0, 1, 1, 1}, at::kLong);
  const at::Tensor varying = at::tensor({0.3, -1.0, 2.0, 0.9, 0.5, 1.0, -0.4, 0.2, 3.0}, at::kDouble).view({3, 3});
  const at::Tensor level = at::tensor({2.75, -13.0, 0.1}, at::kDouble);
  auto batch = [&](const std::vector<double>& ulps) {
    at::Tensor constant = level.repeat({4, 1});
    for (int64_t r = 0; r < 4; ++r) constant[r] = constant[r] * (1 + ulps[r] * 2.220446049250313e-16);
    return at::cat({constant, varying}).requires_grad_(true);
  };
  // The formula, with alpha = 1 (its initial value).
  auto reference = [&](const at::Tensor& h) {
    std::vector<at::Tensor> rows;
    for (const auto& [begin, end] : {std::pair<int64_t, int64_t>{0, 4}, {4, 7}}) {
      const at::Tensor g = h.slice(0, begin, end), c = g - g.mean(0, true);
      rows.push_back(norm->gamma * c / at::sqrt(c.square().mean(0, true) + 1e-5) + norm->beta);
    }
    return at::cat(rows);
  };
  const at::Tensor a = batch({1, -2, 0, 3}), b = batch({-1, 2, 1, -3});
  const at::Tensor ya = norm->forward(a, seg, 2), yb = norm->forward(b, seg, 2);
  // Round-off: the constant graph's output is beta exactly, in either pattern (the formula gives
  // about +-1e-13, of either sign, which the ReLU after the norm turns into open or closed gates).
  CHECK(at::equal(ya.slice(0, 0, 4), norm->beta.detach().expand({4, channels})));
  CHECK(at::equal(yb.slice(0, 0, 4), ya.slice(0, 0, 4)));
  const at::Tensor ra = reference(a);
  CHECK((ra.slice(0, 0, 4) - norm->beta).abs().max().item<double>() > 0);  // the formula's round-off
  CHECK(at::allclose(ya, ra, 0, 1e-10));
  // Gradients with respect to h and to the parameters: those of the formula.
  const at::Tensor upstream = at::randn({7, channels}, at::kDouble);
  const auto params = std::vector<at::Tensor>{a, norm->gamma, norm->beta, norm->alpha};
  const auto g = torch::autograd::grad({ya}, params, {upstream}, true);
  const auto r = torch::autograd::grad({ra}, params, {upstream}, true, false, true);
  for (size_t i = 0; i < 3; ++i) {
    INFO("gradient " << i);
    CHECK(at::allclose(g[i], r[i], 1e-8, 1e-8));
  }
  // alpha: the formula above fixes it at 1; its gradient is sum(gamma c' (-mean) / std), c' the
  // derivative of the output with respect to c: checked by a central difference instead.
  const double h = 1e-6;
  at::Tensor alpha0 = norm->alpha.detach().clone(), plus, minus;
  {
    at::NoGradGuard no_grad;
    norm->alpha.copy_(alpha0 + h);
    plus = norm->forward(a.detach(), seg, 2);
    norm->alpha.copy_(alpha0 - h);
    minus = norm->forward(a.detach(), seg, 2);
    norm->alpha.copy_(alpha0);
  }
  const at::Tensor fd = ((plus - minus) * upstream).sum(0) / (2 * h);
  CHECK(at::allclose(g[3], fd, 1e-5, 1e-5));
}
