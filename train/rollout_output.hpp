// Writing a rollout for ParaView and for analysis: an XDMF series (and optionally VTU + PVD)
// with predicted, true and error velocity at every step, plus metrics files:
//   <base>_metrics.csv  step, time, rmse, persistence_rmse
//   <base>_summary.csv  one_step_rmse, one_step_persistence, rollout_rmse_1/50/all (+ persistence)
//   <base>_wake_probe.csv  the wake probe (train/wake_probe.hpp): node, position, frequency and
//                          amplitude of the cross-stream velocity, true and predicted
//   <base>_wake_probe_series.csv  step, time, v_true, v_pred: the probe's signal at every step
//   <base>_wake_probe.png  that signal (data and model) beside the RMSE per step and persistence's
#pragma once
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "io/dataset.hpp"
#include "train/evaluate.hpp"
#include "train/wake_probe.hpp"

namespace tessera::train {

// The warning for a rollout whose prediction stopped being finite (the model diverged), naming
// `what` and the first such step; empty when it stayed finite.
std::string divergence_warning(const Rollout& r, const std::string& what);

// A trajectory for rolling out on a mesh without ground truth: `steps + 1` copies of an initial
// velocity (parabolic inflow profile of peak `inflow_speed` across the channel height on inflow
// nodes, and on interior/outflow nodes too if `fill_interior`; zero on walls). Fixed nodes keep
// these values during the rollout.
io::Trajectory initial_condition_trajectory(const mesh::Mesh& mesh, int64_t steps, double inflow_speed,
                                            bool fill_interior);

struct RolloutSummary {
  double one_step = 0, one_step_persistence = 0;
  double rmse_1 = 0, rmse_50 = 0, rmse_all = 0;
  double persistence_1 = 0, persistence_50 = 0, persistence_all = 0;
  WakeProbe wake;  // against `truth` when given (node -1 otherwise)
};
// `truth`: the data of the rolled-out trajectory (its whole graph), for the wake probe; null
// where there is none or where no one writes it (ranks other than 0).
RolloutSummary summarize(const Rollout& r, const OneStepError& one, const TrajectoryData* truth, double dt);

// Removes what an earlier tessera-rollout into `output_base` left in either form, so that a run
// in the other form leaves nothing that would pass for its own: the single trajectory's files
// (<output_base>.xmf, .pvd, _metrics.csv, ...) and, when <output_base>_trajectories.csv is there,
// the files of every trajectory it lists (<output_base>_<id>.*) and the table itself. Call on one
// rank before writing.
void remove_earlier_rollouts(const std::string& output_base);

// `t` is the whole (unpartitioned) trajectory on every rank; with several ranks in `comm` the
// calls are collective and rank 0 writes the files for all. Without ground truth
// (`with_truth` false) only the prediction is written, and no metrics. Returns the files rank 0
// wrote besides the per-step data (.xmf, .pvd, .png, metrics), for the log.
std::vector<std::string> write_rollout(const std::string& base, const TrajectoryData& t, const Rollout& r,
                                       const RolloutSummary& s, double dt, bool vtu, const std::string& deck_yaml,
                                       const Comm& comm = Comm::self(), bool with_truth = true);

}  // namespace tessera::train
