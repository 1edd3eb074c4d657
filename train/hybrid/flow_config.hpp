// The solver settings of a dataset trajectory, so the solver continues the flow the data were
// made with: the fluid (viscosity, density, inflow profile) and linear-solver settings of the
// tessera-cfd deck stored in the dataset's split file, and the trajectory's own inflow speed,
// fitted to the data's inflow-node velocities (datasets store no per-trajectory parameters
// beside trajectories.csv; the fit recovers the drawn speed to float32 precision). Deck
// overrides (solver.*) win; a dataset without a stored tessera-cfd deck needs solver.viscosity.
#pragma once
#include <string>
#include <vector>

#include "mesh/mesh.hpp"
#include "solvers/navier_stokes.hpp"
#include "train/hybrid/options.hpp"

namespace tessera::train::hybrid {

struct TrajectoryFlow {
  solvers::FlowConfig flow;
  solvers::LinearSolverConfig linear;
  std::string source;        // where the fluid came from, for the log
  double inflow_misfit = 0;  // inflow_misfit() of the fitted speed
};

// Least-squares peak speed U of the profile (parabolic: 4 U y (H - y) / H² over the mesh's
// y-extent, as the solver imposes it; uniform: U) through the x-velocity of the inflow nodes.
// `velocity`: 2 per vertex. Throws (key "data.dir") when the mesh has no inflow nodes.
double fit_inflow_speed(const mesh::Mesh& mesh, const std::vector<double>& velocity,
                        solvers::FlowConfig::Profile profile);
// How far the inflow nodes' x-velocity is from the profile with peak `speed`: the RMS of the
// difference over the RMS of the velocity (0: the data follow the profile the solver imposes; a
// uniform inflow against the parabola gives about 0.3, docs/hybrid.md).
double inflow_misfit(const mesh::Mesh& mesh, const std::vector<double>& velocity, solvers::FlowConfig::Profile profile,
                     double speed);

// `stored_deck`: the split file's deck (io::DatasetReader::deck_yaml()), `what` names the
// dataset in messages; `initial`: the first velocity state, 2 per vertex.
TrajectoryFlow trajectory_flow(const std::string& stored_deck, const std::string& what, const mesh::Mesh& mesh,
                               const std::vector<double>& initial, const SolverOptions& overrides);

}  // namespace tessera::train::hybrid
