// The fused tanh-jet step (physics/fused_tanh_jet.hpp) against the op-by-op Taylor jet of
// taylor_mlp.hpp (itself tested against autograd): values and parameter gradients of a loss of all
// four jet members, fp64, random networks and points.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <numbers>

#include "physics/fused_tanh_jet.hpp"
#include "physics/taylor_mlp.hpp"

using namespace tessera::physics;

TEST_CASE("the fused tanh jet equals the op-by-op Taylor jet, values and gradients", "[jet]") {
  const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);
  for (int seed : {1, 2}) {
    at::manual_seed(seed);
    TanhMlp net(TanhMlpOptions{16, 3, 2});
    net->to(at::kDouble);
    const at::Tensor t = at::rand({200}, f64), x = at::rand({200}, f64) * 4 * std::numbers::pi - std::numbers::pi;
    auto loss_of = [](const Jet1D& j) {
      return (j.u.pow(2) + 0.3 * j.u_t * j.u_x + j.u_xx.pow(2) - j.u_xx * j.u).sum();
    };
    const Jet1D a = net->jet(t, x);
    const Jet1D b = tanh_mlp_jet_fused(net->weights(), net->biases(), t, x);
    for (auto m : {&Jet1D::u, &Jet1D::u_t, &Jet1D::u_x, &Jet1D::u_xx})
      CHECK(((a.*m) - (b.*m)).abs().max().item<double>() < 1e-12);
    auto grads = [&](const Jet1D& j) {
      for (auto& p : net->parameters()) p.mutable_grad() = at::Tensor();
      loss_of(j).backward();
      std::vector<at::Tensor> g;
      for (auto& p : net->parameters()) g.push_back(p.grad().clone());
      return g;
    };
    const auto ga = grads(a), gb = grads(b);
    double worst = 0, scale = 0;
    for (size_t i = 0; i < ga.size(); ++i) {
      worst = std::max(worst, (ga[i] - gb[i]).abs().max().item<double>());
      scale = std::max(scale, ga[i].abs().max().item<double>());
    }
    INFO("max gradient difference " << worst << " (scale " << scale << ")");
    CHECK(scale > 1e-3);
    CHECK(worst < 1e-12 * scale);
  }
}
