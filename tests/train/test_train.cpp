// Training machinery: normaliser statistics, learning-rate schedule, checkpoints, exact resume,
// rollouts, bad decks and data; on a small synthetic dataset written by the test (its folder is
// also the apps' tests' training data, fixture train_data).
#include <ATen/ATen.h>
#include <hdf5.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "io/deck.hpp"
#include "tests/file_size_limit.hpp"
#include "tests/test_paths.hpp"
#include "tests/train_fixture.hpp"
#include "train/checkpoint.hpp"
#include "train/evaluate.hpp"
#include "train/model_io.hpp"
#include "train/normalizer.hpp"
#include "train/schedule.hpp"
#include "train/trainer.hpp"

using namespace tessera;
static const std::string out = tessera::test::test_out() + "/train";

static const std::string& dataset() {
  static const std::string dir = [] {
    // Beside it, for app.rollout.one_state (fixture train_data): trajectories of one state.
    std::filesystem::remove_all(out + "/one_state");
    test::write_synthetic_dataset(out + "/one_state", 1, 1, 1);
    return test::fresh_synthetic_dataset(out + "/data");
  }();
  return dir;
}

static io::Deck deck(const std::string& family, int64_t steps, const std::vector<std::string>& extra = {}) {
  return test::small_training_deck(dataset(), out, family, steps, extra);
}

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

TEST_CASE("checkpoint files restore tensors bit for bit", "[train][checkpoint]") {
  train::Checkpoint c;
  c.tensors["a.weight"] = at::randn({3, 4});
  c.tensors["b"] = at::randn({5}, at::kDouble);
  c.tensors["n"] = at::tensor({int64_t(7)});
  c.tensors["s"] = at::scalar_tensor(2.5, at::kDouble);
  c.tensors["r"] = at::randint(0, 255, {9}, at::kByte);
  c.attributes["step"] = "12";
  train::save_checkpoint(out + "/ck.h5", c);
  CHECK_FALSE(std::filesystem::exists(out + "/ck.h5.tmp"));
  train::Checkpoint r = train::load_checkpoint(out + "/ck.h5");
  REQUIRE(r.tensors.size() == c.tensors.size());
  for (const auto& [k, t] : c.tensors) {
    INFO(k);
    CHECK(r.tensors[k].sizes() == t.sizes());
    CHECK(at::equal(r.tensors[k], t));
  }
  CHECK(r.attributes["step"] == "12");
  CHECK_THROWS_WITH(train::load_checkpoint(out + "/none.h5"),
                    Catch::EndsWith("none.h5: file not found (tessera-train writes its checkpoint as "
                                    "<output.dir>/checkpoint.h5, or in a fold's or case's folder below it)"));
  // The state dict for PyTorch that training writes beside it, given by mistake: the hint names the .h5.
  std::ofstream(out + "/ck.pt") << "PK\x03\x04 (a zip archive, as torch.save writes)";
  CHECK_THROWS_WITH(
      train::load_checkpoint(out + "/ck.pt"),
      Catch::EndsWith("(a .pt beside a checkpoint holds its parameters for PyTorch; tessera reads the .h5)"));
  // A save that fails half-way (the disk full; a tensor it cannot store): an error, and the
  // previous checkpoint still in place, with no temporary beside it.
  train::Checkpoint big = c;
  big.tensors["model.big"] = at::randn({1 << 20});  // 4 MB
  {
    tessera::test::FileSizeLimit full(1 << 20);
    CHECK_THROWS_WITH(train::save_checkpoint(out + "/ck.h5", big),
                      Catch::Contains("ck.h5.tmp: writing") && Catch::Contains("bytes failed: File too large"));
  }
  CHECK_FALSE(std::filesystem::exists(out + "/ck.h5.tmp"));
  train::Checkpoint bad = c;
  bad.tensors["z.half"] = at::ones({4}, at::kHalf);  // after the others (sorted): written last
  CHECK_THROWS_WITH(train::save_checkpoint(out + "/ck.h5", bad), Catch::Contains("unsupported dtype"));
  CHECK_FALSE(std::filesystem::exists(out + "/ck.h5.tmp"));
  const train::Checkpoint kept = train::load_checkpoint(out + "/ck.h5");
  CHECK(kept.tensors.size() == c.tensors.size());
  CHECK(at::equal(kept.tensors.at("a.weight"), c.tensors.at("a.weight")));
}

