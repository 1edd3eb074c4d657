// Trainer: next-step training of a mesh simulator (docs/references.md §2-3) from a graph-physics
// dataset: online normalisers, Gaussian noise on the velocity of normal nodes, loss on normal
// and outflow nodes, AdamW with linear warm-up and cosine decay, gradient clipping, periodic
// validation and atomic checkpoints that restore everything (model, optimiser moments,
// normalisers, sampler RNG, step), so N + N resumed steps equal 2N uninterrupted steps.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "train/evaluate.hpp"
#include "train/loop.hpp"
#include "train/mesh_sim_options.hpp"
#include "train/trained_on.hpp"

namespace spdlog {
class logger;
}
namespace torch::optim {
class AdamW;
}

namespace tessera::train {

struct Checkpoint;

class Trainer : public Learner {
 public:
  // With several ranks in `comm`, training is parallel (train.parallel): graph-parallel, every
  // graph is partitioned and each rank computes its owned nodes (halo as deep as the model, no
  // communication inside it); or data-parallel, each rank computes whole graphs for its share of
  // every batch. Losses, normaliser statistics and gradients are reduced over ranks either way,
  // so the run equals a single-process run (up to summation order) and checkpoints load at any
  // rank count.
  Trainer(const MeshSimOptions& options, std::shared_ptr<spdlog::logger> log, const Comm& comm = Comm::self());
  ~Trainer() override;
  double step() override;  // one optimiser step over train.batch samples; returns the mean loss
  int64_t steps_done() const override { return step_; }
  int64_t warmup_steps() const override { return options_.optim.warmup; }
  // 1-step and rollout RMSE on the validation trajectories (rank 0; other ranks return none).
  std::vector<Metric> validate() override;
  void save(const std::string& path) const override;
  void load(const std::string& path);
  // The training loss of one sample (train.unroll): from input state `v` of step `s` of `t`, k
  // passes of the model chained autoregressively (each predicts model.bundle steps; boundary
  // nodes imposed on the last, which feeds the next pass), the loss of the last g passes weighted
  // by train.unroll_discount, with gradient through those g; `target_shift` is added to the
  // first pass's targets (train.noise_gamma). Normalisers are used, not updated.
  at::Tensor sample_loss(const TrajectoryData& t, int64_t s, at::Tensor v, int64_t k, int64_t g,
                         const at::Tensor& target_shift = {});
  Simulator& model() { return *model_; }
  const Normalizers& normalizers() const { return norms_; }
  const std::vector<TrajectoryData>& train_data() const { return train_; }

 private:
  MeshSimOptions options_;
  Comm comm_;
  at::Device device_{at::kCPU};            // train.device
  at::ScalarType amp_dtype_ = at::kFloat;  // train.precision: autocast dtype (kFloat: none)
  bool graph_parallel_ = false;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<TrajectoryData> train_, valid_;
  double data_dt_ = 0;           // the training data's time step, stored in checkpoints
  double data_edge_length_ = 0;  // the training meshes' mean edge length, stored in checkpoints
  TrainedOn trained_on_;         // the training trajectories' fingerprints, stored in checkpoints
  // Warns when checkpoint `c` (resumed or fine-tuned from) was trained on another dt than data.dir's,
  // or on meshes of another length scale (mesh_scale_warning).
  void warn_other_data(const Checkpoint& c, const std::string& path) const;
  // Refuses a checkpoint whose stored deck differs from this run's in a setting that a resume
  // (or, with `fine_tuning`, a train.init) must keep.
  void require_same_setup(const Checkpoint& c, const std::string& path, bool fine_tuning) const;
  std::unique_ptr<Simulator> model_;
  std::unique_ptr<torch::optim::AdamW> opt_;
  Normalizers norms_;
  at::Generator gen_;
  int64_t step_ = 0;
};

}  // namespace tessera::train
