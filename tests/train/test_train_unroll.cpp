// Long-rollout training: pushforward, k-step unrolled losses against a hand-written chain,
// temporal bundling, batched rollouts and bf16 autocast; on its own copy of the synthetic dataset.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "tests/test_paths.hpp"
#include "tests/train_fixture.hpp"
#include "train/checkpoint.hpp"
#include "train/evaluate.hpp"
#include "train/model_io.hpp"
#include "train/normalizer.hpp"
#include "train/trainer.hpp"

using namespace tessera;
static const std::string out = tessera::test::test_out() + "/train_unroll";

static const std::string& dataset() {
  static const std::string dir = test::fresh_synthetic_dataset(out + "/data");
  return dir;
}

static io::Deck deck(const std::string& family, int64_t steps, const std::vector<std::string>& extra = {}) {
  return test::small_training_deck(dataset(), out, family, steps, extra);
}

TEST_CASE("pushforward: inputs are the model's own predictions", "[train]") {
  // With every parameter zero the model predicts "no change", so the pushed-forward input is
  // v_{s-1} on free nodes and v_s on imposed ones. The node normaliser's velocity sums show which
  // input each trainer saw for the same drawn sample (batch 1, no noise).
  const io::Deck plain = deck("transformer", 8, {"train.noise_std=0", "train.batch=1"});
  const io::Deck pushed = deck("transformer", 8, {"train.noise_std=0", "train.batch=1", "train.pushforward=1"});
  train::Trainer a(train::mesh_sim_options(plain), nullptr), b(train::mesh_sim_options(pushed), nullptr);
  for (train::Trainer* t : {&a, &b}) {
    at::NoGradGuard no_grad;
    for (auto& p : t->model().module().parameters()) p.zero_();
  }
  a.step();
  b.step();
  const at::Tensor seen_plain = a.normalizers().node.sum.narrow(0, 0, 2),
                   seen_pushed = b.normalizers().node.sum.narrow(0, 0, 2);
  int found = 0;
  for (const auto& t : a.train_data())
    for (int64_t s = 1; s + 1 < t.steps(); ++s) {
      if (!at::allclose(t.velocity[s].to(at::kDouble).sum(0), seen_plain, 1e-12, 0)) continue;
      ++found;
      at::Tensor expected =
          at::where(t.fixed_mask.unsqueeze(1), t.velocity[s], t.velocity[s - 1]).to(at::kDouble).sum(0);
      INFO("step " << s << ": pushed input sums " << seen_pushed << ", expected " << expected);
      CHECK(at::allclose(seen_pushed, expected, 1e-12, 0));
    }
  CHECK(found == 1);
  // Resuming keeps the pushforward draws in step.
  const io::Deck d6 = deck("transformer", 6, {"train.pushforward=0.5"});
  train::Trainer straight(train::mesh_sim_options(d6), nullptr), first(train::mesh_sim_options(d6), nullptr);
  for (int i = 0; i < 6; ++i) straight.step();
  for (int i = 0; i < 3; ++i) first.step();
  first.save(out + "/half_pushforward.h5");
  const io::Deck resumed_deck =
      deck("transformer", 6, {"train.pushforward=0.5", "train.resume=" + out + "/half_pushforward.h5"});
  train::Trainer resumed(train::mesh_sim_options(resumed_deck), nullptr);
  for (int i = 0; i < 3; ++i) resumed.step();
  for (const auto& p : straight.model().module().named_parameters())
    CHECK(at::equal(p.value(), resumed.model().module().named_parameters()[p.key()]));
}