TEST_CASE("checkpoints come with a PyTorch state_dict of the model parameters", "[train][checkpoint]") {
  // interop.state_dict (tests/interop/check_state_dict.py) loads state_dict/ck.pt with Python's
  // torch.load and compares it with expected.txt, written here.
  const std::string dir = tessera::test::test_out() + "/state_dict";
  std::filesystem::create_directories(dir);
  train::Checkpoint c;
  c.tensors["model.encoder.0.weight"] = at::randn({3, 4});
  c.tensors["model.scale"] = at::randn({5}, at::kDouble);
  c.tensors["model.count"] = at::tensor({int64_t(7), int64_t(-2)});
  c.tensors["optim.encoder.0.weight.exp_avg"] = at::randn({3, 4});  // not a parameter: left out
  train::save_checkpoint(dir + "/ck.h5", c);
  CHECK(train::state_dict_path(dir + "/ck.h5") == dir + "/ck.pt");
  CHECK(std::filesystem::exists(dir + "/ck.pt"));
  CHECK_FALSE(std::filesystem::exists(dir + "/ck.pt.tmp"));
  std::string text;
  for (const auto& [name, t] : c.tensors) {
    if (name.rfind("model.", 0) != 0) continue;
    const at::Tensor d = t.to(at::kDouble).contiguous().view({-1});
    text += cat(name.substr(6), " ", c10::toString(t.scalar_type()), " ", t.dim());
    for (int64_t s : t.sizes()) text += cat(" ", s);
    for (int64_t i = 0; i < d.numel(); ++i) {
      char b[40];
      std::snprintf(b, sizeof b, " %.17g", d[i].item<double>());
      text += b;
    }
    text += "\n";
  }
  core::write_text_atomic(dir + "/expected.txt", text);
}

TEST_CASE("N + N resumed steps equal 2N steps", "[train][checkpoint]") {
  for (const std::string family : {"transformer", "meshgraphnet"}) {
    INFO(family);
    io::Deck d6 = deck(family, 6);
    train::Trainer straight(train::mesh_sim_options(d6), nullptr);
    for (int i = 0; i < 6; ++i) straight.step();
    train::Trainer first(train::mesh_sim_options(d6), nullptr);
    for (int i = 0; i < 3; ++i) first.step();
    first.save(out + "/half_" + family + ".h5");
    io::Deck resumed_deck = deck(family, 6, {"train.resume=" + out + "/half_" + family + ".h5"});
    train::Trainer resumed(train::mesh_sim_options(resumed_deck), nullptr);
    CHECK(resumed.steps_done() == 3);
    for (int i = 0; i < 3; ++i) resumed.step();
    auto a = straight.model().module().named_parameters(), b = resumed.model().module().named_parameters();
    REQUIRE(a.size() == b.size());
    for (const auto& p : a) {
      INFO(p.key());
      CHECK(at::equal(p.value(), b[p.key()]));
    }
    CHECK(at::equal(straight.normalizers().target.sum, resumed.normalizers().target.sum));
  }
  io::Deck other = deck("meshgraphnet", 6, {"train.resume=" + out + "/half_transformer.h5"});
  CHECK_THROWS_WITH(train::Trainer(train::mesh_sim_options(other), nullptr),
                    Catch::Contains("checkpoint of a 'transformer' model"));
}

