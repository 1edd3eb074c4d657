// The fused tanh-jet step (physics/fused_tanh_jet.hpp) against the op-by-op Taylor jet of
// taylor_mlp.hpp (itself tested against autograd): values and parameter gradients of a loss of all
// four jet members (and of the members a shorter jet carries), and the directional jet against
// u_t + speed·u_x of the same; fp64, random networks and points. The fp32 path (its own tanh) against
// the fp64 op-by-op jet of the same network.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <numbers>

#include "physics/fused_tanh_jet.hpp"
#include "physics/taylor_mlp.hpp"

using namespace tessera::physics;

namespace {

// The parameter gradients of a scalar loss of the network's outputs.
std::vector<at::Tensor> parameter_gradients(TanhMlp& net, const at::Tensor& loss) {
  for (auto& p : net->parameters()) p.mutable_grad() = at::Tensor();
  loss.backward();
  std::vector<at::Tensor> g;
  for (auto& p : net->parameters()) g.push_back(p.grad().clone());
  return g;
}

// Checks two gradient lists agree to 1e-12 of the reference's largest entry (which must matter).
void check_same_gradients(const std::vector<at::Tensor>& reference, const std::vector<at::Tensor>& fused) {
  double worst = 0, scale = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    worst = std::max(worst, (reference[i] - fused[i]).abs().max().item<double>());
    scale = std::max(scale, reference[i].abs().max().item<double>());
  }
  INFO("max gradient difference " << worst << " (scale " << scale << ")");
  CHECK(scale > 1e-3);
  CHECK(worst < 1e-12 * scale);
}

}  // namespace

TEST_CASE("the fused tanh jet equals the op-by-op Taylor jet, values and gradients", "[jet]") {
  const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);
  // 200 points: one block of the whole-network node; 4500: four blocks of 1125.
  for (auto [seed, points] : {std::pair{1, 200}, std::pair{2, 4500}})
    for (JetOrder order : {JetOrder::Time, JetOrder::First, JetOrder::Second}) {
      at::manual_seed(seed);
      TanhMlp net(TanhMlpOptions{16, 3, 2});
      net->to(at::kDouble);
      const at::Tensor t = at::rand({points}, f64),
                       x = at::rand({points}, f64) * 4 * std::numbers::pi - std::numbers::pi;
      const int channels = static_cast<int>(order);
      INFO("seed " << seed << ", " << channels << " channels");
      // A loss of the members this order carries (each with a weight, so every one matters).
      auto loss_of = [&](const Jet1D& j) {
        at::Tensor l = (j.u.pow(2) + 0.7 * j.u_t * j.u).sum();
        if (channels >= 3) l = l + (0.3 * j.u_t * j.u_x).sum();
        if (channels == 4) l = l + (j.u_xx.pow(2) - j.u_xx * j.u).sum();
        return l;
      };
      const Jet1D a = net->jet(t, x);
      const Jet1D b = tanh_mlp_jet_fused(net->weights(), net->biases(), t, x, order);
      const std::vector<at::Tensor Jet1D::*> members = {&Jet1D::u, &Jet1D::u_t, &Jet1D::u_x, &Jet1D::u_xx};
      for (int m = 0; m < 4; ++m) {
        CHECK((b.*members[m]).defined() == (m < channels));
        if (m < channels) CHECK(((a.*members[m]) - (b.*members[m])).abs().max().item<double>() < 1e-12);
      }
      check_same_gradients(parameter_gradients(net, loss_of(a)), parameter_gradients(net, loss_of(b)));
    }
}

TEST_CASE("the directional jet is u_t + speed u_x of the op-by-op jet, values and gradients", "[jet]") {
  const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);
  for (auto [seed, points] : {std::pair{3, 200}, std::pair{4, 4500}})
    for (double speed : {0.0, 2.5, -70.0}) {
      at::manual_seed(seed);
      TanhMlp net(TanhMlpOptions{16, 3, 2});
      net->to(at::kDouble);
      const at::Tensor t = at::rand({points}, f64),
                       x = at::rand({points}, f64) * 4 * std::numbers::pi - std::numbers::pi;
      INFO("seed " << seed << ", speed " << speed);
      const Jet1D a = net->jet(t, x);
      const at::Tensor along = a.u_t + speed * a.u_x;
      const DirectionalJet b = tanh_mlp_directional_fused(net->weights(), net->biases(), t, x, speed);
      const double size = along.abs().max().item<double>();
      CHECK(size > 1e-3);
      CHECK((a.u - b.u).abs().max().item<double>() < 1e-12);
      CHECK((along - b.du).abs().max().item<double>() < 1e-12 * (1 + size));
      // A loss of both members (the residual's square and a term in u), its parameter gradients.
      auto loss = [](const at::Tensor& u, const at::Tensor& du) { return (du.pow(2) + 0.7 * du * u + u.pow(2)).sum(); };
      check_same_gradients(parameter_gradients(net, loss(a.u, along)), parameter_gradients(net, loss(b.u, b.du)));
    }
}

