#include "train/hybrid/output.hpp"

#include <limits>
#include <sstream>

#include "core/atomic_file.hpp"
#include "io/line_plot.hpp"

namespace tessera::train::hybrid {

HybridSummary summarize_hybrid(const HybridResult& h, const OneStepError& one, const HybridResult* alone) {
  HybridSummary s;
  s.rollout = summarize(h.rollout, one);
  s.solver_fraction = h.solver_fraction();
  s.surrogate_seconds = h.surrogate_seconds;
  s.solver_seconds = h.solver_seconds;
  s.seconds = h.seconds;
  if (alone) {
    s.solver_alone_seconds = alone->seconds;
    s.solver_alone_rmse = alone->rollout.rmse_over(static_cast<int64_t>(alone->rollout.rmse.size()));
  }
  return s;
}

namespace {

std::string summary_csv(const HybridSummary& s, const Schedule& sc, size_t steps) {
  std::ostringstream o;
  o.precision(8);
  auto row = [&](const char* name, auto value) { o << name << "," << value << "\n"; };
  o << "metric,value\n";
  row("surrogate_steps_K", sc.surrogate_steps);
  row("solver_steps_M", sc.solver_steps);
  row("trigger", sc.trigger == Trigger::Fixed ? "fixed" : "divergence");
  row("threshold", sc.threshold);
  row("steps", steps);
  row("solver_fraction", s.solver_fraction);
  row("one_step_rmse", s.rollout.one_step);
  row("rmse_all", s.rollout.rmse_all);
  row("persistence_rmse_all", s.rollout.persistence_all);
  // nan, not 0/0's -nan, where persistence is exact (a flow that does not change).
  row("rmse_all_over_persistence", s.rollout.persistence_all == 0 ? std::numeric_limits<double>::quiet_NaN()
                                                                  : s.rollout.rmse_all / s.rollout.persistence_all);
  row("surrogate_seconds", s.surrogate_seconds);
  row("solver_seconds", s.solver_seconds);
  row("seconds", s.seconds);
  if (s.solver_alone_seconds) {
    row("solver_alone_seconds", *s.solver_alone_seconds);
    row("seconds_over_solver_alone", s.seconds / *s.solver_alone_seconds);
    row("solver_alone_rmse_all", *s.solver_alone_rmse);
  }
  return o.str();
}

void write_rmse_png(const std::string& path, const HybridResult& h, const HybridResult* alone, const Schedule& sc,
                    double dt) {
  io::LinePlot err{"RMSE against the dataset", "time", "velocity RMSE", true, {}};
  // The baselines dashed (persistence, the solver alone): either may lie on the hybrid's curve.
  io::PlotSeries hybrid{"hybrid", {}, {}}, persistence{"persistence", {}, {}, false, true},
      solver{"solver alone", {}, {}, false, true};
  io::LinePlot ind{"divergence indicator", "time", "|div u| / |grad u|", true, {}};
  io::PlotSeries by_surrogate{"surrogate steps", {}, {}, true}, by_solver{"solver steps", {}, {}, true};
  for (size_t k = 0; k < h.rollout.rmse.size(); ++k) {
    const double t = double(k + 1) * dt;
    hybrid.x.push_back(t), hybrid.y.push_back(h.rollout.rmse[k]);
    persistence.x.push_back(t), persistence.y.push_back(h.rollout.persistence_rmse[k]);
    if (alone && k < alone->rollout.rmse.size()) solver.x.push_back(t), solver.y.push_back(alone->rollout.rmse[k]);
    auto& s = h.by_solver[k] ? by_solver : by_surrogate;
    s.x.push_back(t), s.y.push_back(h.indicator[k]);
  }
  err.series = {hybrid, persistence};
  if (alone) err.series.push_back(solver);
  ind.series = {by_surrogate, by_solver};
  if (sc.trigger == Trigger::Divergence && !h.rollout.rmse.empty())
    ind.series.push_back(
        {"threshold", {dt, double(h.rollout.rmse.size()) * dt}, {sc.threshold, sc.threshold}, false, true});
  io::write_line_plots_png(path, {err, ind});
}

}  // namespace

std::vector<std::string> write_hybrid(const std::string& base, const TrajectoryData& truth, const HybridResult& h,
                                      const HybridResult* alone, const HybridSummary& s, const Schedule& sc, double dt,
                                      bool vtu, const std::string& deck_yaml, const Comm& comm) {
  std::vector<std::string> written = write_rollout(base, truth, h.rollout, s.rollout, dt, vtu, deck_yaml, comm);
  if (!comm.root()) return written;
  std::ostringstream m;
  m.precision(8);
  m << "step,time,taken_by,indicator,surrogate_indicator,rmse,persistence_rmse" << (alone ? ",solver_alone_rmse" : "")
    << "\n";
  for (size_t k = 0; k < h.rollout.rmse.size(); ++k) {
    m << k + 1 << "," << double(k + 1) * dt << "," << (h.by_solver[k] ? "solver" : "surrogate") << "," << h.indicator[k]
      << "," << h.surrogate_indicator[k] << "," << h.rollout.rmse[k] << "," << h.rollout.persistence_rmse[k];
    if (alone) m << "," << (k < alone->rollout.rmse.size() ? alone->rollout.rmse[k] : 0.0);
    m << "\n";
  }
  core::write_text_atomic(base + "_hybrid.csv", m.str());
  core::write_text_atomic(base + "_hybrid_summary.csv", summary_csv(s, sc, h.rollout.rmse.size()));
  write_rmse_png(base + "_rmse.png", h, alone, sc, dt);
  for (const char* f : {"_hybrid.csv", "_hybrid_summary.csv", "_rmse.png"}) written.push_back(base + f);
  return written;
}

}  // namespace tessera::train::hybrid
