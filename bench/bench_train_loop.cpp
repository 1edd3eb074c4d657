// Benchmark: how much of a training step the loop spends outside the model (issue 16's "loop
// overhead"). Runs the real loop (the deck as tessera-train reads it, the family's Trainer and
// train::run_training with its progress line) on a CylinderFlow-sized mesh (~2k nodes; the
// analytic fields of the training tests, tests/synthetic_flow.hpp, as a graph-physics dataset),
// and times in the same run the model's own work for the same batch: per sample forward on ready
// features, loss and backward, then gradient clipping (where the deck clips) and AdamW.
// Overhead = loop step / model step - 1, with one validation and one checkpoint charged at the
// deck's intervals (1 per 1000 steps). The two are timed in alternating rounds (medians), since
// this machine's speed drifts by ~10%.
//   usage: bench_train_loop [--quick] [--steps N] [deck.yaml ...]
// (default decks: decks/train-transformer.yaml and decks/train-meshgraphnet.yaml)
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench_paths.hpp"
#include "bench/cli.hpp"
#include "bench/cylinder_mesh.hpp"
#include "bench/machine.hpp"
#include "bench/timing.hpp"
#include "core/log.hpp"
#include "io/dataset.hpp"
#include "io/deck.hpp"
#include "io/schema.hpp"
#include "tests/synthetic_flow.hpp"
#include "train/families/families.hpp"
#include "train/family.hpp"
#include "train/fused_adamw.hpp"
#include "train/loop.hpp"
#include "train/mesh_data.hpp"
#include "train/mesh_sim_options.hpp"
#include "train/trainer.hpp"

using namespace tessera;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void write_dataset(const std::string& dir, const mesh::Mesh& m, int n_train, int64_t steps) {
  const auto meta = io::DatasetMeta::cylinder_flow(steps, 0.01);
  int k = 0;
  // Two validation trajectories, as the decks validate on (train.valid_trajectories: 2).
  for (auto [split, count] : {std::pair{"train", n_train}, {"valid", 2}}) {
    io::DatasetWriter w(dir, split, meta);
    for (int i = 0; i < count; ++i, ++k)
      w.write(i, test::synthetic_trajectory(m, steps, 0.1 + 0.05 * k, 0.9 * k, 0.41));
    w.finish();
  }
}

// The trainer as run_training sees it, minus validation and checkpoints (timed on their own).
class StepsOnly : public train::Learner {
 public:
  explicit StepsOnly(train::Trainer& t) : t_(t) {}
  double step() override { return t_.step(); }
  int64_t steps_done() const override { return t_.steps_done(); }
  int64_t warmup_steps() const override { return t_.warmup_steps(); }
  void set_time_fraction(double f) override { t_.set_time_fraction(f); }
  std::vector<train::Metric> validate() override { return {}; }
  void save(const std::string&) const override {}

 private:
  train::Trainer& t_;
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int64_t steps = 20;
  std::vector<std::string> decks;
  CLI::App cli("the training loop's overhead over the model's own work, with tessera-train's decks",
               "bench_train_loop");
  cli.option_defaults()->always_capture_default();
  cli.add_flag("--quick", quick, "a coarse mesh, 3 steps, 1 round (smoke test)");
  cli.add_option("--steps", steps, "timed steps per deck")->check(bench::positive<int64_t>());
  cli.add_option("deck", decks,
                 "tessera-train decks (default: decks/train-transformer.yaml and decks/train-meshgraphnet.yaml)")
      ->check(CLI::ExistingFile);
  if (const auto rc = bench::parse(cli, argc, argv)) return *rc;
  if (quick) steps = 3;
  if (decks.empty())
    decks = {bench::source_dir() + "/decks/train-transformer.yaml",
             bench::source_dir() + "/decks/train-meshgraphnet.yaml"};

  // 1. A CylinderFlow-sized dataset in a scratch folder (removed at the end).
  const mesh::Mesh m = bench::cylinder_flow_mesh(quick);
  const std::string scratch =
      (std::filesystem::temp_directory_path() / ("tessera-bench-train-loop-" + std::to_string(::getpid()))).string();
  // 52 states: the decks' 50-step validation rollout fits (with 40 it was cut to 39 steps).
  write_dataset(scratch + "/data", m, 4, quick ? 12 : 52);
  std::printf("machine: %s\n", bench::machine_description().c_str());
  std::printf("training loop vs model work, %lld nodes, %d CPU threads, %lld timed steps per deck\n",
              (long long)m.num_nodes(), at::get_num_threads(), (long long)steps);
  std::printf("%-26s %6s %10s %10s %10s %10s %10s %9s\n", "deck", "batch", "loop ms", "model ms", "valid ms", "ckpt ms",
              "per step", "overhead");

