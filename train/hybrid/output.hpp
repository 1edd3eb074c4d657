// Writing a hybrid rollout: everything tessera-rollout writes (train::write_rollout: XDMF series
// of predicted, true and error velocity, <base>.png snapshots, <base>_metrics.csv and
// <base>_summary.csv), plus
//   <base>_hybrid.csv          step, time, taken_by (surrogate|solver), indicator, rmse,
//                              persistence_rmse, solver_alone_rmse (when measured)
//   <base>_hybrid_summary.csv  metric,value: K, M, trigger, steps, solver fraction, RMSEs, wall
//                              times and their ratios to the solver alone
//   <base>_rmse.png            RMSE per step (hybrid, solver alone, persistence) and the indicator
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "train/hybrid/hybrid_rollout.hpp"
#include "train/rollout_output.hpp"

namespace tessera::train::hybrid {

// The hybrid run's headline numbers (`solver_alone` when measured).
struct HybridSummary {
  RolloutSummary rollout;
  double solver_fraction = 0;
  double surrogate_seconds = 0, solver_seconds = 0, seconds = 0;
  std::optional<double> solver_alone_seconds, solver_alone_rmse;
};
HybridSummary summarize_hybrid(const HybridResult& hybrid, const OneStepError& one, const HybridResult* solver_alone);

// Collective (the XDMF data); rank 0 writes the rest. Returns the files rank 0 wrote.
std::vector<std::string> write_hybrid(const std::string& base, const TrajectoryData& truth, const HybridResult& hybrid,
                                      const HybridResult* solver_alone, const HybridSummary& summary,
                                      const Schedule& schedule, double dt, bool vtu, const std::string& deck_yaml,
                                      const Comm& comm = Comm::self());

}  // namespace tessera::train::hybrid
