// Training machinery: normaliser statistics, the learning-rate schedule, bad decks and data; on a
// small synthetic dataset written by the program (tests/train/train_test_data.hpp). Checkpoints
// and resumes: test_checkpoint.cpp; rollouts: test_rollout.cpp.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/schema.hpp"
#include "tests/train/train_test_data.hpp"
#include "train/family.hpp"
#include "train/mesh_sim_family.hpp"
#include "train/model_io.hpp"
#include "train/normalizer.hpp"
#include "train/schedule.hpp"
#include "train/trainer.hpp"

using namespace tessera;

TEST_CASE("normaliser statistics equal direct mean and std", "[train]") {
  train::Normalizer n("x", 3, 2);
  at::Tensor a = at::randn({50, 3}, at::kDouble) * 3 + 1, b = at::randn({30, 3}, at::kDouble),
             c = at::randn({10, 3}, at::kDouble);
  n.accumulate(a);
  n.accumulate(b);
  n.accumulate(c);  // past max_accumulations: ignored
  at::Tensor all = at::cat({a, b});
  CHECK(at::allclose(n.mean(), all.mean(0), 1e-12, 1e-12));
  CHECK(at::allclose(n.std(), all.std(0, /*unbiased=*/false), 1e-10, 1e-12));
  CHECK(at::allclose(n.inverse(n.normalize(a)), a, 1e-12, 1e-12));
  CHECK_THROWS(n.accumulate(at::zeros({2, 4})));
}

TEST_CASE("cosine schedule with warm-up", "[train]") {
  CHECK(train::cosine_warmup_lr(0, 1.0, 0.0, 10, 110) == Approx(0.1));
  CHECK(train::cosine_warmup_lr(9, 1.0, 0.0, 10, 110) == Approx(1.0));
  CHECK(train::cosine_warmup_lr(10, 1.0, 0.0, 10, 110) == Approx(1.0));
  CHECK(train::cosine_warmup_lr(60, 1.0, 0.1, 10, 110) == Approx(0.55));
  CHECK(train::cosine_warmup_lr(110, 1.0, 0.1, 10, 110) == Approx(0.1));
  CHECK(train::cosine_warmup_lr(500, 1.0, 0.1, 10, 110) == Approx(0.1));
}

TEST_CASE("under a time budget the decay follows time or steps, whichever is further along", "[train]") {
  CHECK(train::schedule_step(50, 10, 110, -1) == 50);    // no budget: the step
  CHECK(train::schedule_step(5, 10, 110, 0.9) == 5);     // warm-up is by steps
  CHECK(train::schedule_step(20, 10, 110, 0.5) == 60);   // slow machine: half the time used
  CHECK(train::schedule_step(90, 10, 110, 0.5) == 90);   // fast machine: the steps lead
  CHECK(train::schedule_step(20, 10, 110, 1.5) == 110);  // past the limit: the end of the decay
  CHECK(train::cosine_warmup_lr(train::schedule_step(110, 10, 110, 0.2), 1.0, 0.1, 10, 110) == Approx(0.1));
  // Resumed at position 60 (the previous run's budget had pushed it there by step 20): never
  // behind it, and the new budget spans the rest of the decay, 60 .. 110.
  CHECK(train::schedule_step(21, 10, 110, 0.0, 60) == 60);
  CHECK(train::schedule_step(21, 10, 110, 0.5, 60) == 85);
  CHECK(train::schedule_step(21, 10, 110, 1.0, 60) == 110);
  CHECK(train::schedule_step(21, 10, 110, -1, 60) == 60);  // resumed without a budget
  CHECK(train::schedule_step(70, 10, 110, -1, 60) == 70);
  CHECK(train::schedule_step(21, 10, 110, 0.5, 5) == 60);  // a position inside warm-up: as fresh
}

TEST_CASE("a family registry with a duplicate name or a missing callback is refused by name", "[train]") {
  const std::vector<train::Family> good = train::mesh_sim_families();
  auto refused = [](std::vector<train::Family> families, const std::string& why) {
    io::Schema s("test");
    CHECK_THROWS_WITH(train::add_training_keys(s, families), Catch::Contains(why));
  };
  std::vector<train::Family> twice = good;
  twice.push_back(good[0]);  // a family of one's own registered under a built-in's name
  refused(twice, "the name '" + good[0].name + "' is registered twice (entries 0 and 2)");
  std::vector<train::Family> no_learner = good;
  no_learner[1].make_learner = nullptr;
  refused(no_learner, "family " + good[1].name + " has neither make_learner nor train");
  std::vector<train::Family> no_prepare = good;
  no_prepare[0].prepare_evaluation = nullptr;
  if (no_prepare[0].add_eval_keys) refused(no_prepare, "has add_eval_keys but no prepare_evaluation");
  std::vector<train::Family> unnamed = good;
  unnamed[0].name = "";
  refused(unnamed, "entry 0 has the name ''");
  refused({}, "no model family is registered");
  std::vector<train::Family> threads = good;
  threads[0].threads_key = "model.nowhere";
  refused(threads, "threads_key model.nowhere is not one of its keys");
  std::vector<train::Family> no_keys = good;
  no_keys[0].add_keys = nullptr;  // a family may have no keys of its own
  io::Schema s("test");
  CHECK_NOTHROW(train::add_training_keys(s, no_keys));
}

