// tessera-rollout for NeuralStagger checkpoints: rolls the model out from seeded random states
// with its coarse solvers spread over the MPI ranks, runs the spectral reference from the same
// states, and writes (rank 0) the error per step (CSV), the first state's predicted, reference
// and error fields as a .vti time series with a .pvd collection for ParaView, and a PNG of
// vorticity snapshots; it logs model and reference wall time per simulated time unit.
#pragma once
#include <memory>

#include "core/comm.hpp"
#include "train/stagger/options.hpp"

namespace spdlog {
class logger;
}

namespace tessera::train::stagger {

void run_stagger_rollout(const StaggerRolloutOptions& options, const Comm& comm,
                         const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::train::stagger
