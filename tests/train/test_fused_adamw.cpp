// train::FusedAdamW (ATen's fused AdamW kernel behind torch::optim::AdamW's interface) against
// libtorch's own AdamW, step by step, and its state through a checkpoint.
#include <ATen/ATen.h>
#include <torch/ordered_dict.h>

#include <catch2/catch.hpp>

#include "train/fused_adamw.hpp"
#include "train/optimizer_state.hpp"

using namespace tessera;

namespace {

// A weight matrix, a bias and a 3-d tensor; the bias gets no gradient on every third step.
std::vector<at::Tensor> fresh_parameters(at::ScalarType dtype) {
  at::manual_seed(3);
  std::vector<at::Tensor> ps{at::randn({37, 19}), at::randn({19}), at::randn({2, 5, 7})};
  for (auto& p : ps) p = p.to(dtype).requires_grad_();
  return ps;
}

torch::optim::AdamWOptions options() { return torch::optim::AdamWOptions(3e-3).betas({0.9, 0.95}).weight_decay(0.1); }

// Step s's gradients: the same for every optimiser under test, large and small entries mixed.
void set_gradients(std::vector<at::Tensor>& ps, int s) {
  at::manual_seed(100 + s);
  for (size_t i = 0; i < ps.size(); ++i) {
    if (i == 1 && s % 3 == 2) {
      ps[i].mutable_grad() = at::Tensor();
      continue;
    }
    ps[i].mutable_grad() = at::randn(ps[i].sizes(), ps[i].options()) * std::pow(10.0, double(s % 4) - 2);
  }
}

void run(torch::optim::Optimizer& opt, std::vector<at::Tensor>& ps, int from, int to) {
  for (int s = from; s < to; ++s) {
    for (auto& g : opt.param_groups())  // a changing learning rate, as the schedule sets it
      static_cast<torch::optim::AdamWOptions&>(g.options()).lr(3e-3 * (1.0 + 0.5 * std::cos(s)));
    set_gradients(ps, s);
    opt.step();
  }
}

}  // namespace

TEST_CASE("FusedAdamW takes the steps of torch::optim::AdamW", "[fused_adamw]") {
  for (auto dtype : {at::kFloat, at::kDouble}) {
    auto a = fresh_parameters(dtype), b = fresh_parameters(dtype);
    torch::optim::AdamW reference(a, options());
    train::FusedAdamW fused(b, options());
    run(reference, a, 0, 40);
    run(fused, b, 0, 40);
    const double rtol = dtype == at::kFloat ? 2e-5 : 1e-12, atol = dtype == at::kFloat ? 1e-6 : 1e-14;
    for (size_t i = 0; i < a.size(); ++i) {
      INFO("parameter " << i << ", " << dtype);
      CHECK(!at::equal(a[i], fresh_parameters(dtype)[i]));  // it moved
      CHECK(at::allclose(a[i], b[i], rtol, atol));
      const auto& sa = static_cast<torch::optim::AdamWParamState&>(*reference.state().at(a[i].unsafeGetTensorImpl()));
      const auto& sb = static_cast<torch::optim::AdamWParamState&>(*fused.state().at(b[i].unsafeGetTensorImpl()));
      CHECK(sa.step() == sb.step());
      CHECK(sb.step() == (i == 1 ? 27 : 40));  // the bias had no gradient on 13 of the 40 steps
      CHECK(at::allclose(sa.exp_avg(), sb.exp_avg(), rtol, atol));
      CHECK(at::allclose(sa.exp_avg_sq(), sb.exp_avg_sq(), rtol, atol));
    }
  }
}

TEST_CASE("FusedAdamW's first step is lr * g / (|g| + eps) after the decay", "[fused_adamw]") {
  // Bias-corrected first moments are g and g²: an independent closed form, not another optimiser.
  auto ps = fresh_parameters(at::kDouble);
  const auto p0 = ps[0].detach().clone();
  train::FusedAdamW fused(ps, options());
  set_gradients(ps, 0);
  fused.step();
  const auto g = ps[0].grad();
  const auto expected = p0 * (1 - 3e-3 * 0.1) - 3e-3 * g / (g.abs() + 1e-8);
  CHECK(at::allclose(ps[0], expected, 1e-12, 1e-14));
}

TEST_CASE("FusedAdamW resumes bit for bit from its checkpointed state", "[fused_adamw]") {
  auto straight = fresh_parameters(at::kFloat), resumed = fresh_parameters(at::kFloat);
  train::FusedAdamW one(straight, options());
  run(one, straight, 0, 25);

  train::FusedAdamW first(resumed, options());
  run(first, resumed, 0, 12);
  train::NamedParameters named;
  for (size_t i = 0; i < resumed.size(); ++i) named.insert(std::string(1, char('a' + i)), resumed[i]);
  train::Checkpoint c;
  train::pack_adamw_state(c, named, first);
  train::FusedAdamW second(resumed, options());  // a fresh optimiser, as after a restart
  train::unpack_adamw_state(c, "memory", named, second);
  run(second, resumed, 12, 25);
  for (size_t i = 0; i < straight.size(); ++i) CHECK(at::equal(straight[i], resumed[i]));
}

TEST_CASE("FusedAdamW takes moments of any layout (the kernel reads them flat)", "[fused_adamw]") {
  // The weight's moments replaced by column-major copies of themselves (same values, other strides),
  // as a state restored by other code might hold: the next steps equal those of untouched moments.
  auto a = fresh_parameters(at::kFloat), b = fresh_parameters(at::kFloat);
  train::FusedAdamW one(a, options()), two(b, options());
  run(one, a, 0, 5);
  run(two, b, 0, 5);
  auto& s = static_cast<torch::optim::AdamWParamState&>(*two.state().at(b[0].unsafeGetTensorImpl()));
  s.exp_avg(s.exp_avg().t().contiguous().t());
  s.exp_avg_sq(s.exp_avg_sq().t().contiguous().t());
  REQUIRE(!s.exp_avg().is_contiguous());
  run(one, a, 5, 10);
  run(two, b, 5, 10);
  for (size_t i = 0; i < a.size(); ++i) CHECK(at::equal(a[i], b[i]));
}

TEST_CASE("FusedAdamW takes AdamW's own path for non-contiguous parameters and amsgrad", "[fused_adamw]") {
  for (bool amsgrad : {false, true}) {
    auto make = [&] {
      at::manual_seed(5);
      std::vector<at::Tensor> ps{at::randn({6, 4}), amsgrad ? at::randn({4, 6}) : at::randn({4, 6}).t()};
      for (auto& p : ps) p.requires_grad_();
      return ps;
    };
    auto a = make(), b = make();
    torch::optim::AdamW reference(a, options().amsgrad(amsgrad));
    train::FusedAdamW fused(b, options().amsgrad(amsgrad));
    for (int s = 0; s < 5; ++s) {
      at::manual_seed(s);
      for (size_t i = 0; i < a.size(); ++i) {
        a[i].mutable_grad() = at::randn(a[i].sizes());
        b[i].mutable_grad() = a[i].grad().clone();
      }
      reference.step();
      fused.step();
    }
    for (size_t i = 0; i < a.size(); ++i) CHECK(at::equal(a[i], b[i]));
  }
}