TEST_CASE("a run resumed under a time budget continues its learning-rate decay", "[train][checkpoint]") {
  // 3 of 22 steps (warm-up 2) with 80% of a budget used by the third: its position is
  // 2 + 0.8 x 20 = 18, and the checkpoint stores the next step's, 19.
  io::Deck d = deck("transformer", 22);
  train::Trainer first(train::mesh_sim_options(d), nullptr);
  for (int i = 0; i < 3; ++i) {
    first.set_time_fraction(i < 2 ? 0.0 : 0.8);
    first.step();
  }
  const std::string path = out + "/budget.h5";
  first.save(path);
  CHECK(train::load_checkpoint(path).attributes.at("schedule_step") == "19");
  // The resumed run's budget starts at 0: its first step is at position 19 (the step count alone
  // would put it back at 3), and half its budget reaches 19 + 0.5 x (22 - 19) = 20.
  train::Trainer resumed(train::mesh_sim_options(deck("transformer", 22, {"train.resume=" + path})), nullptr);
  resumed.set_time_fraction(0.0);
  resumed.step();
  resumed.save(out + "/budget_resumed.h5");
  CHECK(train::load_checkpoint(out + "/budget_resumed.h5").attributes.at("schedule_step") == "20");
  resumed.set_time_fraction(0.5);
  resumed.step();
  resumed.save(out + "/budget_resumed.h5");
  CHECK(train::load_checkpoint(out + "/budget_resumed.h5").attributes.at("schedule_step") == "21");
  // Without a budget the position is the step count: "N + N resumed steps equal 2N steps" holds,
  // and checkpoints written before the attribute existed (falling back to the step) resume alike.
  train::Trainer plain(train::mesh_sim_options(deck("transformer", 22)), nullptr);
  plain.step();
  plain.save(out + "/plain.h5");
  CHECK(train::load_checkpoint(out + "/plain.h5").attributes.at("schedule_step") == "1");
  // A damaged attribute is named, not a conversion's exception.
  const std::string damaged = out + "/budget_damaged.h5";
  const auto resume = [&](const std::string& p) {
    return std::make_unique<train::Trainer>(train::mesh_sim_options(deck("transformer", 22, {"train.resume=" + p})),
                                            nullptr);
  };
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"schedule_step", "ten"}, {"schedule_step", "-1"}, {"step", "3x"}, {"step", ""}}) {
    train::Checkpoint c = train::load_checkpoint(path);
    c.attributes[key] = value;
    train::save_checkpoint(damaged, c);
    CHECK_THROWS_WITH(resume(damaged),
                      Catch::Contains(cat(key, " = '", value, "' is not a non-negative whole number")));
  }
  train::Checkpoint c = train::load_checkpoint(path);
  c.attributes.erase("step");
  train::save_checkpoint(damaged, c);
  CHECK_THROWS_WITH(resume(damaged), Catch::Contains("budget_damaged.h5: checkpoint has no attribute step"));
  // Written before schedule_step was stored: resumes at its step (3), so the next step is 4.
  c = train::load_checkpoint(path);
  c.attributes.erase("schedule_step");
  train::save_checkpoint(damaged, c);
  auto older = resume(damaged);
  older->step();
  older->save(damaged);
  CHECK(train::load_checkpoint(damaged).attributes.at("schedule_step") == "4");
  // Tensors of the wrong shape are named before libtorch meets them (it threw from inside).
  c = train::load_checkpoint(path);
  c.tensors["norm.node.sum"] = at::zeros({5}, at::kDouble);
  train::save_checkpoint(damaged, c);
  CHECK_THROWS_WITH(resume(damaged), Catch::Contains("normaliser tensor 'norm.node.sum' has shape [5], the deck's "
                                                     "model needs [") &&
                                         Catch::Contains("the checkpoint is damaged"));
  c = train::load_checkpoint(path);
  c.tensors["rng.sampler"] = at::zeros({3}, at::kByte);
  train::save_checkpoint(damaged, c);
  CHECK_THROWS_WITH(resume(damaged), Catch::Contains("tensor 'rng.sampler' holds 3 values of Byte, a sampler state "
                                                     "is "));
  // Damaged AdamW moments: a wrong shape, a NaN, a negative second moment, one of the three missing.
  std::string moment;
  for (const auto& [name, t] : train::load_checkpoint(path).tensors)
    if (name.rfind("optim.", 0) == 0 && name.size() > 8 && name.substr(name.size() - 8) == ".exp_avg") moment = name;
  REQUIRE_FALSE(moment.empty());
  const std::string base = moment.substr(0, moment.size() - 8);
  c = train::load_checkpoint(path);
  c.tensors[moment] = at::zeros({3, 16});
  train::save_checkpoint(damaged, c);
  CHECK_THROWS_WITH(resume(damaged), Catch::Contains(cat("optimiser tensor '", moment, "' has shape [3, 16]")));
  c = train::load_checkpoint(path);
  c.tensors[moment] = c.tensors[moment].clone().fill_(NAN);
  train::save_checkpoint(damaged, c);
  CHECK_THROWS_WITH(resume(damaged), Catch::Contains(cat("optimiser tensor '", moment, "' holds non-finite values")));
  c = train::load_checkpoint(path);
  c.tensors[base + ".exp_avg_sq"] = c.tensors[base + ".exp_avg_sq"].clone().fill_(-1);
  train::save_checkpoint(damaged, c);
  CHECK_THROWS_WITH(resume(damaged), Catch::Contains("_sq' holds negative or non-finite values"));
  c = train::load_checkpoint(path);
  c.tensors.erase(moment);
  train::save_checkpoint(damaged, c);
  CHECK_THROWS_WITH(resume(damaged), Catch::Contains(cat("checkpoint lacks tensor '", moment, "'")));
}

