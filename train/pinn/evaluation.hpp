// Evaluation of a PINN case checkpoint by tessera-rollout (docs/pinn.md): the trained network on a
// grid of the deck's (finer or coarser than the training's, and to a later final time: an
// extrapolation in time), against the same reference solution, with its fields (VTK image data and
// a PNG), the relative error at every time (CSV and a plot) and the figure on the training's grid.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/comm.hpp"
#include "train/pinn/learner.hpp"

namespace spdlog {
class logger;
}
namespace tessera::io {
class Deck;
class Schema;
}  // namespace tessera::io

namespace tessera::train::pinn {

struct PinnEvaluationOptions {
  std::string checkpoint;      // rollout.checkpoint: a case's checkpoint.h5 of tessera-train
  int64_t nx = 0, nt = 0;      // pinn.grid.nx, pinn.grid.nt; 0: the training's
  double t_end = 0;            // pinn.t_end; 0: the training's T
  bool steps_given = false;    // rollout.steps set (not read: the network is evaluated once)
  std::string device = "cpu";  // rollout.device: the evaluation runs on the CPU only
  std::string output_dir, name;
  std::string deck_yaml;  // the evaluation's resolved deck, stored in the .vti (it names the checkpoint)
};

void add_pinn_evaluation_keys(io::Schema& schema);
PinnEvaluationOptions read_pinn_evaluation_options(const io::Deck& deck);

// Rank 0 evaluates (one network on one grid; the others wait); writes <output_dir>/<name>_fields.vti,
// <name>_plot.png, <name>_errors.csv and <name>_errors.png, and logs the errors. Returns rank 0's
// evaluation there (an empty one elsewhere).
Evaluation run_pinn_evaluation(const PinnEvaluationOptions& options, const Comm& comm,
                               const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::train::pinn
