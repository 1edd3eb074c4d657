// Checkpoints of the mesh simulators: files that restore tensors bit for bit (and refuse a failed
// or damaged save), the PyTorch state_dict beside them, exact resume (N + N steps equal 2N, also
// under a time budget), layout versions, attributes, and the training data's dt they carry.
#include <ATen/ATen.h>
#include <hdf5.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/exact_text.hpp"
#include "core/log.hpp"
#include "tests/file_size_limit.hpp"
#include "tests/train/train_test_data.hpp"
#include "train/checkpoint.hpp"
#include "train/evaluate.hpp"
#include "train/model_io.hpp"
#include "train/trainer.hpp"

using namespace tessera;

TEST_CASE("checkpoint files restore tensors bit for bit", "[train][checkpoint]") {
  train::Checkpoint c;
  c.tensors["a.weight"] = at::randn({3, 4});
  c.tensors["b"] = at::randn({5}, at::kDouble);
  c.tensors["n"] = at::tensor({int64_t(7)});
  c.tensors["s"] = at::scalar_tensor(2.5, at::kDouble);
  c.tensors["r"] = at::randint(0, 255, {9}, at::kByte);
  c.attributes["step"] = "12";
  train::save_checkpoint(test::train_out() + "/ck.h5", c);
  CHECK_FALSE(std::filesystem::exists(test::train_out() + "/ck.h5.tmp"));
  train::Checkpoint r = train::load_checkpoint(test::train_out() + "/ck.h5");
  REQUIRE(r.tensors.size() == c.tensors.size());
  for (const auto& [k, t] : c.tensors) {
    INFO(k);
    CHECK(r.tensors[k].sizes() == t.sizes());
    CHECK(at::equal(r.tensors[k], t));
  }
  CHECK(r.attributes["step"] == "12");
  CHECK_THROWS_WITH(train::load_checkpoint(test::train_out() + "/none.h5"),
                    Catch::EndsWith("none.h5: file not found (tessera-train writes its checkpoint as "
                                    "<output.dir>/checkpoint.h5, or in a fold's or case's folder below it)"));
  // The state dict for PyTorch that training writes beside it, given by mistake: the hint names the .h5.
  std::ofstream(test::train_out() + "/ck.pt") << "PK\x03\x04 (a zip archive, as torch.save writes)";
  CHECK_THROWS_WITH(
      train::load_checkpoint(test::train_out() + "/ck.pt"),
      Catch::EndsWith("(a .pt beside a checkpoint holds its parameters for PyTorch; tessera reads the .h5)"));
  // A save that fails half-way (the disk full; a tensor it cannot store): an error, and the
  // previous checkpoint still in place, with no temporary beside it.
  train::Checkpoint big = c;
  big.tensors["model.big"] = at::randn({1 << 20});  // 4 MB
  {
    tessera::test::FileSizeLimit full(1 << 20);
    CHECK_THROWS_WITH(train::save_checkpoint(test::train_out() + "/ck.h5", big),
                      Catch::Contains("ck.h5.tmp: writing") && Catch::Contains("bytes failed: File too large"));
  }
  CHECK_FALSE(std::filesystem::exists(test::train_out() + "/ck.h5.tmp"));
  train::Checkpoint bad = c;
  bad.tensors["z.half"] = at::ones({4}, at::kHalf);  // after the others (sorted): written last
  CHECK_THROWS_WITH(train::save_checkpoint(test::train_out() + "/ck.h5", bad), Catch::Contains("unsupported dtype"));
  CHECK_FALSE(std::filesystem::exists(test::train_out() + "/ck.h5.tmp"));
  const train::Checkpoint kept = train::load_checkpoint(test::train_out() + "/ck.h5");
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
    io::Deck d6 = test::train_deck(family, 6);
    train::Trainer straight(train::mesh_sim_options(d6), nullptr);
    for (int i = 0; i < 6; ++i) straight.step();
    train::Trainer first(train::mesh_sim_options(d6), nullptr);
    for (int i = 0; i < 3; ++i) first.step();
    first.save(test::train_out() + "/half_" + family + ".h5");
    io::Deck resumed_deck =
        test::train_deck(family, 6, {"train.resume=" + test::train_out() + "/half_" + family + ".h5"});
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
  io::Deck other = test::train_deck("meshgraphnet", 6, {"train.resume=" + test::train_out() + "/half_transformer.h5"});
  CHECK_THROWS_WITH(train::Trainer(train::mesh_sim_options(other), nullptr),
                    Catch::Contains("checkpoint of a 'transformer' model"));
}

