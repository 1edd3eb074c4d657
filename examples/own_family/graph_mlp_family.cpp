// graph_mlp: a model family written outside tessera, trained by tessera's loop (docs/extending.md).
// The model: a two-layer MLP on each node's features (velocity, one-hot node type) beside the mean
// of its neighbours' features, predicting the velocity change over one step of a CylinderFlow-
// style dataset. Everything around it is tessera's: the deck keys (with ranges, documentation,
// --help and errors at the deck's line), the dataset reader, the training loop (progress, time
// limit, metrics.csv, loss.csv, training.png, checkpoints, interrupts) and an exact resume.
// Each rank trains the same model on the same data (an example; tessera's own families share the
// work between ranks).
#include "graph_mlp_family.hpp"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <cmath>

#include "core/log.hpp"
#include "gnn/layers.hpp"
#include "gnn/message_passing.hpp"
#include "io/deck.hpp"
#include "io/schema.hpp"
#include "train/checkpoint.hpp"
#include "train/mesh_data.hpp"
#include "train/optimizer_state.hpp"

namespace own {
using namespace tessera;
namespace {

// 1. Typed options, read from the deck once; the library code below never sees the deck.
struct Options {
  std::string data_dir, resume, deck_yaml, deck_dir;
  int64_t hidden = 64, seed = 0;
  double lr = 1e-3;
};

void add_keys(io::Schema& s) {
  s.section("graph_mlp", "the out-of-tree graph MLP (examples/own_family)");
  // Required (in a graph_mlp deck only: the family's keys apply to its decks).
  io::Schema::input_path(s.required("graph_mlp.data_dir", io::KeyType::String,
                                    "CylinderFlow-style dataset folder (meta.json, train.h5, valid.h5)"));
  s.add("graph_mlp.hidden", io::KeyType::Int, "64", "hidden width of the MLP").min = 1;
  s.add("graph_mlp.lr", io::KeyType::Float, "1e-3", "AdamW learning rate").min = 0;
}

Options read_options(const io::Deck& d) {
  Options o;
  if (d.get_string("graph_mlp.data_dir").empty()) d.fail("graph_mlp.data_dir", "give the dataset's folder");
  o.data_dir = d.resolve_path(d.get_string("graph_mlp.data_dir"));
  o.hidden = d.get_int("graph_mlp.hidden");
  o.lr = d.get_float("graph_mlp.lr");
  o.seed = d.get_int("train.seed");
  // The shared train.device: this family trains on the CPU, so another device is refused at the key
  // (ignored, the deck and checkpoint would say cuda:0 for a CPU run).
  if (d.get_string("train.device") != "cpu") d.fail("train.device", "graph_mlp trains on the CPU only (cpu)");
  if (d.has("train.resume")) o.resume = d.resolve_path(d.get_string("train.resume"));
  o.deck_yaml = d.resolved_yaml();
  o.deck_dir = d.base_dir();
  return o;
}

// 2. The learner: one optimiser step, validation figures, and a checkpoint that resumes exactly
// (weights, AdamW moments and the step; tessera's checkpoint helpers check names and shapes).
class GraphMlpLearner : public train::Learner {
 public:
  GraphMlpLearner(Options o, const train::RunContext& ctx) : o_(std::move(o)), ctx_(ctx) {
    at::manual_seed(o_.seed);
    // Errors about the folder or its splits name graph_mlp.data_dir (the folder and split keys).
    train_ =
        train::load_split(o_.data_dir, "train", {}, 0, Comm::self(), 1, "graph_mlp.data_dir", "graph_mlp.data_dir");
    valid_ =
        train::load_split(o_.data_dir, "valid", {}, 1, Comm::self(), 1, "graph_mlp.data_dir", "graph_mlp.data_dir");
    mlp_ = gnn::make_mlp(2 * train::kNodeFeatures, o_.hidden, train::kOutputChannels, 1, false);
    adamw_ = std::make_unique<torch::optim::AdamW>(mlp_->parameters(), torch::optim::AdamWOptions(o_.lr));
    if (!o_.resume.empty()) {
      const train::Checkpoint c = train::load_checkpoint(o_.resume);
      auto params = mlp_->named_parameters();
      train::unpack_parameters(c, o_.resume, params, "train.resume");
      train::unpack_adamw_state(c, o_.resume, params, *adamw_);
      step_ = restore_progress(c.attributes, o_.resume);
    }
  }

