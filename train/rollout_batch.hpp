// Evaluating a checkpoint on several dataset trajectories (tessera-rollout with
// rollout.trajectories): the trajectories are dealt out to the ranks (round-robin), each rank
// rolls its share out together (one forward pass per step for all of them, train::
// batch_trajectories) or one after another, writes each as tessera-rollout writes one
// (<base>_<id>.*), and rank 0 writes the per-trajectory and mean metrics (<base>_trajectories.csv:
// RMSEs and the wake probe of train/wake_probe.hpp).
#pragma once
#include <memory>

#include "core/comm.hpp"
#include "train/mesh_rollout.hpp"
#include "train/model_io.hpp"

namespace spdlog {
class logger;
}

namespace tessera::train {

// Collective over `comm`. `m` is on `device` already.
void run_rollout_batch(const RolloutOptions& options, TrainedModel& m, const at::Device& device, const Comm& comm,
                       const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::train
