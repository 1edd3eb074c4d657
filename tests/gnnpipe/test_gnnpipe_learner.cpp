// The GNNPipe learner (train/gnnpipe/learner.hpp) through its checkpoint files and the training
// loop: a resume on another rank count keeps the early-stopping record, training stops
// `patience` epochs after the lowest validation loss, and the selected model's weights give the
// accuracy reported for them. Runs under mpiexec with any rank count, in test_gnnpipe.
#include <ATen/ATen.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "core/comm.hpp"
#include "core/error.hpp"
#include "io/deck.hpp"
#include "io/schema.hpp"
#include "tests/gnnpipe/gnnpipe_fixtures.hpp"
#include "tests/test_paths.hpp"
#include "train/checkpoint.hpp"
#include "train/gnnpipe/evaluation.hpp"
#include "train/gnnpipe/family.hpp"
#include "train/gnnpipe/learner.hpp"
#include "train/gnnpipe/options.hpp"
#include "train/loop.hpp"

using namespace tessera;
using test::gnnpipe::options;
using test::gnnpipe::small_csbm;

namespace {

// GCNII on a small CSBM graph with early stopping after 4 epochs without a lower validation loss.
train::gnnpipe::GnnPipeOptions early_stopping_options() {
  train::gnnpipe::GnnPipeOptions o;
  o.source = "csbm";
  o.csbm = small_csbm();
  o.mode = "graph";
  o.engine = options(gnn::DeepGcnKind::Gcnii, 4);
  o.engine.lr = 0.05;  // overfits the 30 training nodes quickly, so the validation loss turns
  o.patience = 4;
  return o;
}

// Up to 400 epochs (early stopping ends them), validated after each, into `dir`.
void train_with_validation(train::gnnpipe::GnnPipeLearner& learner, const std::string& dir, const Comm& world) {
  if (world.root()) std::filesystem::create_directories(dir);
  world.barrier();
  train::LoopOptions loop;
  loop.steps = 400;
  loop.validate_every = 1;
  loop.output_dir = dir;
  train::run_training(learner, loop, world, nullptr);
}

}  // namespace

TEST_CASE("a learner's checkpoint file resumes on another rank count with its early-stopping record",
          "[gnnpipe][mpi]") {
  // Through the HDF5 file and the learner (the engine test above goes through memory): the
  // lowest validation loss so far and its epoch come back, so a run saved after that epoch and
  // resumed on another rank count stops at the epoch and with the record of the uninterrupted one.
  const Comm world;
  const train::gnnpipe::GnnPipeOptions o = early_stopping_options();
  auto run = [](train::gnnpipe::GnnPipeLearner& l, int64_t until) {
    while (l.steps_done() < until) {
      l.step();
      l.validate();
      if (!l.stop_reason().empty()) break;
    }
    return l.stop_reason();
  };
  train::gnnpipe::GnnPipeLearner straight(o, Comm::self());
  const std::string reason = run(straight, 400);
  const int64_t stop = straight.steps_done();
  REQUIRE(!reason.empty());
  REQUIRE(stop >= o.patience + 3);
  const std::string dir = cat(test::test_out(), "/gnnpipe_resume_np", world.size());
  if (world.root()) std::filesystem::create_directories(dir);
  world.barrier();
  // Saved two epochs before the stop, after the lowest validation loss (patience 4 epochs back).
  {
    train::gnnpipe::GnnPipeLearner first(o, world);
    CHECK(run(first, stop - 2).empty());
    first.save(dir + "/checkpoint.h5");
  }
  world.barrier();
  train::gnnpipe::GnnPipeOptions r = o;
  r.resume = dir + "/checkpoint.h5";
  train::gnnpipe::GnnPipeLearner resumed(r, Comm::self());
  CHECK(resumed.steps_done() == stop - 2);
  CHECK(run(resumed, 400) == reason);
  CHECK(resumed.steps_done() == stop);
  world.barrier();  // every rank has read the file before another run writes there
}

