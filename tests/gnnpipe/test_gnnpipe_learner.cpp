// The GNNPipe learner (train/gnnpipe/learner.hpp) through its checkpoint files and the training
// loop: a resume on another rank count keeps the early-stopping record, training stops
// `patience` epochs after the lowest validation loss, and the selected model's weights give the
// accuracy reported for them. Runs under mpiexec with any rank count, in test_gnnpipe.
#include <ATen/ATen.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/comm.hpp"
#include "core/error.hpp"
#include "tests/gnnpipe/gnnpipe_fixtures.hpp"
#include "tests/test_paths.hpp"
#include "train/checkpoint.hpp"
#include "train/gnnpipe/learner.hpp"
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
  if (world.root()) std::filesystem::create_directories(dir);
  world.barrier();
  train::gnnpipe::GnnPipeLearner learner(o, world);
  train::LoopOptions loop;
  loop.steps = 400;
  loop.validate_every = 1;
  loop.output_dir = dir;
  train::run_training(learner, loop, world, nullptr);
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
}
