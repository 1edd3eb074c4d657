// Cross-validation training of the graph classifiers: stratified folds, exact resume (N steps,
// checkpoint, resume = uninterrupted, bit for bit), and data-parallel training under mpirun
// equal to one process (this program also runs at np = 2).
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <numeric>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "tests/spen/spen_train_fixtures.hpp"
#include "tests/test_paths.hpp"
#include "train/checkpoint.hpp"
#include "train/spen/cross_validation.hpp"
#include "train/spen/data.hpp"
#include "train/spen/learner.hpp"

using namespace tessera;
namespace fs = std::filesystem;
using tessera::spen_test::out_dir;
using train::spen::FoldLearner;

namespace {

train::spen::GraphClassifierOptions csl_options(const std::string& family) {
  train::spen::GraphClassifierOptions o;
  o.family = family;
  o.source = "csl";
  o.csl_per_class = 3;
  o.constant_features = true;
  o.folds = 3;
  o.hops = 1;
  o.channels = 6;
  o.layers = 2;
  o.epochs = 3;
  o.batch = 8;
  o.lr = 3e-3;
  o.lr_step = 1;
  o.lr_gamma = 0.5;
  o.last_epochs = 2;
  o.rare_threshold = 1;
  o.threads = 1;
  o.deck_yaml = "test: true\n";
  return o;
}

std::vector<at::Tensor> params(FoldLearner& l) { return l.model().parameters(); }

}  // namespace

TEST_CASE("stratified folds partition every class evenly", "[spen]") {
  std::vector<int64_t> labels;
  for (int i = 0; i < 188; ++i) labels.push_back(i < 125 ? 1 : 0);
  const auto folds = train::spen::stratified_folds(labels, 10, 0);
  REQUIRE(folds.size() == 10);
  std::vector<int> seen(188, 0);
  for (const auto& f : folds) {
    CHECK((f.size() == 18 || f.size() == 19));
    int64_t pos = 0;
    for (int64_t i : f) {
      ++seen[i];
      pos += labels[i];
    }
    CHECK((pos == 12 || pos == 13));
  }
  for (int s : seen) CHECK(s == 1);
  CHECK(train::spen::stratified_folds(labels, 10, 0) == folds);
  CHECK(train::spen::stratified_folds(labels, 10, 1) != folds);
}

TEST_CASE("a resumed fold equals the uninterrupted one bit for bit", "[spen]") {
  const Comm comm;
  std::shared_ptr<spdlog::logger> log;  // null: silent
  for (const std::string family : {"spen", "gin"}) {
    INFO(family);
    const auto o = csl_options(family);
    const auto ds = train::spen::load_dataset(o);
    const auto data = train::spen::prepare(ds, o);
    std::vector<int64_t> labels;
    for (const auto& g : data.graphs) labels.push_back(g.label);
    const auto folds = train::spen::stratified_folds(labels, 3, 0);
    const std::vector<int64_t> test = folds[1];
    std::vector<int64_t> train = folds[0];
    train.insert(train.end(), folds[2].begin(), folds[2].end());
    FoldLearner full(o, data, 1, train, test, {0.25}, log, comm);
    const int64_t total = full.total_steps(), spe = full.steps_per_epoch();
    REQUIRE(total == 3 * 3);
    std::vector<double> losses;
    while (full.steps_done() < total) {
      losses.push_back(full.step());
      if (full.steps_done() % spe == 0) full.validate();
    }
    const std::string dir = out_dir(family);
    fs::create_directories(dir);
    const std::string ckpt = dir + "/checkpoint.h5";
    {
      FoldLearner first(o, data, 1, train, test, {0.25}, log, comm);
      for (int k = 0; k < 4; ++k) {  // past one epoch end, into the second epoch
        CHECK(first.step() == losses[k]);
        if (first.steps_done() % spe == 0) first.validate();
      }
      first.save(ckpt);
    }
    FoldLearner resumed(o, data, 1, train, test, {}, log, comm, ckpt);
    CHECK(resumed.steps_done() == 4);
    CHECK(resumed.previous_folds() == std::vector<double>{0.25});
    while (resumed.steps_done() < total) {
      const int64_t k = resumed.steps_done();  // before step(): == does not order its operands
      const double loss = resumed.step();
      CHECK(loss == losses[k]);
      if (resumed.steps_done() % spe == 0) resumed.validate();
    }
    const auto a = params(full), b = params(resumed);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) CHECK(at::equal(a[i], b[i]));
    CHECK(resumed.test_history() == full.test_history());
    CHECK(resumed.fold_accuracy() == full.fold_accuracy());
    // Training moved the parameters (the comparison above can fail).
    FoldLearner fresh(o, data, 1, train, test, {}, log, comm);
    CHECK_FALSE(at::equal(params(fresh)[0], a[0]));
    // Fewer layers than the checkpoint's: refused at the key; and by the parameter count for a
    // checkpoint that does not record its model (written before 2026-12-06). Both used to load
    // the first layers and drop the rest.
    auto fewer = o;
    fewer.layers = o.layers - 1;
    try {
      FoldLearner(fewer, data, 1, train, test, {}, log, comm, ckpt);
      FAIL("a fold resumed with fewer layers");
    } catch (const Error& e) {
      CHECK(e.key() == "spen.model.layers");
    }
    train::Checkpoint c = train::load_checkpoint(ckpt);
    for (const char* key : {"setup.spen.model.layers", "setup.spen.model.hops", "setup.spen.model.channels",
                            "setup.spen.model.rare_threshold"})
      REQUIRE(c.attributes.erase(key) == 1);
    const std::string unrecorded = dir + "/unrecorded.h5";
    run_on_root(comm, [&] { train::save_checkpoint(unrecorded, c); });  // one writer under mpirun
    try {
      FoldLearner(fewer, data, 1, train, test, {}, log, comm, unrecorded);
      FAIL("a fold resumed with fewer layers from a checkpoint without its model settings");
    } catch (const Error& e) {
      CHECK(e.key() == "train.resume");
      CHECK_THAT(e.what(), Catch::Contains("parameter tensors, the deck's model has"));
    }
    CHECK_NOTHROW(FoldLearner(o, data, 1, train, test, {}, log, comm, unrecorded));
  }
}