namespace {

// The k-step unrolled loss written out by hand: predictions chained with boundary nodes imposed,
// the last g steps' losses weighted by discount^(g - j) / sum, the earlier steps detached. With
// model.bundle K each pass predicts K steps (targets side by side) and its last one goes on.
at::Tensor hand_unrolled_loss(train::Trainer& trainer, const train::TrajectoryData& t, int64_t s, at::Tensor v,
                              int64_t k, int64_t g, double discount) {
  const train::Normalizers& n = trainer.normalizers();
  const int64_t K = trainer.model().bundle(), N = t.nodes();
  const double count = double(t.loss_mask.sum().item<int64_t>());
  std::vector<double> w;
  double sum = 0;
  for (int64_t j = 0; j < g; ++j) w.push_back(std::pow(discount, double(g - 1 - j))), sum += w.back();
  at::Tensor total = at::zeros({}, at::kFloat);
  for (int64_t j = 0; j < k; ++j) {
    if (j < k - g) v = v.detach();
    at::Tensor pred = trainer.model().forward(n.node.normalize(train::node_features(v, t)), t);
    const int64_t base = s + j * K;
    if (j >= k - g) {
      // [K, N, 2] -> [N, K, 2] -> [N, 2K]
      at::Tensor target = n.target.normalize(
          (t.velocity.narrow(0, base + 1, K) - v.unsqueeze(0)).permute({1, 0, 2}).reshape({N, 2 * K}));
      at::Tensor l = (pred - target).pow(2).sum(1).masked_select(t.loss_mask).sum() / count;
      total = total + l * (w[j - (k - g)] / sum);
    }
    at::Tensor last = n.target.inverse(pred).view({N, K, 2}).select(1, K - 1);
    v = at::where(t.fixed_mask.unsqueeze(1), t.velocity[base + K], v + last);
    if (j < k - g) v = v.detach();
  }
  return total;
}

std::vector<at::Tensor> gradients_of(train::Trainer& trainer, const at::Tensor& loss) {
  for (auto& p : trainer.model().module().parameters()) p.mutable_grad() = at::Tensor();
  loss.backward();
  std::vector<at::Tensor> g;
  for (auto& p : trainer.model().module().parameters()) g.push_back(p.grad().clone());
  return g;
}

bool all_close(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b, double rtol, double atol) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!at::allclose(a[i], b[i], rtol, atol)) return false;
  return true;
}

}  // namespace

TEST_CASE("unrolled training: loss and gradient equal the hand-written chain", "[train][unroll]") {
  const io::Deck d = deck("transformer", 8, {"train.noise_std=0", "train.unroll_discount=0.5"});
  train::Trainer trainer(train::mesh_sim_options(d), nullptr);
  trainer.step();  // normaliser statistics and parameters away from their initial values
  trainer.step();
  const train::TrajectoryData& t = trainer.train_data()[0];
  const int64_t s = 1;
  const at::Tensor v = t.velocity[s] + 0.01 * at::randn({t.nodes(), 2}) * (t.node_type == 0).unsqueeze(1);
  // k = 1 is next-step training.
  CHECK(trainer.sample_loss(t, s, v, 1, 1).item<double>() ==
        Approx(hand_unrolled_loss(trainer, t, s, v, 1, 1, 0.5).item<double>()).epsilon(1e-6));
  for (const int64_t g : {1, 2, 3}) {
    INFO("k = 3, gradient through the last " << g);
    at::Tensor ours = trainer.sample_loss(t, s, v, 3, g), hand = hand_unrolled_loss(trainer, t, s, v, 3, g, 0.5);
    CHECK(ours.item<double>() == Approx(hand.item<double>()).epsilon(1e-6));
    CHECK(all_close(gradients_of(trainer, ours), gradients_of(trainer, hand), 1e-4, 1e-7));
  }
  // Truncating the gradient changes it: the steps before the last carry part of it.
  const auto full = gradients_of(trainer, trainer.sample_loss(t, s, v, 3, 3)),
             last = gradients_of(trainer, hand_unrolled_loss(trainer, t, s, v, 3, 1, 1.0)),
             last_of_full = gradients_of(trainer, trainer.sample_loss(t, s, v, 3, 1));
  CHECK(all_close(last, last_of_full, 1e-4, 1e-7));
  CHECK_FALSE(all_close(full, last, 1e-2, 1e-5));
}

