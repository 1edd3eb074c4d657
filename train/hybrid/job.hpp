// tessera-hybrid's job: a trained mesh simulator and the PETSc solver rolled out together on a
// dataset trajectory (hybrid_rollout.hpp), optionally the solver alone over the same steps for
// the cost and error reference, written like tessera-rollout (output.hpp). Collective; PETSc
// must be initialised (solvers::PetscSession) by the caller.
#pragma once
#include <memory>

#include "core/comm.hpp"
#include "train/hybrid/options.hpp"

namespace spdlog {
class logger;
}

namespace tessera::train::hybrid {

// Errors about a setting carry its key (tessera::Error::key).
void run_hybrid(const HybridOptions& options, const Comm& comm, const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::train::hybrid