// GCNII's early stopping: training ends `patience` epochs after the lowest validation loss, and
// not before. Checked on the validation losses the loop wrote to metrics.csv.
TEST_CASE("early stopping ends training patience epochs after the lowest validation loss", "[gnnpipe][mpi]") {
  const Comm world;
  const train::gnnpipe::GnnPipeOptions o = early_stopping_options();
  // Each rank count has its own folder: ctest -j runs test_gnnpipe and its .npN copies together.
  const std::string dir = cat(test::test_out(), "/gnnpipe_patience_np", world.size());
  train::gnnpipe::GnnPipeLearner learner(o, world);
  train_with_validation(learner, dir, world);
  CHECK(learner.steps_done() < 400);
  if (world.root()) {
    std::ifstream in(dir + "/metrics.csv");
    std::string line;
    std::getline(in, line);
    std::vector<std::string> header;
    std::stringstream hs(line);
    for (std::string h; std::getline(hs, h, ',');) header.push_back(h);
    const auto col = std::find(header.begin(), header.end(), "val_loss") - header.begin();
    REQUIRE(col < static_cast<long>(header.size()));
    // best_epoch, each row: the epoch of the lowest validation loss up to that row (the selected
    // model's), from the rows themselves.
    const auto best_col = std::find(header.begin(), header.end(), "best_epoch") - header.begin();
    REQUIRE(best_col < static_cast<long>(header.size()));
    // Epochs since the lowest validation loss so far, after each validation.
    std::vector<int64_t> steps, since_best;
    int64_t best_step = 0;
    double best = 1e300;
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string v; std::getline(ls, v, ',');) f.push_back(v);
      steps.push_back(std::stoll(f[0]));
      const double v = std::stod(f[col]);
      if (v < best) {
        best = v;
        best_step = steps.back();
      }
      CHECK(std::stoll(f[best_col]) == best_step);
      since_best.push_back(steps.back() - best_step);
    }
    REQUIRE(!steps.empty());
    CHECK(steps.back() == learner.steps_done());
    CHECK(since_best.back() == o.patience);
    for (size_t i = 0; i + 1 < steps.size(); ++i) {
      INFO("step " << steps[i]);
      CHECK(since_best[i] < o.patience);  // no earlier stop was due
    }
  }
  // The selected model's weights (the checkpoint's "selected.*", also selected.pt) give the test
  // accuracy reported for it: resumed with them as its parameters, a learner's test accuracy is
  // test_at_best_val. The last epoch's weights, `patience` epochs on, were all a run kept.
  CHECK(std::filesystem::exists(dir + "/selected.pt"));
  const std::string as_params = dir + "/selected_as_params.h5";
  if (world.root()) {
    train::Checkpoint c = train::load_checkpoint(dir + "/checkpoint.h5");
    int64_t swapped = 0;
    for (auto& [name, t] : c.tensors)
      if (name.rfind("param.", 0) == 0) {
        REQUIRE(c.tensors.count("selected." + name.substr(6)));
        CHECK(!at::equal(t, c.tensors.at("selected." + name.substr(6))));  // stopped past the selection
        t = c.tensors.at("selected." + name.substr(6));
        ++swapped;
      }
    CHECK(swapped > 0);
    train::save_checkpoint(as_params, c);
  }
  world.barrier();
  train::gnnpipe::GnnPipeOptions r = o;
  r.resume = as_params;
  train::gnnpipe::GnnPipeLearner selected(r, world);
  const std::vector<train::Metric> m = selected.validate();
  if (world.root()) {
    auto figure = [&](const std::string& name) {
      const auto it = std::find_if(m.begin(), m.end(), [&](const train::Metric& x) { return x.first == name; });
      REQUIRE(it != m.end());
      return it->second;
    };
    CHECK(figure("test_acc") == figure("test_at_best_val"));
    // metrics.csv names the selected epoch (the docs said so; it did not).
    const at::Tensor record = train::load_checkpoint(dir + "/checkpoint.h5").tensors.at("gnnpipe.best");
    CHECK(figure("best_epoch") == record[3].item<double>());
    // The validation loss too, a continuous figure (an accuracy of the last epoch's weights could
    // equal the selected model's by chance).
    const at::Tensor best = train::load_checkpoint(dir + "/checkpoint.h5").tensors.at("gnnpipe.best");
    CHECK(figure("val_loss") == Approx(best[0].item<double>()).epsilon(1e-12));
  }
  world.barrier();
  // Resumed, a run that stopped early stops again before any step, its files as they were: it
  // trained on and replaced its selected model (epoch 98, then 105, 117, 125 over three resumes).
  const auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string before = world.root() ? bytes(dir + "/checkpoint.h5") : "";
  train::gnnpipe::GnnPipeOptions again = o;
  again.resume = dir + "/checkpoint.h5";
  train::gnnpipe::GnnPipeLearner resumed(again, world);
  train_with_validation(resumed, dir, world);
  CHECK(resumed.steps_done() == learner.steps_done());
  if (world.root()) CHECK(bytes(dir + "/checkpoint.h5") == before);
  world.barrier();
}