TEST_CASE("temporal bundling: loss, rollout and checkpoint", "[train][unroll]") {
  const io::Deck d = deck("transformer", 8, {"train.noise_std=0", "model.bundle=3", "train.unroll=2"});
  train::Trainer trainer(train::mesh_sim_options(d), nullptr);
  CHECK(trainer.model().bundle() == 3);
  for (int i = 0; i < 3; ++i) trainer.step();
  const train::TrajectoryData& t = trainer.train_data()[0];
  const at::Tensor v = t.velocity[1];
  for (const int64_t g : {1, 2}) {
    INFO("k = 2 passes of 3 steps, gradient through the last " << g);
    at::Tensor ours = trainer.sample_loss(t, 1, v, 2, g), hand = hand_unrolled_loss(trainer, t, 1, v, 2, g, 1.0);
    CHECK(ours.item<double>() == Approx(hand.item<double>()).epsilon(1e-6));
    CHECK(all_close(gradients_of(trainer, ours), gradients_of(trainer, hand), 1e-4, 1e-7));
  }
  // The rollout: one forward pass per three steps, each step from the pass's input state, the
  // boundary imposed on all three, the last one feeding the next pass; 7 steps = 3 + 3 + 1.
  at::NoGradGuard no_grad;
  const train::Normalizers& n = trainer.normalizers();
  const at::Tensor fixed = t.fixed_mask.unsqueeze(1);
  std::vector<at::Tensor> expected{t.velocity[0]};
  at::Tensor state = t.velocity[0];
  for (int pass = 0; pass < 3; ++pass) {
    at::Tensor delta = n.target.inverse(trainer.model().forward(n.node.normalize(train::node_features(state, t)), t));
    for (int64_t j = 0; j < 3 && int64_t(expected.size()) < 8; ++j) {
      const int64_t step = int64_t(expected.size());
      expected.push_back(at::where(fixed, t.velocity[step], state + delta.narrow(1, 2 * j, 2)));
    }
    state = expected.back();
  }
  const train::Rollout r = train::rollout(trainer.model(), n, t, 7);
  REQUIRE(r.predicted.size(0) == 8);
  CHECK(at::allclose(r.predicted, at::stack(expected), 1e-5, 1e-6));
  // One step and a bundle's steps from any state, against the same hand-built pass: step j is the
  // state plus the target's channels 2j, 2j + 1.
  {
    const at::Tensor v = t.velocity[2];
    const at::Tensor delta = n.target.inverse(trainer.model().forward(n.node.normalize(train::node_features(v, t)), t));
    CHECK(at::allclose(train::predict_next(trainer.model(), n, t, v), v + delta.narrow(1, 0, 2), 1e-6, 1e-7));
    const at::Tensor bundle = train::predict_bundle(trainer.model(), n, t, v);
    REQUIRE(bundle.size(0) == 3);
    for (int64_t j = 0; j < 3; ++j) CHECK(at::allclose(bundle[j], v + delta.narrow(1, 2 * j, 2), 1e-6, 1e-7));
  }
  // A checkpoint restores the bundling model and its 6-channel target normaliser.
  trainer.save(out + "/bundle.h5");
  train::TrainedModel m = train::load_trained_model(out + "/bundle.h5");
  CHECK(m.model->bundle() == 3);
  CHECK(m.norms.target.sum.size(0) == 6);
  CHECK(at::allclose(train::rollout(*m.model, m.norms, t, 7).predicted, r.predicted, 1e-6, 1e-7));
  // Normaliser statistics no training produces (no rows seen; a variance below zero) are refused.
  for (const char* damage : {"count", "sumsq"}) {
    train::Checkpoint c = train::load_checkpoint(out + "/bundle.h5");
    at::Tensor& x = c.tensors.at(std::string("norm.target.") + damage);
    x.fill_(std::string(damage) == "count" ? 0.0 : -1.0);
    const std::string damaged = out + "/bundle_damaged_" + damage + ".h5";
    train::save_checkpoint(damaged, c);
    CHECK_THROWS_WITH(train::load_trained_model(damaged),
                      Catch::Contains("normaliser 'target' holds statistics no training produces"));
  }
}

