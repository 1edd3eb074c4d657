// The initial state of a rollout read from a series (rollout.source: state): the mesh, its node
// types and one step's velocity of a VTU or XDMF series, as a one-state trajectory without
// ground truth. What a stopped rollout left (<name>.partial/<name>.xmf) goes on from its last
// state; a solver's series (tessera-cfd's, or another's) hands its developed flow to the model.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "io/dataset.hpp"

namespace tessera::train {

struct StateOptions {
  std::string file;                 // a .xmf/.xdmf, a .pvd or a folder of .vtu steps
  int64_t step = -1;                // the series' step (negative: from the end, -1 the last)
  std::string velocity;             // the velocity field; empty: velocity, else a tessera rollout's velocity_pred
  std::string node_types = "auto";  // field, infer (from the boundary in this state), or auto
};

struct SeriesState {
  io::Trajectory data;                                        // cells, mesh_pos, node_type, velocity [1, N, 2]
  std::string what;                                           // "<file> step k of n (t = ...)", for messages
  double time = std::numeric_limits<double>::quiet_NaN();     // its time stamp, where the series has one
  double spacing = std::numeric_limits<double>::quiet_NaN();  // the series' first time step, where stamped
  std::string node_types;                                     // "from field 'node_type'" or "inferred"
  std::vector<std::string> warnings;                          // the reader's doubts about the series
};

// Errors name rollout.state.file (rollout.state.velocity for a missing field, rollout.state.step
// for a step the series lacks).
SeriesState read_series_state(const StateOptions& o);

}  // namespace tessera::train
