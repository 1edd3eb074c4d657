// The learner of the NeuralStagger family (docs/neuralstagger.md). Data-free: the loss is the
// θ-scheme residual of the vorticity equation (physics/vorticity_residual.hpp) between the
// current state and each of the T assembled predictions in turn, normalised by the rms right-hand
// side of random states. States come from a pool that starts as seeded random fields and is
// advanced by the model itself (each step's last prediction replaces its input: a rollout
// curriculum), with a few entries refreshed from new random fields every step. Everything random
// is derived from (train.seed, step), so a resumed run is bit-identical. Under mpirun the batch
// is split over ranks and gradients are summed (data parallel).
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/comm.hpp"
#include "train/loop.hpp"
#include "train/stagger/model.hpp"

namespace torch::optim {
class Optimizer;
}

namespace tessera::train::stagger {

class StaggerLearner : public Learner {
 public:
  StaggerLearner(const StaggerOptions& options, const Comm& comm, std::shared_ptr<spdlog::logger> log);
  ~StaggerLearner() override;
  double step() override;
  int64_t steps_done() const override { return step_; }
  int64_t warmup_steps() const override { return options_.warmup; }
  std::vector<Metric> validate() override;
  void save(const std::string& path) const override;

  // The physics loss of one round from states w [B, N, N] (differentiable).
  at::Tensor physics_loss(const at::Tensor& w) const;
  const StaggerModel& model() const { return *model_; }
  StaggerModel& model() { return *model_; }
  const at::Tensor& pool() const { return pool_; }

 private:
  void load(const std::string& path);
  // The physics loss and the T predicted states [T, B, N, N] of one round from w.
  std::pair<at::Tensor, at::Tensor> loss_and_prediction(const at::Tensor& w) const;

  StaggerOptions options_;
  Comm comm_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<StaggerModel> model_;
  std::unique_ptr<torch::optim::Optimizer> adamw_;
  at::Tensor pool_;  // [pool, N, N] on the device
  int64_t step_ = 0;
};

// Builds the model a stagger checkpoint holds (parameters and normalisers) on `device`.
std::unique_ptr<StaggerModel> load_stagger_model(const std::string& path, const std::string& device, const Comm& comm);

}  // namespace tessera::train::stagger
