// Rollouts of a trained mesh simulator (train/evaluate.hpp): boundary nodes imposed, per-step and
// one-step errors, the streamed rollout equal to the collected one, divergence flagged.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <vector>

#include "tests/train/train_test_data.hpp"
#include "train/evaluate.hpp"
#include "train/trainer.hpp"

using namespace tessera;

TEST_CASE("rollouts impose boundary nodes and report per-step errors", "[train][rollout]") {
  io::Deck d = test::train_deck(
      "transformer", 200,
      {"train.lr=3e-3", "train.noise_std=0", "model.rope=true"});  // deterministic target; RoPE gives direction
  train::Trainer t(train::mesh_sim_options(d), nullptr);
  double first = 0, last = 0;
  for (int i = 0; i < 200; ++i) {
    const double loss = t.step();
    if (i < 10) first += loss / 10;
    if (i >= 190) last += loss / 10;
  }
  INFO("mean loss of the first 10 steps " << first << ", of the last 10 " << last);
  CHECK(last < 0.1 * first);
  const auto& traj = t.train_data()[0];
  auto r = train::rollout(t.model(), t.normalizers(), traj, 10);
  REQUIRE(r.predicted.size(0) == 11);
  REQUIRE(r.rmse.size() == 10);
  CHECK(at::equal(r.predicted[0], traj.velocity[0]));
  at::Tensor fixed = traj.fixed_mask;
  for (int s = 1; s <= 10; ++s) CHECK(at::equal(r.predicted[s].index({fixed}), traj.velocity[s].index({fixed})));
  CHECK(r.rmse_over(1) == Approx(r.rmse[0]));
  // stream_rollout hands the same states on in order, as they are made, and keeps none.
  std::vector<at::Tensor> handed;
  const auto streamed = train::stream_rollout(t.model(), t.normalizers(), traj, 10, Comm::self(),
                                              [&](int64_t k, const at::Tensor& state) {
                                                CHECK(k == static_cast<int64_t>(handed.size()));
                                                handed.push_back(state.clone());
                                              });
  CHECK_FALSE(streamed.predicted.defined());
  REQUIRE(handed.size() == 11);
  CHECK(at::equal(at::stack(handed), r.predicted));
  CHECK(streamed.rmse == r.rmse);
  CHECK(streamed.persistence_rmse == r.persistence_rmse);
  CHECK(streamed.non_finite_from == -1);
  int64_t reported = 0;  // the progress callback: once per trajectory, and the same errors
  auto one = train::one_step_error(t.model(), t.normalizers(), t.train_data(), 5, -1, [&] { ++reported; });
  CHECK(one.persistence_rmse > 0);
  CHECK(reported == static_cast<int64_t>(t.train_data().size()));
  CHECK(train::one_step_error(t.model(), t.normalizers(), t.train_data(), 5).model_rmse == one.model_rmse);
  // The 1-step RMSE from v_0 alone (a stride past the end) is the rollout's first-step RMSE: the
  // imposed nodes take the data's values in both (the model's outputs there are never trained).
  auto from_v0 = train::one_step_error(t.model(), t.normalizers(), {traj}, traj.steps());
  CHECK(from_v0.model_rmse == Approx(r.rmse[0]).epsilon(1e-5));
  CHECK(from_v0.persistence_rmse == Approx(r.persistence_rmse[0]).epsilon(1e-5));
  // A trained model's rollout is finite; one whose output layer overflows is flagged from step 1.
  CHECK(r.non_finite_from == -1);
  {
    at::NoGradGuard no_grad;
    for (auto& p : t.model().module().parameters()) p.fill_(3e38);
  }
  const auto diverged = train::rollout(t.model(), t.normalizers(), traj, 3);
  CHECK(diverged.non_finite_from == 1);
  const auto diverged_streamed =
      train::stream_rollout(t.model(), t.normalizers(), traj, 3, Comm::self(), [](int64_t, const at::Tensor&) {});
  CHECK(diverged_streamed.non_finite_from == 1);
}