TEST_CASE("bad training decks", "[train]") {
  CHECK_THROWS_WITH(
      train::Trainer(train::mesh_sim_options(test::train_deck("transformer", 4, {"model.heads=3"})), nullptr),
      Catch::Contains("model.heads: must divide model.latent (16)"));
  CHECK_THROWS_WITH(
      train::Trainer(train::mesh_sim_options(test::train_deck("transformer", 4, {"data.dir=/nonexistent"})), nullptr),
      Catch::Contains("/nonexistent: no such folder; a tessera dataset is"));
  CHECK_THROWS_WITH(
      train::Trainer(train::mesh_sim_options(test::train_deck("transformer", 4, {"train.device=gpu"})), nullptr),
      Catch::Contains("train.device: unknown device 'gpu' (expected cpu, cuda, cuda:N or auto)"));
  // An index too long for an int (std::stoi threw out_of_range: an "internal error").
  CHECK_THROWS_WITH(
      train::Trainer(train::mesh_sim_options(test::train_deck("transformer", 4, {"train.device=cuda:99999999999"})),
                     nullptr),
      Catch::Contains("unknown device 'cuda:99999999999'"));
  // A device that is well formed but absent is found when the trainer starts: the error carries
  // its key, which the app frame locates in the deck.
  try {
    train::Trainer(train::mesh_sim_options(test::train_deck("transformer", 4, {"train.device=cuda:99"})), nullptr);
    FAIL("cuda:99 was accepted");
  } catch (const Error& e) {
    CHECK(e.key() == "train.device");
    CHECK_THAT(e.what(), Catch::Contains("device 'cuda:99': ") && Catch::Contains("visible"));
  }
  // Keys of the other family are rejected, naming the family they belong to.
  CHECK_THROWS_WITH(test::train_deck("meshgraphnet", 4, {"model.heads=4"}),
                    Catch::Contains("model.heads: belongs to model.family: transformer, not 'meshgraphnet'"));
}

TEST_CASE("non-finite data and weights are named when loaded", "[train]") {
  // A NaN in the validation split: the error names the file, the trajectory, the field and where.
  const std::string dir = test::train_out() + "/nan_data";
  std::filesystem::remove_all(dir);
  test::write_synthetic_dataset(dir, 2, 1);
  // The validation split as one trajectory, replaced by each case below.
  auto write_valid = [&](const io::DatasetMeta& meta, const io::Trajectory& t) {
    io::DatasetWriter w(dir, "valid", meta);
    w.write(0, t);
    w.finish();
  };
  {
    io::Trajectory t = test::synthetic_trajectory(12, 4, 20, 0.1, 0.0);
    const int64_t nodes = int64_t(t["velocity"].shape[1]);
    t["velocity"].f32[(3 * nodes + 5) * 2 + 1] = std::numeric_limits<float>::quiet_NaN();  // step 3, node 5, v_y
    write_valid(io::DatasetMeta::cylinder_flow(20, 0.05), t);
  }
  CHECK_THROWS_WITH(
      train::Trainer(train::mesh_sim_options(test::train_deck("transformer", 2, {"data.dir=" + dir})), nullptr),
      Catch::Contains("valid.h5 trajectory 0: field 'velocity' holds a non-finite value (nan at step 3, "
                      "node 5)"));
  // A cell naming a node the mesh lacks: one error, not a read out of bounds (it crashed once).
  {
    io::Trajectory t = test::synthetic_trajectory(12, 4, 20, 0.1, 0.0);
    t["cells"].i32[4] = 1 << 30;
    write_valid(io::DatasetMeta::cylinder_flow(20, 0.05), t);
  }
  CHECK_THROWS_WITH(
      train::Trainer(train::mesh_sim_options(test::train_deck("transformer", 2, {"data.dir=" + dir})), nullptr),
      Catch::Contains("valid.h5 trajectory 0: cell 1 references node 1073741824, but the mesh has"));
  // meta.json declaring mesh_pos int32 (a hand-written dataset's slip): one error, not a read of
  // values that were never filled (it crashed).
  {
    auto meta = io::DatasetMeta::cylinder_flow(20, 0.05);
    for (auto& f : meta.fields)
      if (f.name == "mesh_pos") f.dtype = "int32";
    io::Trajectory t = test::synthetic_trajectory(12, 4, 20, 0.1, 0.0);
    io::FieldData& pos = t["mesh_pos"];
    pos.i32.assign(pos.f32.begin(), pos.f32.end());
    pos.f32.clear();
    write_valid(meta, t);
  }
  CHECK_THROWS_WITH(
      train::Trainer(train::mesh_sim_options(test::train_deck("transformer", 2, {"data.dir=" + dir})), nullptr),
      Catch::Contains(".h5 trajectory 0: field 'mesh_pos' is int32 in the dataset's meta.json; "
                      "tessera's mesh datasets store it as float32"));
  // Weights that went non-finite are refused by the rollout side with the parameter's name.
  train::Trainer t(train::mesh_sim_options(test::train_deck("transformer", 2)), nullptr);
  {
    at::NoGradGuard no_grad;
    t.model().module().named_parameters()[0].value().fill_(std::numeric_limits<float>::infinity());
  }
  const std::string ckpt = test::train_out() + "/inf_weights.h5";
  t.save(ckpt);
  CHECK_THROWS_WITH(train::load_trained_model(ckpt),
                    Catch::Contains("inf_weights.h5: parameter ") && Catch::Contains(" holds non-finite values"));
  // Another family's checkpoint (tessera-hybrid said its stored deck's model.family was wrong).
  train::Checkpoint other = train::load_checkpoint(ckpt);
  other.attributes["family"] = "stagger";
  train::save_checkpoint(test::train_out() + "/stagger_family.h5", other);
  CHECK_THROWS_WITH(train::load_trained_model(test::train_out() + "/stagger_family.h5"),
                    Catch::EndsWith("stagger_family.h5: a checkpoint of a 'stagger' model; this needs a mesh simulator "
                                    "(transformer, meshgraphnet)"));
}