TEST_CASE("a checkpoint of another layout version is refused", "[train][checkpoint]") {
  const std::string path = out + "/format.h5";
  train::Checkpoint c;
  c.tensors["model.w"] = at::ones({2});
  c.attributes["format"] = "ignored";  // save_checkpoint writes its own
  train::save_checkpoint(path, c);
  CHECK(train::load_checkpoint(path).attributes.at("format") == train::kCheckpointFormat);
  // The attribute rewritten as a later version would write it (raw HDF5: tessera writes none such).
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(f >= 0);
    REQUIRE(H5Adelete(f, "format") >= 0);
    const std::string v = "tessera-checkpoint-2";
    const hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
    H5Tset_size(type, v.size() + 1);
    const hid_t a = H5Acreate2(f, "format", type, space, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(H5Awrite(a, type, v.c_str()) >= 0);
    H5Aclose(a), H5Sclose(space), H5Tclose(type), H5Fclose(f);
  }
  CHECK_THROWS_WITH(train::load_checkpoint(path),
                    Catch::Contains("format.h5: checkpoint format 'tessera-checkpoint-2', but this build reads "
                                    "'tessera-checkpoint-1'"));
}

TEST_CASE("checkpoint attributes are read as numbers or refused by name", "[train][checkpoint]") {
  const std::map<std::string, std::string> a{{"n", "42"},     {"x", "2.5e-3"}, {"neg", "-1"},
                                             {"word", "ten"}, {"inf", "inf"},  {"tail", "7 "}};
  CHECK(train::attribute_count(a, "f.h5", "n") == 42);
  CHECK(train::attribute_real(a, "f.h5", "x") == 2.5e-3);
  CHECK(train::attribute_real(a, "f.h5", "neg") == -1.0);
  CHECK_THROWS_WITH(train::attribute_count(a, "f.h5", "neg"), Catch::Contains("f.h5: checkpoint attribute neg = '-1'"));
  CHECK_THROWS_WITH(train::attribute_count(a, "f.h5", "tail"), Catch::Contains("tail = '7 '"));
  CHECK_THROWS_WITH(train::attribute_count(a, "f.h5", "x"), Catch::Contains("x = '2.5e-3'"));
  CHECK_THROWS_WITH(train::attribute_real(a, "f.h5", "word"), Catch::Contains("word = 'ten' is not a finite number"));
  CHECK_THROWS_WITH(train::attribute_real(a, "f.h5", "inf"), Catch::Contains("is not a finite number"));
  CHECK_THROWS_WITH(train::attribute_count(a, "f.h5", "missing"),
                    Catch::Contains("f.h5: checkpoint has no attribute missing"));
}

