#include "train/rollout_batch.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/idle_ranks.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "core/progress.hpp"
#include "io/dataset.hpp"
#include "train/rollout_output.hpp"
#include "train/wake_probe.hpp"

namespace tessera::train {
namespace {

// Trajectory `b` of a batched rollout, with its own per-step errors.
Rollout part_of(const Rollout& r, const TrajectoryData& part, int64_t offset) {
  Rollout p;
  p.predicted = r.predicted.narrow(1, offset, part.nodes());
  p.non_finite_from = first_non_finite_state(p.predicted);  // its own, not the batch's
  const at::Tensor truth = part.velocity.cpu();
  for (int64_t k = 1; k < p.predicted.size(0); ++k) {
    p.rmse.push_back(std::sqrt((p.predicted[k] - truth[k]).pow(2).mean().item<double>()));
    p.persistence_rmse.push_back(std::sqrt((truth[0] - truth[k]).pow(2).mean().item<double>()));
  }
  return p;
}

// One-step errors of each part of a batch over every step, one forward pass per step for all.
std::vector<OneStepError> one_step_errors(Simulator& model, const Normalizers& norms, const TrajectoryData& batch,
                                          int64_t steps) {
  c10::InferenceMode inference;
  const size_t parts = batch.batch_offsets.size() - 1;
  std::vector<double> se(parts, 0), sp(parts, 0);
  for (int64_t s = 0; s < steps; ++s) {
    const at::Tensor v = batch.velocity[s], truth = batch.velocity[s + 1];
    const at::Tensor model_err = (predict_next_imposed(model, norms, batch, v, truth) - truth).pow(2).sum(1).cpu();
    const at::Tensor persist_err = (v - truth).pow(2).sum(1).cpu();
    for (size_t b = 0; b < parts; ++b) {
      const int64_t lo = batch.batch_offsets[b], n = batch.batch_offsets[b + 1] - lo;
      se[b] += model_err.narrow(0, lo, n).sum().item<double>() / double(2 * n);
      sp[b] += persist_err.narrow(0, lo, n).sum().item<double>() / double(2 * n);
    }
  }
  std::vector<OneStepError> out;
  for (size_t b = 0; b < parts; ++b)
    out.push_back({std::sqrt(se[b] / double(steps)), std::sqrt(sp[b] / double(steps))});
  return out;
}

// The columns of <name>_trajectories.csv after the trajectory's id: each RMSE with persistence's,
// then the wake probe's frequency and amplitude, true and predicted.
enum Column : int {
  kOneStep,
  kOneStepPersistence,
  kRmse1,
  kPersistence1,
  kRmse50,
  kPersistence50,
  kRmseAll,
  kPersistenceAll,
  kFrequencyTrue,
  kFrequencyPred,
  kAmplitudeTrue,
  kAmplitudePred,
  kColumns
};
constexpr const char* kColumnNames[kColumns] = {"one_step_rmse",       "one_step_persistence", "rollout_rmse_1",
                                                "persistence_1",       "rollout_rmse_50",      "persistence_50",
                                                "rollout_rmse_all",    "persistence_all",      "wake_frequency_true",
                                                "wake_frequency_pred", "wake_amplitude_true",  "wake_amplitude_pred"};

}  // namespace

void run_rollout_batch(const RolloutOptions& o, TrainedModel& m, const at::Device& device, const Comm& comm,
                       const std::shared_ptr<spdlog::logger>& log) {
  const std::string dir = o.data_dir.empty() ? m.options.data.dir : o.data_dir;
  const int64_t count = static_cast<int64_t>(o.trajectories.size());
  // This rank's share, whole (outputs and metrics are per trajectory, on this rank alone).
  std::vector<int64_t> mine;
  std::vector<TrajectoryData> parts;
  int64_t steps = o.steps > 0 ? o.steps : std::numeric_limits<int64_t>::max();
  // No collective inside: a file or trajectory that one rank cannot use is every rank's error.
  std::optional<io::DatasetReader> opened;
  run_on_every_rank(comm, [&] {
    const io::DatasetReader& reader = opened.emplace(open_split(dir, o.split, "data.split"));
    for (int64_t id : o.trajectories) require_dataset_trajectory(reader, dir, o.split, id, "rollout.trajectories");
    for (int64_t i = comm.rank(); i < count; i += comm.size()) {
      const int64_t id = o.trajectories[i];
      mine.push_back(i);
      parts.push_back(prepare_trajectory(reader.read(id), m.options.augment, cat(dir, "/", o.split, ".h5 #", id)));
      require_steps_to_roll_out(parts.back().steps(), cat(dir, "/", o.split, ".h5 #", id));
    }
  });
  const io::DatasetReader& reader = *opened;
  // The steps common to all trajectories, on every rank (max of the negated counts: their min).
  for (const auto& p : parts) steps = std::min(steps, p.steps() - 1);
  int64_t negated = -steps;
  comm.allreduce_max(&negated, 1);
  steps = -negated;
  if (o.steps > steps)
    core::log_warn(log.get(), cat("rollout.steps = ", o.steps, " exceeds the ", steps,
                                  " steps of the shortest of these trajectories: rolling out ", steps));
  // Whole trajectories are dealt out, so ranks beyond them wait (worded as the PINN study's).
  if (comm.size() > count)
    core::log_warn(log.get(), core::idle_ranks_warning(comm.size(), count, "trajectory", "trajectories",
                                                       "rollout.trajectories deals whole trajectories to the ranks"));
  core::log_info(log.get(), cat("rolling out ", core::counted(count, "trajectory", "trajectories"), " of ", dir, "/",
                                o.split, ".h5", o.data_dir.empty() ? " (data.dir of the checkpoint's deck)" : "",
                                // The ranks that hold a trajectory (the idle ones were warned about).
                                " for ", steps, " steps on ",
                                core::counted(std::min<int64_t>(comm.size(), count), "rank", "ranks"), ", ",
                                o.batch ? "together (one forward pass per step)" : "one after another"));
  const double dt = reader.meta().dt;
  if (const std::string w = dt_mismatch_warning(m.data_dt, dt, cat(dir, "/", o.split, ".h5")); !w.empty())
    core::log_warn(log.get(), w);
  // One file's trajectories share their units: rank 0's first one speaks for them (the log is rank 0's).
  if (!parts.empty())
    if (const std::string w = mesh_scale_warning(m.data_edge_length, mesh::mean_edge_length(parts.front().mesh),
                                                 cat(dir, "/", o.split, ".h5 #", o.trajectories[mine.front()]));
        !w.empty())
      core::log_warn(log.get(), w);
  {
    // Which of the list the model was trained on: each rank knows its own share (position + 1, 0:
    // not trained on), rank 0 says it for all.
    std::vector<int64_t> positions(count, 0);
    for (size_t j = 0; j < parts.size(); ++j) positions[mine[j]] = m.trained_on.position(parts[j].fingerprint) + 1;
    comm.allreduce_max(positions.data(), count);
    for (int64_t& p : positions) p -= 1;
    if (const std::string w =
            trained_on_warning(m.trained_on, cat(dir, "/", o.split, ".h5"), o.trajectories, positions);
        !w.empty())
      core::log_warn(log.get(), w);
  }
  std::vector<double> table(count * kColumns, 0.0);
  const auto start = std::chrono::steady_clock::now();
  double rollout_seconds = 0;
  auto store = [&](size_t j, const Rollout& r, const OneStepError& one) {
    if (const std::string w = divergence_warning(r, cat("trajectory ", o.trajectories[mine[j]])); !w.empty())
      core::log_warn(log.get(), w);
    const RolloutSummary s = summarize(r, one);
    const std::string base = cat(o.output_base, "_", o.trajectories[mine[j]]);
    WakeProbe w;
    write_rollout(base, parts[j], r, s, dt, o.vtu, o.deck_yaml, Comm::self(), true, o.every, &w);
    // The 50-step columns only when 50 steps were run (as <name>_summary.csv's 50-step row).
    const double r50 = steps >= 50 ? s.rmse_50 : NAN, p50 = steps >= 50 ? s.persistence_50 : NAN;
    double* row = &table[static_cast<size_t>(mine[j] * kColumns)];
    row[kOneStep] = s.one_step;
    row[kOneStepPersistence] = s.one_step_persistence;
    row[kRmse1] = s.rmse_1;
    row[kPersistence1] = s.persistence_1;
    row[kRmse50] = r50;
    row[kPersistence50] = p50;
    row[kRmseAll] = s.rmse_all;
    row[kPersistenceAll] = s.persistence_all;
    row[kFrequencyTrue] = w.frequency_true;
    row[kFrequencyPred] = w.frequency_pred;
    row[kAmplitudeTrue] = w.amplitude_true;
    row[kAmplitudePred] = w.amplitude_pred;
  };
  // A line every 10 s while this rank computes its share.
  core::Progress progress(log, cat("rollout steps of rank ", comm.rank(), "'s trajectories"),
                          int64_t(o.batch && !parts.empty() ? 1 : parts.size()) * steps, 10.0,
                          comm.root() && core::Progress::is_terminal());
  auto advance = [&] { progress.advance(1); };
  // Every rank computes its share first; the files are written once all are done, so that a run
  // stopped while it computes (a time limit, Ctrl-C) leaves an earlier rollout's results as they
  // were, as a rollout of one trajectory does (they were removed before the first step).
  std::vector<std::pair<Rollout, OneStepError>> results;
  if (!parts.empty() && o.batch) {
    std::vector<TrajectoryData> on_device;
    for (const auto& p : parts) on_device.push_back(p.to(device));
    const TrajectoryData batch = batch_trajectories(on_device);
    const auto t0 = std::chrono::steady_clock::now();
    const Rollout r = rollout(*m.model, m.norms, batch, steps, Comm::self(), advance);
    rollout_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto ones = one_step_errors(*m.model, m.norms, batch, steps);
    for (size_t j = 0; j < parts.size(); ++j)
      results.emplace_back(part_of(r, parts[j], batch.batch_offsets[j]), ones[j]);
  } else {
    for (size_t j = 0; j < parts.size(); ++j) {
      const TrajectoryData d = parts[j].to(device);
      const auto t0 = std::chrono::steady_clock::now();
      Rollout r = rollout(*m.model, m.norms, d, steps, Comm::self(), advance);
      rollout_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      results.emplace_back(std::move(r), one_step_error(*m.model, m.norms, {d}, 1, steps));
    }
  }
  progress.finish_quietly();
  // The results are there: what an earlier rollout into this folder left goes, in either form
  // (train/mesh_rollout.cpp), before any rank writes its trajectories' files (run_on_root is
  // collective: the others wait for its outcome).
  run_on_root(comm, [&] {
    remove_earlier_rollouts(o.output_base);
    RolloutWriter::remove_staging(o.output_base);  // what a rollout of one trajectory left when stopped
  });
  for (size_t j = 0; j < results.size(); ++j) store(j, results[j].first, results[j].second);
  comm.allreduce_sum(table.data(), static_cast<int64_t>(table.size()));
  comm.allreduce_sum(&rollout_seconds, 1);  // summed over ranks: the work done, not the wall time
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!comm.root()) return;
  std::ostringstream csv;
  csv.precision(8);
  csv << "trajectory";
  for (const char* name : kColumnNames) csv << "," << name;
  csv << "\n";
  std::vector<double> mean(kColumns, 0.0);
  for (int64_t i = 0; i < count; ++i) {
    csv << o.trajectories[i];
    for (int c = 0; c < kColumns; ++c) {
      csv << "," << table[i * kColumns + c];
      mean[c] += table[i * kColumns + c] / double(count);
    }
    csv << "\n";
  }
  csv << "mean";
  for (double v : mean) csv << "," << v;
  csv << "\n";
  core::write_text_atomic(o.output_base + "_trajectories.csv", csv.str());
  const std::string fifty =
      steps >= 50 ? cat("50-step ", core::sci(mean[kRmse50]), " (persistence ", core::sci(mean[kPersistence50]),
                        ", ratio ", core::sci_ratio(mean[kRmse50], mean[kPersistence50]), "); ")
                  : std::string();
  core::log_info(log.get(),
                 cat("mean over ", core::counted(count, "trajectory", "trajectories"), ": 1-step RMSE ",
                     core::sci(mean[kOneStep]), " (persistence ", core::sci(mean[kOneStepPersistence]), ", ratio ",
                     core::sci_ratio(mean[kOneStep], mean[kOneStepPersistence]), "); ", fifty, "all ", steps, " steps ",
                     core::sci(mean[kRmseAll]), " (persistence ", core::sci(mean[kPersistenceAll]), ", ratio ",
                     core::sci_ratio(mean[kRmseAll], mean[kPersistenceAll]), ")"));
  // The median, not the mean: a trajectory below the shedding onset has a probe signal of slow
  // drift whose "frequency" error can be arbitrarily large.
  std::vector<double> frequency_errors;
  for (int64_t i = 0; i < count; ++i) {
    const double* row = &table[i * kColumns];
    if (row[kFrequencyTrue] > 0)
      frequency_errors.push_back(std::abs(row[kFrequencyPred] - row[kFrequencyTrue]) / row[kFrequencyTrue]);
  }
  if (!frequency_errors.empty()) {
    const size_t half = frequency_errors.size() / 2;
    std::nth_element(frequency_errors.begin(), frequency_errors.begin() + half, frequency_errors.end());
    core::log_info(log.get(), cat("wake probes: median |frequency error| ", core::sci(100 * frequency_errors[half]),
                                  "% over ", frequency_errors.size(), " trajectories; mean amplitude ",
                                  core::sci(mean[kAmplitudePred]), " (data ", core::sci(mean[kAmplitudeTrue]), ")"));
  } else {
    core::log_info(log.get(),
                   cat("wake probes: no shedding frequency resolved (a frequency needs at least ", kWakeProbeMinPeriods,
                       " periods of the data's signal in the ", steps, " steps); mean amplitude ",
                       core::sci(mean[kAmplitudePred]), " (data ", core::sci(mean[kAmplitudeTrue]), ")"));
  }
  core::log_info(log.get(), cat("rollouts: ", core::sci(1e3 * rollout_seconds / double(count * steps)),
                                " ms per trajectory step (all ranks' rollout time over trajectories x steps); ",
                                "wall time with outputs ", core::sci(wall), " s; wrote ", o.output_base,
                                "_trajectories.csv and ", o.output_base, "_<id>.*"));
}

}  // namespace tessera::train