TEST_CASE("batched rollouts equal one-trajectory rollouts", "[train][batch]") {
  // Random jumps and dilation on: each part keeps its own augmented graphs, and no edge of the
  // union joins two trajectories.
  const io::Deck d = deck("transformer", 4,
                          {"augment.dilation=2", "model.dilation_layers=1", "augment.random_jumps.fraction=0.2",
                           "augment.global_nodes.types=[4]", "train.noise_std=0"});
  train::Trainer trainer(train::mesh_sim_options(d), nullptr);
  for (int i = 0; i < 2; ++i) trainer.step();
  const auto& parts = trainer.train_data();
  REQUIRE(parts.size() == 3);
  const train::TrajectoryData batch = train::batch_trajectories(parts);
  CHECK(batch.batch_offsets == std::vector<int64_t>{0, parts[0].nodes(), parts[0].nodes() + parts[1].nodes(),
                                                    parts[0].nodes() + parts[1].nodes() + parts[2].nodes()});
  // The union's CSR equals the one built from the offset edge lists of the parts.
  mesh::Graph joined;
  for (const auto& p : parts) {
    const int64_t off = joined.num_nodes, e0 = int64_t(joined.src.size());
    const at::Tensor s = p.attention.src, t = p.attention.dst, ptr = p.attention.dst_ptr;
    for (int64_t e = 0; e < s.numel(); ++e) {
      joined.src.push_back(s[e].item<int64_t>() + off);
      joined.dst.push_back(t[e].item<int64_t>() + off);
    }
    if (joined.row_ptr.empty()) joined.row_ptr.push_back(0);
    for (int64_t i = 1; i <= p.nodes(); ++i) joined.row_ptr.push_back(ptr[i].item<int64_t>() + e0);
    joined.num_nodes += p.nodes();
  }
  const gnn::EdgeIndex ref = gnn::EdgeIndex::from_graph(joined);
  for (auto [a, b] : {std::pair{batch.attention.src, ref.src},
                      {batch.attention.dst, ref.dst},
                      {batch.attention.dst_ptr, ref.dst_ptr},
                      {batch.attention.src_perm, ref.src_perm},
                      {batch.attention.src_ptr, ref.src_ptr}})
    CHECK(at::equal(a, b));
  const train::Rollout together = train::rollout(trainer.model(), trainer.normalizers(), batch, 9);
  for (size_t b = 0; b < parts.size(); ++b) {
    INFO("trajectory " << b);
    const train::Rollout alone = train::rollout(trainer.model(), trainer.normalizers(), parts[b], 9);
    CHECK(at::allclose(together.predicted.narrow(1, batch.batch_offsets[b], parts[b].nodes()), alone.predicted, 1e-5,
                       1e-6));
  }
}