TEST_CASE("data-parallel training equals one process", "[spen][mpi]") {
  const Comm world;
  std::shared_ptr<spdlog::logger> log;
  // GIN on CSL (constant features on regular graphs) trained differently at np = 3: the round-off
  // sign of GraphNorm's h - mean decided which ReLUs passed gradient.
  const std::string family = GENERATE(as<std::string>{}, "spen", "gin");
  INFO(family);
  auto o = csl_options(family);
  if (family == "gin") o.csl_per_class = 5, o.batch = 40, o.channels = 32, o.layers = 4;
  const auto data = train::spen::prepare(train::spen::load_dataset(o), o);
  std::vector<int64_t> all(data.graphs.size());
  std::iota(all.begin(), all.end(), 0);
  FoldLearner parallel(o, data, 0, all, all, {}, log, world);
  FoldLearner serial(o, data, 0, all, all, {}, log, Comm::self());
  {
    const auto a = params(parallel), b = params(serial);
    for (size_t i = 0; i < a.size(); ++i) REQUIRE(at::equal(a[i], b[i]));
  }
  for (int k = 0; k < 5; ++k) {
    const double lp = parallel.step(), ls = serial.step();
    CHECK(lp == Approx(ls).epsilon(1e-5));
  }
  const auto a = params(parallel), b = params(serial);
  for (size_t i = 0; i < a.size(); ++i) CHECK(at::allclose(a[i], b[i], 1e-4, 1e-6));
  const auto ea = parallel.evaluate(all), eb = serial.evaluate(all);
  CHECK(ea.first == eb.first);
  CHECK(ea.second == Approx(eb.second).epsilon(1e-5));
}

