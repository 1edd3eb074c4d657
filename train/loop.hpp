// The training loop every model family shares: steps until the deck's total (or a wall-time
// budget), a progress line with the step's and the smoothed loss and ETA, a stop on a non-finite
// loss, periodic validation into metrics.csv, atomic checkpoints (the last one named if the run
// is interrupted) and training.png. A family supplies a Learner (one optimiser
// step, validation, checkpointing) and never writes its own loop.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/comm.hpp"

namespace spdlog {
class logger;
}

namespace tessera::train {

// A named validation figure: one column of metrics.csv.
using Metric = std::pair<std::string, double>;

class Learner {
 public:
  virtual ~Learner() = default;
  // One optimiser step; returns its mean loss (the same on every rank).
  virtual double step() = 0;
  virtual int64_t steps_done() const = 0;
  // Steps of learning-rate warm-up, after which a wall-time budget drives the decay.
  virtual int64_t warmup_steps() const { return 0; }
  // Under a wall-time budget: the fraction of it used since warm-up ended (< 0: the schedule
  // follows the step count). Read by decay_step; a learner that wraps another forwards it (as
  // bench_train_loop's does).
  virtual void set_time_fraction(double fraction) { time_fraction_ = fraction; }
  // Validation figures at the current step, logged by the learner itself. Ranks without
  // validation data return none; rank 0 alone writes metrics.csv (it must hold the figures).
  virtual std::vector<Metric> validate() = 0;
  // Early stopping: after a validation, a non-empty reason ends training there (the same on
  // every rank). The loop logs it, then writes the final checkpoint as usual. Asked also of a
  // resumed learner before its first step: a run that had stopped early has nothing to train.
  virtual std::string stop_reason() const { return {}; }
  // Writes a checkpoint from which training resumes exactly (collective; rank 0 writes).
  virtual void save(const std::string& path) const = 0;

 protected:
  // The step at which a warm-up + cosine schedule is evaluated for step `step`: the step itself,
  // or further along under a wall-time budget (train::schedule_step), never behind the position
  // a resumed run's checkpoint reached. The warm-up + cosine learners (mesh simulators,
  // NeuralStagger) call it once per step, so train.time_limit drives all of them alike.
  int64_t decay_step(int64_t step, int64_t warmup, int64_t total);
  // The schedule position of the next step (one past the last decay_step's), for checkpoints,
  // and its restoration: a run resumed under a new budget spreads the rest of the decay over it
  // instead of going back to the step-based position. Without a budget the position is the step
  // count, so resume stays exact.
  int64_t schedule_position() const { return schedule_next_; }
  void resume_schedule(int64_t position) { schedule_from_ = schedule_next_ = position; }
  // A checkpoint's progress attributes: `step` (steps done) and `schedule_step` (the position
  // above), and their restoration, which returns the step. A damaged or missing value is one clear
  // error naming `path`; a checkpoint without schedule_step (older ones) resumes at the step.
  void store_progress(std::map<std::string, std::string>& attributes, int64_t step) const;
  int64_t restore_progress(const std::map<std::string, std::string>& attributes, const std::string& path);

 private:
  double time_fraction_ = -1;  // < 0: no budget
  int64_t schedule_from_ = 0;  // the position this run started from (0, or a checkpoint's)
  int64_t schedule_next_ = 0;  // one past the last decay_step's position
};

struct LoopOptions {
  int64_t steps = 1000;           // train.steps: total, counting steps of a resumed run
  int64_t validate_every = 0;     // 0: at the end only
  int64_t checkpoint_every = 0;   // 0: at the end only
  double time_limit_minutes = 0;  // 0: no wall-time budget
  std::string output_dir = "out/train";
  // The checkpoint a resumed run loaded (train.resume); empty: none, or output_dir's own. Its
  // folder's metrics.csv and loss.csv hold the rows before it, so a resume into a new output_dir
  // continues the whole history there.
  std::string resumed_from;
  // How to go on after a stop request (core/stop_request.hpp); empty: "--set train.resume=<the
  // checkpoint>". A study that resumes its cases by itself says so instead.
  std::string resume_hint;
  // An outside reason to stop, asked before each step but the first (a PINN study's case failed
  // on another rank, core::IndependentWork): when it returns a non-empty reason on any rank of the
  // loop, training stops after that step with a checkpoint, as for a stop request, and
  // run_training returns (the caller asks again to tell a stop from the end).
  std::function<std::string()> stop_elsewhere;
};

// Trains `learner` to options.steps; writes <output_dir>/checkpoint.h5, loss.csv (step, loss,
// smoothed loss: every step up to the checkpoint) and, where validation returns figures,
// metrics.csv. Collective over `comm`. Throws on divergence.
void run_training(Learner& learner, const LoopOptions& options, const Comm& comm,
                  const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::train