TEST_CASE("unrolled training: curriculum, noise_gamma, resume, bad settings", "[train][unroll]") {
  train::UnrollOptions u;
  u.steps = 4;
  u.grad_steps = 2;
  u.ramp = 30;
  CHECK(u.length_at(0) == 1);
  CHECK(u.grad_steps_at(0) == 1);
  CHECK(u.length_at(10) == 2);  // 1 + 3 * 10 / 30
  CHECK(u.length_at(29) == 3);
  CHECK(u.length_at(30) == 4);
  CHECK(u.grad_steps_at(30) == 2);
  CHECK(u.length_at(1000) == 4);

  // noise_gamma = 0: the target is the clean increment v_{s+1} - v_s of the drawn sample; with
  // noise_gamma = 1 (the default) it is v_{s+1} minus the noisy input, which matches no clean one.
  for (const double gamma : {0.0, 1.0}) {
    INFO("noise_gamma " << gamma);
    const io::Deck dg =
        deck("transformer", 4, {"train.noise_std=0.1", "train.batch=1", "train.noise_gamma=" + std::to_string(gamma)});
    train::Trainer tr(train::mesh_sim_options(dg), nullptr);
    tr.step();
    const at::Tensor seen = tr.normalizers().target.sum;
    int found = 0;
    for (const auto& t : tr.train_data())
      for (int64_t s = 0; s + 1 < t.steps(); ++s)
        found += at::allclose((t.velocity[s + 1] - t.velocity[s]).to(at::kDouble).sum(0), seen, 1e-5, 1e-4);
    CHECK(found == (gamma == 0 ? 1 : 0));
  }

  // Resume stays exact with an unroll curriculum (the length follows the restored step count).
  const std::vector<std::string> un{"train.unroll=3", "train.unroll_grad=2", "train.unroll_ramp=4"};
  train::Trainer straight(train::mesh_sim_options(deck("transformer", 6, un)), nullptr),
      first(train::mesh_sim_options(deck("transformer", 6, un)), nullptr);
  for (int i = 0; i < 6; ++i) straight.step();
  for (int i = 0; i < 3; ++i) first.step();
  first.save(out + "/half_unroll.h5");
  auto resumed_overrides = un;
  resumed_overrides.push_back("train.resume=" + out + "/half_unroll.h5");
  train::Trainer resumed(train::mesh_sim_options(deck("transformer", 6, resumed_overrides)), nullptr);
  for (int i = 0; i < 3; ++i) resumed.step();
  for (const auto& p : straight.model().module().named_parameters())
    CHECK(at::equal(p.value(), resumed.model().module().named_parameters()[p.key()]));

  CHECK_THROWS_WITH(train::mesh_sim_options(deck("transformer", 4, {"train.unroll=2", "train.unroll_grad=3"})),
                    Catch::Contains("train.unroll_grad") && Catch::Contains("exceeds train.unroll (2)"));
  CHECK_THROWS_WITH(train::mesh_sim_options(deck("transformer", 4, {"train.unroll_discount=0"})),
                    Catch::Contains("train.unroll_discount"));
}

TEST_CASE("bf16 mixed precision trains on CPU like fp32", "[train][amp]") {
  for (const std::string family : {"transformer", "meshgraphnet"}) {
    INFO(family);
    const std::vector<std::string> fast{"train.lr=3e-3", "train.noise_std=0"};  // as in the rollout test
    const io::Deck d32 = deck(family, 100, fast), d16 = deck(family, 100,
                                                             {"train.lr=3e-3", "train.noise_std=0",
                                                              "train.precision=bf16"});  // trainers keep a reference
    train::Trainer fp32(train::mesh_sim_options(d32), nullptr), bf16(train::mesh_sim_options(d16), nullptr);
    std::vector<double> a, b;
    for (int i = 0; i < 100; ++i) {
      a.push_back(fp32.step());
      b.push_back(bf16.step());
    }
    // Step 1 starts from identical parameters: the losses differ by bf16 rounding alone, which
    // shows autocast was on and that it stays accurate.
    const double first = std::abs(b[0] - a[0]) / a[0];
    INFO("step 1 losses: fp32 " << a[0] << ", bf16 " << b[0]);
    CHECK(first > 0);
    CHECK(first < 0.05);
    double la = 0, lb = 0;
    for (int i = 90; i < 100; ++i) la += a[i] / 10, lb += b[i] / 10;
    INFO("mean loss of steps 91-100: fp32 " << la << ", bf16 " << lb);
    CHECK(lb < 0.5 * b[0]);
    CHECK(std::abs(lb - la) < 0.25 * la);
    for (const auto& p : bf16.model().module().parameters()) CHECK(p.scalar_type() == at::kFloat);
  }
}
