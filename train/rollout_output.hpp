// Writing a rollout for ParaView and for analysis: an XDMF series (and optionally VTU + PVD)
// with predicted, true and error velocity at every step, plus metrics files:
//   <base>_metrics.csv  step, time, rmse, persistence_rmse
//   <base>_summary.csv  one_step_rmse, one_step_persistence, rollout_rmse_1/50/all (+ persistence)
//   <base>_wake_probe.csv  the wake probe (train/wake_probe.hpp): node, position, frequency and
//                          amplitude of the cross-stream velocity, true and predicted
//   <base>_wake_probe_series.csv  step, time, v_true, v_pred: the probe's signal at every step
//   <base>_wake_probe.png  that signal (data and model) beside the RMSE per step and persistence's
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/comm.hpp"
#include "io/dataset.hpp"
#include "train/evaluate.hpp"
#include "train/wake_probe.hpp"

namespace tessera::train {

// The warning for a rollout whose prediction stopped being finite (the model diverged), naming
// `what` and the first such step; empty when it stayed finite.
std::string divergence_warning(const Rollout& r, const std::string& what);

// A trajectory for rolling out on a mesh without ground truth: one state, an initial velocity
// (parabolic inflow profile of peak `inflow_speed` across the channel height on inflow nodes, and
// on interior/outflow nodes too if `fill_interior`; zero on walls). Fixed nodes keep these values
// during the rollout (held_for).
io::Trajectory initial_condition_trajectory(const mesh::Mesh& mesh, double inflow_speed, bool fill_interior);
// `t` (of one state) held for `steps` steps: its velocity becomes a [steps + 1, N, 2] view of that
// one state, not copies of it (a 10,000-step rollout held 10,001 of them, twice).
TrajectoryData held_for(TrajectoryData t, int64_t steps);

struct RolloutSummary {
  double one_step = 0, one_step_persistence = 0;
  double rmse_1 = 0, rmse_50 = 0, rmse_all = 0;
  double persistence_1 = 0, persistence_50 = 0, persistence_all = 0;
};
// The wake probe is RolloutWriter's, taken from the states as they pass.
RolloutSummary summarize(const Rollout& r, const OneStepError& one);

// Removes what an earlier tessera-rollout into `output_base` left in either form, so that a run
// in the other form leaves nothing that would pass for its own: the single trajectory's files
// (<output_base>.xmf, .pvd, _metrics.csv, ...) and, when <output_base>_trajectories.csv is there,
// the files of every trajectory it lists (<output_base>_<id>.*) and the table itself. Call on one
// rank before writing.
void remove_earlier_rollouts(const std::string& output_base);

// Writes a rollout's states as they are made (stream_rollout), so that no more than a few of them
// are held: the series (.xmf, and .vtu + .pvd with `vtu`) step by step, then by finish() the
// picture, metrics and wake probe. `t` is the whole (unpartitioned) trajectory on every rank, and
// outlives the writer; with several ranks in `comm` the calls are collective and rank 0 writes the
// files for all. Without ground truth (`with_truth` false) only the prediction is written, and no
// metrics.
// `staged`: the series is written into the folder <dir>/<name>.partial (<name>.partial/<name>.xmf:
// a series ParaView opens, of the steps up to its last index rewrite) and moved to <dir> by
// finish(), so that a run stopped while it computes leaves the earlier results in <dir> as they
// were. A staging folder an earlier run left is removed at construction.
class RolloutWriter {
 public:
  // `steps`: the steps to come (states 0 .. steps). The series holds every `every`-th state and
  // the last (output.every); the rest passes to the picture and the wake probe alone.
  RolloutWriter(std::string base, const TrajectoryData& t, int64_t steps, double dt, bool vtu, std::string deck_yaml,
                const Comm& comm, bool with_truth, bool staged, int64_t every = 1);
  ~RolloutWriter();
  RolloutWriter(const RolloutWriter&) = delete;
  RolloutWriter& operator=(const RolloutWriter&) = delete;
  // The time of state 0 (default 0): a rollout from a state of another series goes on from that
  // state's time. Set before the first state.
  void start_at(double t0) { t0_ = t0; }
  // State k (k = 0, 1, ... in order), the global [N, 2] prediction on the host.
  void write_state(int64_t k, const at::Tensor& predicted);
  // The wake probe finish() wrote (node -1 before it, without truth, or under 4 states; rank 0).
  const WakeProbe& wake_probe() const { return probe_; }
  int64_t series_states() const { return in_series_; }  // the states the series holds
  // Completes the indexes, moves a staged series to <dir> (calling `before_move` on rank 0 just
  // before: what an earlier run left goes), and writes the picture and, with truth, the metrics
  // of `r` and `s` and the wake probe of the states it saw. Throws on every rank unless every
  // announced state was written. Returns the files rank 0 wrote besides the per-step data (.xmf,
  // .pvd, .png, metrics), for the log.
  std::vector<std::string> finish(const Rollout& r, const RolloutSummary& s,
                                  const std::function<void()>& before_move = {});
  // <dir>/<name>.partial for `base` <dir>/<name>.
  static std::string staging_dir(const std::string& base);
  // Removes staging_dir(base) as a stopped run left it; refuses (Error at output.name) a folder
  // holding anything but files of this base name, or a file of that name. Call on one rank.
  static void remove_staging(const std::string& base);

 private:
  struct Series;
  void write_series_state(int64_t k, const at::Tensor& predicted);
  std::string base_, out_;  // where the results go; where the series is written (staged or base_)
  const TrajectoryData& t_;
  int64_t states_, every_;
  double dt_, t0_ = 0;
  bool vtu_, with_truth_, staged_;
  std::string deck_yaml_;
  Comm comm_;
  std::unique_ptr<Series> series_;
  std::vector<std::pair<int64_t, at::Tensor>> shown_;  // the picture's states: first, middle, last
  int64_t probe_node_ = -1;
  std::vector<double> probe_predicted_;  // the wake probe's predicted cross-stream velocity per state
  WakeProbe probe_;
  int64_t written_ = 0, in_series_ = 0;
};

// A whole rollout `r` (with `predicted`) through RolloutWriter, unstaged; `probe`, when given,
// receives the wake probe it wrote.
std::vector<std::string> write_rollout(const std::string& base, const TrajectoryData& t, const Rollout& r,
                                       const RolloutSummary& s, double dt, bool vtu, const std::string& deck_yaml,
                                       const Comm& comm = Comm::self(), bool with_truth = true, int64_t every = 1,
                                       WakeProbe* probe = nullptr);

}  // namespace tessera::train