TEST_CASE("rollouts impose boundary nodes and report per-step errors", "[train][rollout]") {
  io::Deck d =
      deck("transformer", 200,
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
  CHECK(streamed.first_non_finite_step() == -1);
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
  CHECK(r.first_non_finite_step() == -1);
  {
    at::NoGradGuard no_grad;
    for (auto& p : t.model().module().parameters()) p.fill_(3e38);
  }
  const auto diverged = train::rollout(t.model(), t.normalizers(), traj, 3);
  CHECK(diverged.first_non_finite_step() == 1);
  const auto diverged_streamed =
      train::stream_rollout(t.model(), t.normalizers(), traj, 3, Comm::self(), [](int64_t, const at::Tensor&) {});
  CHECK(diverged_streamed.first_non_finite_step() == 1);
}

TEST_CASE("bad training decks", "[train]") {
  CHECK_THROWS_WITH(train::Trainer(train::mesh_sim_options(deck("transformer", 4, {"model.heads=3"})), nullptr),
                    Catch::Contains("model.heads: must divide model.latent (16)"));
  CHECK_THROWS_WITH(train::Trainer(train::mesh_sim_options(deck("transformer", 4, {"data.dir=/nonexistent"})), nullptr),
                    Catch::Contains("/nonexistent: no such folder; a tessera dataset is"));
  CHECK_THROWS_WITH(train::Trainer(train::mesh_sim_options(deck("transformer", 4, {"train.device=gpu"})), nullptr),
                    Catch::Contains("train.device: unknown device 'gpu' (expected cpu, cuda, cuda:N or auto)"));
  // An index too long for an int (std::stoi threw out_of_range: an "internal error").
  CHECK_THROWS_WITH(
      train::Trainer(train::mesh_sim_options(deck("transformer", 4, {"train.device=cuda:99999999999"})), nullptr),
      Catch::Contains("unknown device 'cuda:99999999999'"));
  // A device that is well formed but absent is found when the trainer starts: the error carries
  // its key, which the app frame locates in the deck.
  try {
    train::Trainer(train::mesh_sim_options(deck("transformer", 4, {"train.device=cuda:99"})), nullptr);
    FAIL("cuda:99 was accepted");
  } catch (const Error& e) {
    CHECK(e.key() == "train.device");
    CHECK_THAT(e.what(), Catch::Contains("device 'cuda:99': ") && Catch::Contains("visible"));
  }
  // Keys of the other family are rejected, naming the family they belong to.
  CHECK_THROWS_WITH(deck("meshgraphnet", 4, {"model.heads=4"}),
                    Catch::Contains("model.heads: belongs to model.family: transformer, not 'meshgraphnet'"));
}

TEST_CASE("non-finite data and weights are named when loaded", "[train]") {
  // A NaN in the validation split: the error names the file, the trajectory, the field and where.
  const std::string dir = out + "/nan_data";
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
  CHECK_THROWS_WITH(train::Trainer(train::mesh_sim_options(deck("transformer", 2, {"data.dir=" + dir})), nullptr),
                    Catch::Contains("valid.h5 trajectory 0: field 'velocity' holds a non-finite value (nan at step 3, "
                                    "node 5)"));
  // A cell naming a node the mesh lacks: one error, not a read out of bounds (it crashed once).
  {
    io::Trajectory t = test::synthetic_trajectory(12, 4, 20, 0.1, 0.0);
    t["cells"].i32[4] = 1 << 30;
    write_valid(io::DatasetMeta::cylinder_flow(20, 0.05), t);
  }
  CHECK_THROWS_WITH(train::Trainer(train::mesh_sim_options(deck("transformer", 2, {"data.dir=" + dir})), nullptr),
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
  CHECK_THROWS_WITH(train::Trainer(train::mesh_sim_options(deck("transformer", 2, {"data.dir=" + dir})), nullptr),
                    Catch::Contains(".h5 trajectory 0: field 'mesh_pos' is int32 in the dataset's meta.json; "
                                    "tessera's mesh datasets store it as float32"));
  // Weights that went non-finite are refused by the rollout side with the parameter's name.
  train::Trainer t(train::mesh_sim_options(deck("transformer", 2)), nullptr);
  {
    at::NoGradGuard no_grad;
    t.model().module().named_parameters()[0].value().fill_(std::numeric_limits<float>::infinity());
  }
  const std::string ckpt = out + "/inf_weights.h5";
  t.save(ckpt);
  CHECK_THROWS_WITH(train::load_trained_model(ckpt),
                    Catch::Contains("inf_weights.h5: parameter ") && Catch::Contains(" holds non-finite values"));
  // Another family's checkpoint (tessera-hybrid said its stored deck's model.family was wrong).
  train::Checkpoint other = train::load_checkpoint(ckpt);
  other.attributes["family"] = "stagger";
  train::save_checkpoint(out + "/stagger_family.h5", other);
  CHECK_THROWS_WITH(train::load_trained_model(out + "/stagger_family.h5"),
                    Catch::EndsWith("stagger_family.h5: a checkpoint of a 'stagger' model; this needs a mesh simulator "
                                    "(transformer, meshgraphnet)"));
}

TEST_CASE("checkpoints carry the training data's dt; other steps are warned about", "[train][checkpoint]") {
  // The synthetic dataset is written with dt = 0.05 (tests/synthetic_flow.hpp).
  train::Trainer t(train::mesh_sim_options(deck("transformer", 1)), nullptr);
  t.step();
  const std::string ckpt = out + "/data_dt.h5";
  t.save(ckpt);
  CHECK(train::load_checkpoint(ckpt).attributes.at("data_dt") == "0.05");
  const train::TrainedModel m = train::load_trained_model(ckpt);
  CHECK(m.data_dt == 0.05);
  CHECK(train::dt_mismatch_warning(m.data_dt, 0.05, "x.h5 #0").empty());
  CHECK(train::dt_mismatch_warning(m.data_dt, 0.05 * (1 + 1e-12), "x.h5 #0").empty());  // rounding in other writers
  // float32 time stamps (0.0500000007) against the same dt given as import.dt: the importer's 1e-6.
  CHECK(train::dt_mismatch_warning(m.data_dt, double(0.05f), "x.h5 #0").empty());
  CHECK(!train::dt_mismatch_warning(m.data_dt, 0.05 * (1 + 2e-6), "x.h5 #0").empty());
  CHECK(train::dt_mismatch_warning(m.data_dt, 0.01, "x.h5 #0") ==
        "the model was trained on steps of dt = 0.05, but x.h5 #0 has dt = 0.01: each predicted step still advances "
        "the training data's dt");
  // Checkpoints written before the attribute existed: nothing to compare with, no warning.
  train::Checkpoint c = train::load_checkpoint(ckpt);
  c.attributes.erase("data_dt");
  train::save_checkpoint(out + "/no_data_dt.h5", c);
  const train::TrainedModel old = train::load_trained_model(out + "/no_data_dt.h5");
  CHECK(old.data_dt == 0);
  CHECK(train::dt_mismatch_warning(old.data_dt, 0.01, "x.h5 #0").empty());
  // Resuming or fine-tuning on data with another dt warns (and names the checkpoint).
  c.attributes["data_dt"] = "0.01";
  train::save_checkpoint(out + "/other_data_dt.h5", c);
  {
    const io::Deck fine_tune = deck("transformer", 2, {"train.init=" + out + "/other_data_dt.h5"});
    train::Trainer t2(train::mesh_sim_options(fine_tune),
                      core::make_logger("dt", Comm::self(), {"warn", out + "/dt_log"}));  // flushed per message
  }
  std::ifstream log_file(out + "/dt_log/dt.rank0.log");
  const std::string logged((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  CHECK_THAT(logged, Catch::Contains("other_data_dt.h5: the model was trained on steps of dt = 0.01, but ") &&
                         Catch::Contains("(data.dir) has dt = 0.05"));
  c.attributes["data_dt"] = "-1";
  train::save_checkpoint(out + "/bad_data_dt.h5", c);
  CHECK_THROWS_WITH(train::load_trained_model(out + "/bad_data_dt.h5"),
                    Catch::Contains("bad_data_dt.h5: checkpoint attribute data_dt = '-1' is not a positive number"));
}