TEST_CASE("a run resumed under a time budget continues its learning-rate decay", "[train][checkpoint]") {
  // 3 of 22 steps (warm-up 2) with 80% of a budget used by the third: its position is
  // 2 + 0.8 x 20 = 18, and the checkpoint stores the next step's, 19.
  io::Deck d = test::train_deck("transformer", 22);
  train::Trainer first(train::mesh_sim_options(d), nullptr);
  for (int i = 0; i < 3; ++i) {
    first.set_time_fraction(i < 2 ? 0.0 : 0.8);
    first.step();
  }
  const std::string path = test::train_out() + "/budget.h5";
  first.save(path);
  CHECK(train::load_checkpoint(path).attributes.at("schedule_step") == "19");
  // The resumed run's budget starts at 0: its first step is at position 19 (the step count alone
  // would put it back at 3), and half its budget reaches 19 + 0.5 x (22 - 19) = 20.
  train::Trainer resumed(train::mesh_sim_options(test::train_deck("transformer", 22, {"train.resume=" + path})),
                         nullptr);
  resumed.set_time_fraction(0.0);
  resumed.step();
  resumed.save(test::train_out() + "/budget_resumed.h5");
  CHECK(train::load_checkpoint(test::train_out() + "/budget_resumed.h5").attributes.at("schedule_step") == "20");
  resumed.set_time_fraction(0.5);
  resumed.step();
  resumed.save(test::train_out() + "/budget_resumed.h5");
  CHECK(train::load_checkpoint(test::train_out() + "/budget_resumed.h5").attributes.at("schedule_step") == "21");
  // Without a budget the position is the step count: "N + N resumed steps equal 2N steps" holds,
  // and checkpoints written before the attribute existed (falling back to the step) resume alike.
  train::Trainer plain(train::mesh_sim_options(test::train_deck("transformer", 22)), nullptr);
  plain.step();
  plain.save(test::train_out() + "/plain.h5");
  CHECK(train::load_checkpoint(test::train_out() + "/plain.h5").attributes.at("schedule_step") == "1");
  // A damaged attribute is named, not a conversion's exception.
  const std::string damaged = test::train_out() + "/budget_damaged.h5";
  const auto resume = [&](const std::string& p) {
    return std::make_unique<train::Trainer>(
        train::mesh_sim_options(test::train_deck("transformer", 22, {"train.resume=" + p})), nullptr);
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
  const std::string path = test::train_out() + "/format.h5";
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

TEST_CASE("checkpoints carry the training meshes' edge length; a mesh in other units is warned about",
          "[train][checkpoint]") {
  // The synthetic dataset's meshes: a 12 x 4 grid over 2 x 0.5 (tests/synthetic_flow.hpp).
  train::Trainer t(train::mesh_sim_options(test::train_deck("transformer", 1)), nullptr);
  t.step();
  const std::string ckpt = test::train_out() + "/edge_length.h5";
  t.save(ckpt);
  const double dx = 2.0 / 12, dy = 0.5 / 4, trained = (dx + dy + std::hypot(dx, dy)) / 3;
  const train::TrainedModel m = train::load_trained_model(ckpt);
  CHECK(m.data_edge_length == Approx(trained).epsilon(1e-6));  // float32 positions in the dataset
  CHECK(train::mesh_scale_warning(m.data_edge_length, 2.9 * trained, "x.h5 #0").empty());
  CHECK(train::mesh_scale_warning(m.data_edge_length, trained / 2.9, "x.h5 #0").empty());
  CHECK_THAT(train::mesh_scale_warning(m.data_edge_length, 1000 * trained, "x.h5 #0"),
             Catch::StartsWith("the mean edge length in x.h5 #0 is 1.6") &&
                 Catch::Contains(", 1000 times longer than the training meshes' (1.6") &&
                 Catch::Contains("is the mesh in other units?"));
  CHECK_THAT(train::mesh_scale_warning(m.data_edge_length, trained / 4, "x.h5 #0"),
             Catch::Contains(", 4 times shorter than the training meshes'"));
  // Checkpoints written before the attribute existed: nothing to compare with, no warning.
  train::Checkpoint c = train::load_checkpoint(ckpt);
  c.attributes.erase(train::kDataEdgeLengthAttribute);
  train::save_checkpoint(test::train_out() + "/no_edge_length.h5", c);
  const train::TrainedModel old = train::load_trained_model(test::train_out() + "/no_edge_length.h5");
  CHECK(old.data_edge_length == 0);
  CHECK(train::mesh_scale_warning(old.data_edge_length, 1000 * trained, "x.h5 #0").empty());
  // Fine-tuning on meshes of another scale warns (and names the checkpoint).
  c.attributes[train::kDataEdgeLengthAttribute] = core::exact_text(trained * 1000);
  train::save_checkpoint(test::train_out() + "/mm_edge_length.h5", c);
  {
    const io::Deck fine_tune =
        test::train_deck("transformer", 2, {"train.init=" + test::train_out() + "/mm_edge_length.h5"});
    train::Trainer t2(train::mesh_sim_options(fine_tune),
                      core::make_logger("scale", Comm::self(), {"warn", test::train_out() + "/scale_log"}));
  }
  std::ifstream log_file(test::train_out() + "/scale_log/scale.rank0.log");
  const std::string logged((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  CHECK_THAT(logged,
             Catch::Contains("mm_edge_length.h5: the mean edge length in ") && Catch::Contains("1000 times shorter"));
  c.attributes[train::kDataEdgeLengthAttribute] = "0";
  train::save_checkpoint(test::train_out() + "/bad_edge_length.h5", c);
  CHECK_THROWS_WITH(train::load_trained_model(test::train_out() + "/bad_edge_length.h5"),
                    Catch::Contains("checkpoint attribute data_edge_length = '0' is not a positive number"));
}

TEST_CASE("checkpoints carry the training data's dt; other steps are warned about", "[train][checkpoint]") {
  // The synthetic dataset is written with dt = 0.05 (tests/synthetic_flow.hpp).
  train::Trainer t(train::mesh_sim_options(test::train_deck("transformer", 1)), nullptr);
  t.step();
  const std::string ckpt = test::train_out() + "/data_dt.h5";
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
  train::save_checkpoint(test::train_out() + "/no_data_dt.h5", c);
  const train::TrainedModel old = train::load_trained_model(test::train_out() + "/no_data_dt.h5");
  CHECK(old.data_dt == 0);
  CHECK(train::dt_mismatch_warning(old.data_dt, 0.01, "x.h5 #0").empty());
  // Resuming or fine-tuning on data with another dt warns (and names the checkpoint).
  c.attributes["data_dt"] = "0.01";
  train::save_checkpoint(test::train_out() + "/other_data_dt.h5", c);
  {
    const io::Deck fine_tune =
        test::train_deck("transformer", 2, {"train.init=" + test::train_out() + "/other_data_dt.h5"});
    train::Trainer t2(
        train::mesh_sim_options(fine_tune),
        core::make_logger("dt", Comm::self(), {"warn", test::train_out() + "/dt_log"}));  // flushed per message
  }
  std::ifstream log_file(test::train_out() + "/dt_log/dt.rank0.log");
  const std::string logged((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  CHECK_THAT(logged, Catch::Contains("other_data_dt.h5: the model was trained on steps of dt = 0.01, but ") &&
                         Catch::Contains("(data.dir) has dt = 0.05"));
  c.attributes["data_dt"] = "-1";
  train::save_checkpoint(test::train_out() + "/bad_data_dt.h5", c);
  CHECK_THROWS_WITH(train::load_trained_model(test::train_out() + "/bad_data_dt.h5"),
                    Catch::Contains("bad_data_dt.h5: checkpoint attribute data_dt = '-1' is not a positive number"));
}
