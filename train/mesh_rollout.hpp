// The rollout job of the mesh simulator families (tessera-rollout): rolls a checkpoint out
// autoregressively on a dataset trajectory (boundary nodes imposed every step) or on a mesh with
// an initial condition, and writes prediction, truth and error for ParaView plus RMSE metrics.
// Under mpirun the rollout is partitioned (halo refreshed every step).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "io/mesh_deck.hpp"
#include "train/rollout_state.hpp"

namespace spdlog {
class logger;
}

namespace tessera::train {

struct RolloutOptions {
  std::string checkpoint;    // resolved path
  bool from_dataset = true;  // rollout.source: dataset (with ground truth), or mesh or state (without)
  StateOptions state;        // rollout.source: state (file set): the mesh and initial state from a series
  int64_t trajectory = 0;
  std::vector<int64_t> trajectories;  // rollout.trajectories: several, each written as <base>_<id>
  bool batch = true;                  // roll a rank's trajectories out together
  std::string device = "cpu";
  int64_t steps = 0;          // 0: the whole trajectory
  double dt = 0.01;           // output time step (source mesh)
  bool dt_given = false;      // rollout.dt set by the deck; otherwise the training data's dt where stored
  double inflow_speed = 1.0;  // initial condition (source mesh)
  bool fill_interior = true;
  io::MeshOptions mesh;  // source mesh
  std::string data_dir;  // empty: the training deck's data.dir
  std::string split = "test";
  std::string output_base;  // <output.dir>/<output.name>
  bool vtu = false;
  int64_t every = 1;           // output.every: states between those written to the series
  bool bf16_products = false;  // rollout.precision: bf16 (linalg::Bf16Products)
  std::string deck_yaml;
};

// The mesh simulators' evaluation keys (rollout.source, trajectory, initial condition, mesh, data,
// output.vtu; the shared ones are train::add_evaluation_keys') and the reading of the deck.
void add_rollout_keys(io::Schema& schema);
RolloutOptions rollout_options(const io::Deck& deck);

// Errors about a setting carry its key (tessera::Error::key).
void run_mesh_rollout(const RolloutOptions& options, const Comm& comm, const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::train
