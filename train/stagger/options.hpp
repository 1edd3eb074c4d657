// Typed options of the NeuralStagger family (model.family: stagger; docs/neuralstagger.md), read
// once from a training deck's `stagger` section, and of its evaluation (tessera-rollout).
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "physics/flow_statistics.hpp"
#include "physics/vorticity_residual.hpp"

namespace tessera::io {
class Deck;
class Schema;
}  // namespace tessera::io

namespace tessera::train::stagger {

struct StaggerOptions {
  // The flow: 2D vorticity equation on [0, 2π)² with N×N points; the neural step is physics.dt.
  int64_t n = 64;
  physics::VorticityStepOptions physics;  // ν, drag, forcing, ∆t, θ, discretisation of the loss
  double reference_dt = 0.005;            // internal step cap of the spectral reference solver
  physics::RandomVorticityOptions initial;
  // The decomposition: s × s staggered sub-grids, T temporal pieces (s²·T coarse solvers).
  int64_t s = 2;
  int64_t T = 1;
  // Each coarse solver: a periodic-padding ResNet on (N/s)² grids.
  int64_t width = 24;
  int64_t blocks = 3;
  int64_t kernel = 3;
  bool velocity_inputs = true;  // feed (u, v) from ω besides ω (and the forcing)
  // Training: a pool of states, started from random fields and advanced by the model itself.
  int64_t batch = 16;
  int64_t pool_size = 256;
  int64_t refresh = 2;  // pool entries replaced by fresh random fields each step
  double lr = 1e-3;
  double lr_min = 1e-5;
  int64_t warmup = 50;
  int64_t total_steps = 1000;  // train.steps, for the cosine decay
  double grad_clip = 1.0;
  bool fp64 = false;
  int64_t threads = 1;
  // Validation against the reference from seeded random states.
  int64_t validation_samples = 4;
  int64_t validation_steps = 10;
  uint64_t validation_seed = 1000003;
  uint64_t seed = 0;
  std::string device = "cpu";
  std::string resume;
  std::string deck_yaml;
  std::string deck_dir;  // the deck's folder, stored beside it in checkpoints (for its relative paths)

  int64_t solvers() const { return s * s * T; }
  int64_t coarse_n() const { return n / s; }
  // Throws tessera::Error naming the offending key (N not divisible by s, odd kernel, ...).
  void validate() const;
  // The options a checkpoint stores to rebuild the model and its physics (string attributes).
  std::map<std::string, std::string> to_attributes() const;
  static StaggerOptions from_attributes(const std::map<std::string, std::string>& a, const std::string& path);
};

void add_stagger_keys(io::Schema& schema);
StaggerOptions read_stagger_options(const io::Deck& deck);

// tessera-rollout of a stagger checkpoint: a rollout from seeded random states, against the
// reference solver, with timing and ParaView / PNG output.
struct StaggerRolloutOptions {
  std::string checkpoint;
  std::string device = "cpu";
  int64_t steps = 50;  // neural steps (rollout.steps; 0: 50)
  int64_t samples = 2;
  uint64_t seed = 2000003;
  int64_t output_every = 5;  // VTI frames every this many steps (0: none)
  int64_t threads = 1;
  std::string output_dir = "out/rollout", name = "rollout";
  std::string deck_yaml;  // the resolved deck, stored in each .vti frame
};

void add_stagger_rollout_keys(io::Schema& schema);
StaggerRolloutOptions read_stagger_rollout_options(const io::Deck& deck);

}  // namespace tessera::train::stagger