TEST_CASE("the fused jet gives the same bits on 1 and 2 threads (blocks split over threads)", "[jet]") {
  const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);
  const int threads_before = at::get_num_threads();
  at::manual_seed(5);
  TanhMlp net(TanhMlpOptions{16, 3, 2});
  net->to(at::kDouble);
  // 9000 points: eight blocks, so each thread takes several and the gradients sum over all of them.
  const at::Tensor t = at::rand({9000}, f64), x = at::rand({9000}, f64) * 2 * std::numbers::pi;
  std::vector<at::Tensor> values[2], gradients[2];
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    const Jet1D j = tanh_mlp_jet_fused(net->weights(), net->biases(), t, x, JetOrder::Second);
    values[threads - 1] = {j.u.detach(), j.u_t.detach(), j.u_x.detach(), j.u_xx.detach()};
    gradients[threads - 1] = parameter_gradients(net, (j.u.pow(2) + j.u_t * j.u_x + j.u_xx.pow(2)).sum());
  }
  at::set_num_threads(threads_before);
  for (size_t m = 0; m < 4; ++m) CHECK(at::equal(values[0][m], values[1][m]));
  REQUIRE(gradients[0].size() == gradients[1].size());
  for (size_t i = 0; i < gradients[0].size(); ++i) CHECK(at::equal(gradients[0][i], gradients[1][i]));
  // The gradients are not trivially equal: every parameter's is non-zero.
  for (const at::Tensor& g : gradients[0]) CHECK(g.abs().max().item<double>() > 1e-6);
}

TEST_CASE("the fp32 fused jet agrees with the fp64 op-by-op jet to fp32 accuracy", "[jet]") {
  // The fp32 path has its own tanh (Eigen's rational form, in the same pass as the jet step), and
  // the first layer's product its own loop; the fp64 op-by-op jet of the same weights is the
  // reference. A wrong jet formula would be off by O(1), fp32 rounding by ~1e-6.
  const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);
  for (JetOrder order : {JetOrder::Time, JetOrder::First, JetOrder::Second}) {
    at::manual_seed(6);
    TanhMlp net(TanhMlpOptions{16, 3, 2});
    net->to(at::kDouble);
    const at::Tensor t = at::rand({4500}, f64), x = at::rand({4500}, f64) * 2 * std::numbers::pi;
    const int channels = static_cast<int>(order);
    INFO(channels << " channels");
    auto loss_of = [&](const Jet1D& j) {
      at::Tensor l = (j.u.pow(2) + 0.7 * j.u_t * j.u).sum();
      if (channels >= 3) l = l + (0.3 * j.u_t * j.u_x).sum();
      if (channels == 4) l = l + (j.u_xx.pow(2) - j.u_xx * j.u).sum();
      return l;
    };
    // The reference, with the gradient w.r.t. the points x as well (the input jet's gradient).
    const at::Tensor x64 = x.clone().requires_grad_(true);
    const Jet1D a = net->jet(t, x64);
    std::vector<at::Tensor> reference = parameter_gradients(net, loss_of(a));
    reference.push_back(x64.grad().clone());
    // The same in fp32.
    TanhMlp net32(TanhMlpOptions{16, 3, 2});
    {
      at::NoGradGuard no_grad;
      for (size_t i = 0; i < net->parameters().size(); ++i) net32->parameters()[i].copy_(net->parameters()[i]);
    }
    const at::Tensor x32 = x.to(at::kFloat).requires_grad_(true);
    const Jet1D b = tanh_mlp_jet_fused(net32->weights(), net32->biases(), t.to(at::kFloat), x32, order);
    REQUIRE(b.u.scalar_type() == at::kFloat);
    const std::vector<at::Tensor Jet1D::*> members = {&Jet1D::u, &Jet1D::u_t, &Jet1D::u_x, &Jet1D::u_xx};
    for (int m = 0; m < channels; ++m) {
      const double scale = (a.*members[m]).abs().max().item<double>(),
                   error = ((a.*members[m]) - (b.*members[m]).to(at::kDouble)).abs().max().item<double>();
      INFO("member " << m << ": error " << error << ", scale " << scale);
      CHECK(scale > 1e-3);
      CHECK(error < 1e-5 * scale);
    }
    std::vector<at::Tensor> fp32 = parameter_gradients(net32, loss_of(b));
    fp32.push_back(x32.grad().clone());
    REQUIRE(fp32.size() == reference.size());
    for (size_t i = 0; i < reference.size(); ++i) {
      const double scale = reference[i].abs().max().item<double>(),
                   error = (reference[i] - fp32[i].to(at::kDouble)).abs().max().item<double>();
      INFO("gradient " << i << ": error " << error << ", scale " << scale);
      CHECK(scale > 1e-3);
      CHECK(error < 1e-4 * scale);
    }
  }
}