  io::Schema schema("tessera-train");
  train::add_training_deck_keys(schema);
  try {
    for (const std::string& deck_path : decks) {
      // 2. The deck as tessera-train reads it, pointed at the scratch dataset.
      const io::Deck deck =
          io::Deck::load(deck_path, schema, {"data.dir=" + scratch + "/data", "output.dir=" + scratch + "/out"});
      const train::MeshSimOptions options = train::mesh_sim_options(deck);
      const train::LoopOptions loop = train::loop_options(deck);
      core::LogOptions quiet;
      quiet.level = "warn";
      auto log = core::make_logger("bench", Comm::self(), quiet);
      train::Trainer trainer(options, log);

      // 3. The model's own work for one batch: the same model, samples and normalisers, features
      //    and targets prepared outside the timing. The deck's recipe: model.bundle steps per pass,
      //    train.unroll passes per sample of which the last train.unroll_grad carry the loss and the
      //    gradient. Passes after the first take the previous pass's last predicted step as their
      //    velocity columns (the input's values do not change the work).
      train::Simulator& model = trainer.model();
      const auto& data = trainer.train_data();
      const train::Normalizers& norms = trainer.normalizers();
      const int64_t batch = options.optim.batch, bundle = options.model.bundle;
      std::vector<at::Tensor> features, targets;
      for (int64_t b = 0; b < batch; ++b) {
        const auto& t = data[b % data.size()];
        const int64_t span = options.unroll.steps * bundle;
        const int64_t s = (3 * b + 1) % (t.steps() - span);
        features.push_back(norms.node.normalize(train::node_features(t.velocity[s], t)));
        targets.push_back(norms.target.normalize(train::bundle_target(t, s, t.velocity[s], bundle)));
      }
      train::FusedAdamW opt(model.module().parameters(), torch::optim::AdamWOptions(options.optim.lr)
                                                             .betas({options.optim.betas[0], options.optim.betas[1]})
                                                             .weight_decay(options.optim.weight_decay));
      auto model_step = [&] {
        opt.zero_grad();
        const int64_t k = options.unroll.length_at(trainer.steps_done());
        const int64_t g = options.unroll.grad_steps_at(trainer.steps_done());
        for (int64_t b = 0; b < batch; ++b) {
          const auto& t = data[b % data.size()];
          const double count = double(t.loss_mask.sum().item<int64_t>());
          at::Tensor x = features[b], loss;
          for (int64_t j = 0; j < k; ++j) {
            at::AutoGradMode grad_mode(j >= k - g);
            at::Tensor pred = model.forward(x, t);
            if (j >= k - g) {
              at::Tensor err = (pred - targets[b]).pow(2).sum(1);
              at::Tensor l = err.masked_select(t.loss_mask).sum() / count;
              loss = loss.defined() ? loss + l : l;
            }
            if (j + 1 < k)
              x = at::cat({pred.narrow(1, pred.size(1) - 2, 2), features[b].narrow(1, 2, features[b].size(1) - 2)}, 1);
          }
          (loss / double(batch)).backward();
        }
        if (options.optim.clip > 0) torch::nn::utils::clip_grad_norm_(model.module().parameters(), options.optim.clip);
        opt.step();
      };

      // 4. The real loop, run_training, in rounds alternating with the model's work so that both
      //    see the same machine; medians over the rounds. Validation and checkpoints are timed on
      //    their own (once each) and charged at the deck's intervals, so the rounds skip them.
      trainer.step();  // warm-up
      model_step();
      const double valid_ms = bench::median_ms([&] { trainer.validate(); }, 1, 0);
      const double ckpt_ms = bench::median_ms([&] { trainer.save(scratch + "/ckpt.h5"); }, 1, 0);
      StepsOnly learner(trainer);
      const int rounds = quick ? 1 : 5;
      const int64_t chunk = std::max<int64_t>(1, steps / rounds);
      std::vector<double> loop_samples, model_samples;
      for (int r = 0; r < rounds; ++r) {
        train::LoopOptions timed = loop;
        timed.steps = trainer.steps_done() + chunk;
        timed.validate_every = timed.checkpoint_every = 0;
        timed.time_limit_minutes = 0;
        timed.output_dir = scratch + "/out";
        std::filesystem::remove_all(timed.output_dir);
        const auto t0 = std::chrono::steady_clock::now();
        train::run_training(learner, timed, Comm::self(), log);
        loop_samples.push_back(1e3 * seconds_since(t0) / double(chunk));
        model_samples.push_back(bench::median_ms(model_step, quick ? 1 : 3, 0));
      }
      const double loop_ms = bench::median(loop_samples), model_ms = bench::median(model_samples);

      // 5. Validation and checkpoint at the deck's intervals (once per 1000 steps when unset).
      const double every_v = double(loop.validate_every > 0 ? loop.validate_every : 1000);
      const double every_c = double(loop.checkpoint_every > 0 ? loop.checkpoint_every : 1000);
      const double per_step = loop_ms + valid_ms / every_v + ckpt_ms / every_c;
      std::printf("%-26s %6lld %10.2f %10.2f %10.1f %10.1f %10.2f %8.1f%%\n",
                  std::filesystem::path(deck_path).filename().string().c_str(), (long long)batch, loop_ms, model_ms,
                  valid_ms, ckpt_ms, per_step, 100.0 * (per_step / model_ms - 1));
    }
  } catch (const std::exception& e) {  // a deck's error names its file and key
    std::fprintf(stderr, "bench_train_loop: error: %s\n", e.what());
    std::filesystem::remove_all(scratch);
    return 1;
  }
  std::printf(
      "loop ms: run_training per step (median of rounds); model ms: the deck's passes (model.bundle, train.unroll) "
      "with loss and backward per sample, clipping and AdamW;\n"
      "per step: loop ms + validation and checkpoint at the deck's intervals; overhead: per step / model - 1\n");
  std::filesystem::remove_all(scratch);
  return 0;
}