TEST_CASE("tessera-rollout's evaluation of a checkpoint scores its weights as training did", "[gnnpipe][mpi]") {
  const Comm world;
  // A deck, as tessera-train stores it in checkpoints, from which the evaluation rebuilds the
  // model and the graph: GCNII on a small CSBM graph, early stopping (so the selected weights
  // are not the last ones), in fp64.
  io::Schema schema("tessera-train");
  train::add_training_keys(schema, {train::gnnpipe_family()});
  const std::string dir = cat(test::test_out(), "/gnnpipe_evaluate_np", world.size());
  const io::Deck deck = io::Deck::parse(
      "model: {family: gnnpipe}\n"
      "gnnpipe:\n"
      "  data:\n"
      "    source: csbm\n"
      "    csbm: {classes: 3, nodes: 120, features: 6, degree: 6, train_per_class: 10, val: 30, test: 40, seed: 3}\n"
      "  model: {conv: gcnii, layers: 4, hidden: 8, dropout: 0.3}\n"
      "  optim: {lr: 0.05, patience: 4}\n"
      "  precision: fp64\n",
      "deck.yaml", schema);
  const train::gnnpipe::GnnPipeOptions o = train::gnnpipe::read_options(deck);
  {
    train::gnnpipe::GnnPipeLearner learner(o, world);
    train_with_validation(learner, dir, world);
  }
  // The accuracy of each split from the predictions file's rows (label == predicted).
  auto split_accuracy = [](const std::string& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    std::map<std::string, std::pair<int64_t, int64_t>> count;  // split -> (right, all)
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string v; std::getline(ls, v, ',');) f.push_back(v);
      REQUIRE(f.size() == 8);  // node, label, split, predicted, correct, 3 logits
      CHECK(f[4] == (f[1] == f[3] ? "1" : "0"));
      count[f[2]].first += f[4] == "1";
      count[f[2]].second += 1;
    }
    std::map<std::string, double> acc;
    for (const auto& [split, c] : count) acc[split] = double(c.first) / double(c.second);
    return acc;
  };
  train::gnnpipe::NodeEvaluationOptions e;
  e.checkpoint = dir + "/checkpoint.h5";
  e.output_dir = dir + "/evaluated";
  e.name = "selected";
  // The selected weights (the lowest validation loss): the validation loss, validation and test
  // accuracy that training recorded for them. Early stopping ran past them, so the last weights
  // differ and a wrong pick would show in the validation loss.
  const train::gnnpipe::NodeEvaluation selected = train::gnnpipe::run_node_evaluation(e, world, nullptr);
  const train::Checkpoint written = train::load_checkpoint(e.checkpoint);
  const at::Tensor best = written.tensors.at("gnnpipe.best");
  REQUIRE(best[3].item<double>() < double(std::stoll(written.attributes.at("step"))));
  CHECK(selected.val_loss == Approx(best[0].item<double>()).epsilon(1e-12));
  CHECK(selected.val_acc == best[1].item<double>());
  CHECK(selected.test_acc == best[2].item<double>());
  if (world.root()) {
    const auto acc = split_accuracy(e.output_dir + "/selected_predictions.csv");
    CHECK(acc.at("val") == best[1].item<double>());
    CHECK(acc.at("test") == best[2].item<double>());
  }
  // The last epoch's weights: the figures of metrics.csv's last row (validated after it).
  e.weights = "last";
  e.name = "last";
  const train::gnnpipe::NodeEvaluation last = train::gnnpipe::run_node_evaluation(e, world, nullptr);
  CHECK(last.val_loss != Approx(selected.val_loss).epsilon(1e-9));
  if (world.root()) {
    std::ifstream in(dir + "/metrics.csv");
    std::string header, line, final_row;
    std::getline(in, header);
    while (std::getline(in, line)) final_row = line;
    std::vector<std::string> names, values;
    std::stringstream hs(header), ls(final_row);
    for (std::string v; std::getline(hs, v, ',');) names.push_back(v);
    for (std::string v; std::getline(ls, v, ',');) values.push_back(v);
    auto figure = [&](const std::string& name) {
      return std::stod(values.at(std::find(names.begin(), names.end(), name) - names.begin()));
    };
    const auto acc = split_accuracy(e.output_dir + "/last_predictions.csv");
    CHECK(acc.at("train") == Approx(figure("train_acc")).epsilon(1e-9));
    CHECK(acc.at("val") == Approx(figure("val_acc")).epsilon(1e-9));
    CHECK(acc.at("test") == Approx(figure("test_acc")).epsilon(1e-9));
    CHECK(last.test_acc == Approx(figure("test_acc")).epsilon(1e-9));
    CHECK(last.val_loss == Approx(figure("val_loss")).epsilon(1e-9));
  }
  // Engine::predict is collective: on every rank of the training's layout (graph mode, one part
  // per rank) it gives the one-process logits, to round-off.
  {
    io::NodeDataset data = train::gnnpipe::load_node_data(o);
    train::gnnpipe::EngineOptions eo = o.engine;
    eo.model.in = data.num_features;
    eo.model.classes = data.num_classes;
    eo.stages = train::gnnpipe::stages_for(o, world.size());
    train::gnnpipe::Engine spread(data, eo, world);
    spread.load(written, e.checkpoint);
    eo.stages = 1;
    train::gnnpipe::Engine alone(data, eo, Comm::self());
    alone.load(written, e.checkpoint);
    CHECK(at::allclose(spread.predict(), alone.predict(), 1e-12, 1e-12));
  }
  // A graph that changed since training, and a checkpoint without a selected model, are refused.
  const std::string changed = dir + "/changed.h5";
  train::Checkpoint c = train::load_checkpoint(e.checkpoint);
  c.attributes["data"] = "csbm: 121 nodes";
  if (world.root()) train::save_checkpoint(changed, c);
  world.barrier();
  e.checkpoint = changed;
  CHECK_THROWS_WITH(train::gnnpipe::run_node_evaluation(e, world, nullptr),
                    Catch::Contains("changed.h5: was trained on csbm: 121 nodes; its graph now gives "));
  c = train::load_checkpoint(dir + "/checkpoint.h5");
  for (auto it = c.tensors.begin(); it != c.tensors.end();)
    it = it->first.rfind("selected.", 0) == 0 ? c.tensors.erase(it) : std::next(it);
  if (world.root()) train::save_checkpoint(changed, c);
  world.barrier();
  e.weights = "selected";
  CHECK_THROWS_WITH(train::gnnpipe::run_node_evaluation(e, world, nullptr),
                    Catch::Contains("changed.h5: holds no selected model"));
}
