// Fine-tuning (train.init): a run starts from an earlier run's weights and normalisers with a
// fresh optimiser and step count; on a small synthetic dataset written by the test.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "io/deck.hpp"
#include "tests/synthetic_flow.hpp"
#include "tests/test_paths.hpp"
#include "train/checkpoint.hpp"
#include "train/mesh_sim_family.hpp"
#include "train/trained_on.hpp"
#include "train/trainer.hpp"

using namespace tessera;
static const std::string out = tessera::test::test_out() + "/fine_tune";

static io::Deck deck(const std::string& family, const std::vector<std::string>& extra = {}) {
  static const std::string data = [] {
    const std::string d = out + "/data";
    std::filesystem::remove_all(d);
    test::write_synthetic_dataset(d, 2, 1);
    return d;
  }();
  static io::Schema schema = [] {
    io::Schema s("tessera-train");
    train::add_training_keys(s, train::mesh_sim_families());
    return s;
  }();
  // No warm-up and no weight decay: the first AdamW step moves every parameter by lr * g / (|g| + eps).
  std::vector<std::string> ov{"data.dir=" + data, "model.family=" + family, "train.steps=100",
                              "model.latent=16",  "model.layers=2",         "train.warmup=0",
                              "train.lr=1e-3",    "train.weight_decay=0",   "output.dir=" + out};
  ov.insert(ov.end(), extra.begin(), extra.end());
  return io::Deck::parse("{}", "test.yaml", schema, ov);
}

using Params = std::vector<at::Tensor>;
static Params copy_parameters(train::Trainer& t) {
  Params p;
  for (const auto& x : t.model().module().parameters()) p.push_back(x.detach().clone());
  return p;
}

// Of the parameter entries that moved, the fraction whose change is lr to 1%: after one step of
// a fresh AdamW (bias-corrected m / sqrt(v) = g / (|g| + eps)) that is every entry with a gradient
// well above eps (entries without gradient do not move); an optimiser with history moves entries
// by varying amounts.
static double fraction_moved_by_lr(const Params& before, const Params& after, double lr) {
  int64_t hits = 0, moved = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    at::Tensor ratio = (after[i] - before[i]).abs() / lr;
    hits += ((ratio > 0.99) & (ratio < 1.001)).sum().item<int64_t>();
    moved += (ratio > 1e-3).sum().item<int64_t>();
  }
  UNSCOPED_INFO("entries moved by lr: " << hits << " of " << moved);
  return double(hits) / double(std::max<int64_t>(moved, 1));
}

TEST_CASE("train.init starts from a checkpoint's weights with a fresh optimiser", "[train][checkpoint]") {
  for (const std::string family : {"transformer", "meshgraphnet"}) {
    INFO(family);
    const std::string ck = out + "/base_" + family + ".h5";
    train::Trainer base(train::mesh_sim_options(deck(family)), nullptr);
    for (int i = 0; i < 4; ++i) base.step();
    base.save(ck);
    const Params trained = copy_parameters(base);

    train::Trainer tuned(train::mesh_sim_options(deck(family, {"train.init=" + ck})), nullptr);
    CHECK(tuned.steps_done() == 0);
    const Params start = copy_parameters(tuned);
    REQUIRE(start.size() == trained.size());
    for (size_t i = 0; i < start.size(); ++i) CHECK(at::equal(start[i], trained[i]));
    CHECK(at::equal(tuned.normalizers().node.sum, base.normalizers().node.sum));
    CHECK(at::equal(tuned.normalizers().target.sumsq, base.normalizers().target.sumsq));
    tuned.step();
    CHECK(fraction_moved_by_lr(start, copy_parameters(tuned), 1e-3) > 0.8);

    // Resuming the same checkpoint keeps AdamW's moments: its next step is not a first step.
    train::Trainer resumed(train::mesh_sim_options(deck(family, {"train.resume=" + ck})), nullptr);
    CHECK(resumed.steps_done() == 4);
    resumed.step();
    CHECK(fraction_moved_by_lr(trained, copy_parameters(resumed), 1e-3) < 0.1);

    // With both keys the resumed run's own state wins (a fine-tuning run that was interrupted).
    train::Trainer both(train::mesh_sim_options(deck(family, {"train.init=" + ck, "train.resume=" + ck})), nullptr);
    CHECK(both.steps_done() == 4);

    // The fine-tuned checkpoint records the data of the one it started from, through a resume
    // and a second fine-tuning.
    const std::string tuned_ck = out + "/tuned_" + family + ".h5", again_ck = out + "/again_" + family + ".h5";
    tuned.save(tuned_ck);
    const train::TrainedOn base_data = train::stored_trained_on(train::load_checkpoint(ck), ck);
    const train::TrainedOn tuned_data = train::stored_trained_on(train::load_checkpoint(tuned_ck), tuned_ck);
    REQUIRE(base_data.known());
    CHECK(base_data.before.empty());
    REQUIRE(tuned_data.before.size() == 1);
    CHECK(tuned_data.before[0].source == base_data.source);
    CHECK(tuned_data.before[0].fingerprints == base_data.fingerprints);
    train::Trainer tuned_resumed(train::mesh_sim_options(deck(family, {"train.resume=" + tuned_ck})), nullptr);
    tuned_resumed.save(again_ck);
    CHECK(train::stored_trained_on(train::load_checkpoint(again_ck), again_ck).before.size() == 1);
    train::Trainer tuned_twice(train::mesh_sim_options(deck(family, {"train.init=" + tuned_ck})), nullptr);
    tuned_twice.save(again_ck);
    CHECK(train::stored_trained_on(train::load_checkpoint(again_ck), again_ck).before.size() == 2);
  }
  const std::string ck = out + "/base_transformer.h5";
  CHECK_THROWS_WITH(train::Trainer(train::mesh_sim_options(deck("meshgraphnet", {"train.init=" + ck})), nullptr),
                    Catch::Contains("checkpoint of a 'transformer' model"));
  CHECK_THROWS_WITH(
      train::Trainer(train::mesh_sim_options(deck("transformer", {"train.init=" + ck, "model.latent=32"})), nullptr),
      Catch::Contains(ck) && Catch::Contains("its model was built with model.latent = 16, the deck gives 32; "
                                             "fine-tuning (train.init) keeps the model's architecture"));
  CHECK_THROWS_WITH(
      train::Trainer(train::mesh_sim_options(deck("transformer", {"train.init=" + out + "/missing.h5"})), nullptr),
      Catch::Contains("missing.h5"));
}