  double step() override {
    const train::TrajectoryData& t = train_[step_ % train_.size()];
    const int64_t s = step_ % (t.steps() - 1);
    const at::Tensor change = t.velocity[s + 1] - t.velocity[s];
    const at::Tensor loss = (predict(t, t.velocity[s]) - change).pow(2).sum(1).index({t.loss_mask}).mean();
    adamw_->zero_grad();
    loss.backward();
    adamw_->step();
    ++step_;
    return loss.item<double>();
  }
  int64_t steps_done() const override { return step_; }

  // One-step RMSE over the validation trajectory, beside persistence's (no change).
  std::vector<train::Metric> validate() override {
    at::NoGradGuard no_grad;
    double model = 0, persistence = 0;
    int64_t n = 0;
    for (const auto& t : valid_)
      for (int64_t s = 0; s + 1 < t.steps(); ++s) {
        const at::Tensor change = t.velocity[s + 1] - t.velocity[s];
        model += (predict(t, t.velocity[s]) - change).pow(2).sum().item<double>();
        persistence += change.pow(2).sum().item<double>();
        n += change.numel();
      }
    const double rmse = std::sqrt(model / std::max<int64_t>(n, 1));
    const double rmse_persistence = std::sqrt(persistence / std::max<int64_t>(n, 1));
    core::log_info(ctx_.log.get(), "graph_mlp: validation 1-step RMSE " + core::sci(rmse) + " (persistence " +
                                       core::sci(rmse_persistence) + ")");
    return {{"valid_rmse", rmse}, {"valid_persistence", rmse_persistence}};
  }

  void save(const std::string& path) const override {
    train::Checkpoint c;
    const auto params = mlp_->named_parameters();
    for (const auto& p : params) c.tensors["model." + p.key()] = p.value().detach().cpu();
    train::pack_adamw_state(c, params, *adamw_);
    c.attributes["family"] = "graph_mlp";
    store_progress(c.attributes, step_);
    train::put_deck(c, o_.deck_yaml, o_.deck_dir);
    if (ctx_.comm.root()) train::save_checkpoint(path, c);
  }

 private:
  // [node features, mean of the neighbours' features] -> MLP -> velocity change.
  at::Tensor predict(const train::TrajectoryData& t, const at::Tensor& velocity) {
    const at::Tensor x = train::node_features(velocity, t);
    const at::Tensor degree =
        gnn::scatter_sum_dst(at::ones({t.graph.num_edges(), 1}, x.options()), t.graph).clamp_min(1);
    const at::Tensor mean = gnn::scatter_sum_dst(gnn::gather_src(x, t.graph), t.graph) / degree;
    return mlp_->forward(at::cat({x, mean}, 1));
  }

  Options o_;
  train::RunContext ctx_;
  std::vector<train::TrajectoryData> train_, valid_;
  torch::nn::Sequential mlp_{nullptr};
  std::unique_ptr<torch::optim::AdamW> adamw_;
  int64_t step_ = 0;
};

}  // namespace

// 3. The registry entry: the value of model.family, its keys and its learner.
train::Family graph_mlp_family() {
  train::Family f;
  f.name = "graph_mlp";
  f.summary = "a two-layer graph MLP defined outside tessera (examples/own_family)";
  f.add_keys = add_keys;
  f.make_learner = [](const io::Deck& d, const train::RunContext& ctx) -> std::unique_ptr<train::Learner> {
    return std::make_unique<GraphMlpLearner>(read_options(d), ctx);
  };
  return f;
}

}  // namespace own
