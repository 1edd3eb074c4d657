// The typed options of tessera-hybrid and the one place that reads them from a deck: the
// schedule (hybrid.*: K surrogate steps, M solver steps, the trigger), the rollout's source and
// outputs (rollout.*, data.*, output.*: tessera-rollout's keys) and the solver's settings
// (solver.*; the fluid itself comes from the dataset, see flow_config.hpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace tessera::io {
class Deck;
class Schema;
}  // namespace tessera::io

namespace tessera::train::hybrid {

// When the solver takes over. Fixed: after every K surrogate steps. Divergence: when the
// divergence indicator (indicator.hpp) of a surrogate step's state exceeds the threshold (that
// step is rejected and taken by the solver), or after K surrogate steps (K = 0: no limit).
enum class Trigger { Fixed, Divergence };

struct Schedule {
  int64_t surrogate_steps = 9;  // K
  int64_t solver_steps = 1;     // M
  Trigger trigger = Trigger::Fixed;
  double threshold = 0;  // divergence trigger: indicator level
};
// Throws an Error keyed hybrid.* when the schedule cannot run (K = M = 0, a divergence trigger
// without solver steps or with a threshold <= 0).
void check_schedule(const Schedule& schedule);

// solver.*: overrides of the dataset's settings (unset: the dataset's).
struct SolverOptions {
  std::string petsc_options;  // solver.petsc_options (command-line PETSc options win)
  std::optional<double> viscosity;
  std::optional<int> refactor_every;
  std::optional<double> rtol;
};

struct HybridOptions {
  Schedule schedule;
  SolverOptions solver;
  std::string checkpoint;  // resolved path
  std::string device = "cpu";
  int64_t threads = 0;   // rollout.threads: torch's (and OpenMP's) threads per process; 0: as set
  std::string data_dir;  // empty: the training deck's data.dir
  std::string split = "test";
  int64_t trajectory = 0;
  int64_t steps = 0;        // 0: the whole trajectory
  bool pure_solver = true;  // also time the solver alone over the same steps
  std::string output_base;  // <output.dir>/<output.name>
  bool vtu = false;
  std::string deck_yaml;
};

// tessera-hybrid's deck: train::add_evaluation_keys' shared keys (rollout.checkpoint,
// rollout.device, rollout.threads, rollout.steps, output.dir, output.name) and the keys above.
void add_hybrid_keys(io::Schema& schema);
HybridOptions hybrid_options(const io::Deck& deck);

}  // namespace tessera::train::hybrid