TEST_CASE("a fold checkpoint resumes on another rank count", "[spen][mpi]") {
  // Saved by all ranks after 4 steps and resumed by one, and saved by one and resumed by all: the
  // finished fold has the uninterrupted run's weights, to the data-parallel rounding above. Under
  // mpirun this crosses rank counts.
  const Comm world;
  std::shared_ptr<spdlog::logger> log;
  const auto o = csl_options("spen");
  const auto data = train::spen::prepare(train::spen::load_dataset(o), o);
  std::vector<int64_t> labels;
  for (const auto& g : data.graphs) labels.push_back(g.label);
  const auto folds = train::spen::stratified_folds(labels, 3, 0);
  std::vector<int64_t> train = folds[0];
  train.insert(train.end(), folds[2].begin(), folds[2].end());
  auto run = [&](FoldLearner& l, int64_t until) {
    while (l.steps_done() < until) {
      l.step();
      if (l.steps_done() % l.steps_per_epoch() == 0) l.validate();
    }
  };
  FoldLearner full(o, data, 1, train, folds[1], {0.25}, log, world);
  run(full, full.total_steps());
  const std::string dir = out_dir("ranks");
  if (world.root()) fs::create_directories(dir);
  world.barrier();
  {
    FoldLearner by_all(o, data, 1, train, folds[1], {0.25}, log, world);
    run(by_all, 4);
    by_all.save(dir + "/by_all.h5");
  }
  if (world.root()) {
    FoldLearner by_one(o, data, 1, train, folds[1], {0.25}, log, Comm::self());
    run(by_one, 4);
    by_one.save(dir + "/by_one.h5");
  }
  world.barrier();
  for (const auto& [file, comm] : {std::pair{"by_all.h5", Comm::self()}, std::pair{"by_one.h5", world}}) {
    INFO(file << " resumed on " << comm.size() << " rank(s)");
    FoldLearner resumed(o, data, 1, train, folds[1], {}, log, comm, dir + "/" + file);
    CHECK(resumed.steps_done() == 4);
    CHECK(resumed.previous_folds() == std::vector<double>{0.25});
    run(resumed, resumed.total_steps());
    const auto a = params(full), b = params(resumed);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) CHECK(at::allclose(a[i], b[i], 1e-4, 1e-6));
  }
  world.barrier();  // both files read on every rank before a later run writes there
}

TEST_CASE("cross-validation writes per-fold and summary files", "[spen]") {
  const Comm comm;
  std::shared_ptr<spdlog::logger> log;  // null: silent
  auto o = csl_options("gin");
  o.epochs = 2;
  o.last_epochs = 1;
  o.output_dir = out_dir("cv");
  const auto r = train::spen::cross_validate(o, comm, log);
  REQUIRE(r.fold_accuracy.size() == 3);
  // GIN on CSL: all graphs look alike to 1-WL; each test fold has one graph per class.
  for (double a : r.fold_accuracy) CHECK(a == Approx(0.1));
  CHECK(fs::exists(o.output_dir + "/folds.csv"));
  CHECK(fs::exists(o.output_dir + "/summary.csv"));
  CHECK(fs::exists(o.output_dir + "/fold_2/checkpoint.h5"));
  CHECK(fs::exists(o.output_dir + "/fold_0/metrics.csv"));
  // Resuming from the last fold's final checkpoint recomputes nothing and keeps the results:
  // the finished folds' files are not written again (training is deterministic, so equal
  // accuracies alone would not tell reuse from retraining).
  const std::vector<std::string> finished = {o.output_dir + "/fold_0/checkpoint.h5",
                                             o.output_dir + "/fold_0/metrics.csv",
                                             o.output_dir + "/fold_1/checkpoint.h5"};
  std::vector<fs::file_time_type> written;
  for (const auto& f : finished) written.push_back(fs::last_write_time(f));
  o.resume = o.output_dir + "/fold_2/checkpoint.h5";
  const auto again = train::spen::cross_validate(o, comm, log);
  CHECK(again.fold_accuracy == r.fold_accuracy);
  for (size_t i = 0; i < finished.size(); ++i) {
    INFO(finished[i]);
    CHECK(fs::last_write_time(finished[i]) == written[i]);
  }
}

TEST_CASE("dropout rows follow their graphs", "[spen]") {
  // In training mode too, a graph's output depends only on its own dropout rows (fp64).
  const auto o = csl_options("spen");
  const auto data = train::spen::prepare(train::spen::load_dataset(o), o);
  at::manual_seed(0);
  auto model = train::spen::make_model(o, data);
  model->to(at::kDouble);
  const std::vector<at::Tensor> masks = {at::bernoulli(at::full({4, 256}, 0.5, at::kDouble)) * 2,
                                         at::bernoulli(at::full({4, 128}, 0.5, at::kDouble)) * 2};
  const std::vector<int64_t> g = {0, 5, 9, 17};
  const at::Tensor all = model->forward(train::spen::make_batch(data, g, at::kDouble), masks);
  for (int64_t i = 0; i < 4; ++i) {
    const std::vector<at::Tensor> m = {masks[0].narrow(0, i, 1), masks[1].narrow(0, i, 1)};
    CHECK(at::allclose(model->forward(train::spen::make_batch(data, {g[i]}, at::kDouble), m)[0], all[i], 1e-7, 1e-9));
  }
}
