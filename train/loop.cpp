#include "train/loop.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/interrupt_note.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "core/progress.hpp"
#include "core/stop_request.hpp"
#include "io/line_plot.hpp"
#include "train/checkpoint.hpp"
#include "train/history_files_detail.hpp"
#include "train/schedule.hpp"

namespace tessera::train {

int64_t Learner::decay_step(int64_t step, int64_t warmup, int64_t total) {
  const int64_t position = schedule_step(step, warmup, total, time_fraction_, schedule_from_);
  schedule_next_ = position + 1;
  return position;
}

void Learner::store_progress(std::map<std::string, std::string>& attributes, int64_t step) const {
  attributes["step"] = std::to_string(step);
  attributes["schedule_step"] = std::to_string(schedule_position());
}

int64_t Learner::restore_progress(const std::map<std::string, std::string>& attributes, const std::string& path) {
  const int64_t step = attribute_count(attributes, path, "step");
  resume_schedule(attributes.count("schedule_step") ? attribute_count(attributes, path, "schedule_step") : step);
  return step;
}

namespace {

using detail::LossHistory;
using detail::MetricsFile;

// The wall-time budget: stops every rank at the same step and reports the fraction used since
// warm-up ended, which drives the learning-rate decay (with the steps: train::schedule_step).
class TimeBudget {
 public:
  explicit TimeBudget(double minutes) : limit_s_(60 * minutes) {}
  bool active() const { return limit_s_ > 0; }
  // This rank's seconds since the start.
  double elapsed() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  // False once the budget is spent. `elapsed`: the largest of the ranks' elapsed(), so that every
  // rank stops at the same step.
  bool update(Learner& learner, const std::shared_ptr<spdlog::logger>& log, double elapsed) {
    if (!active()) return true;
    if (elapsed >= limit_s_) {
      core::log_info(log.get(), cat("time limit of ", limit_s_ / 60, " min reached at step ", learner.steps_done()));
      return false;
    }
    if (learner.steps_done() >= learner.warmup_steps() && decay_start_ < 0) decay_start_ = elapsed;
    learner.set_time_fraction(decay_start_ < 0 ? 0.0
                                               : (elapsed - decay_start_) / std::max(limit_s_ - decay_start_, 1e-9));
    return true;
  }

 private:
  double limit_s_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double decay_start_ = -1;  // seconds at which warm-up ended
};

// The file at a path (device and inode), which a file moved into place changes: a file's time
// stamp may not (one-second stamps on some network file systems).
struct FileIdentity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const FileIdentity&) const = default;
};
FileIdentity file_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {true, st.st_dev, st.st_ino};
}

// run_training's work (below).
void train_to_the_end(Learner& learner, const LoopOptions& o, const Comm& comm,
                      const std::shared_ptr<spdlog::logger>& log) {
  const std::string checkpoint = o.output_dir + "/checkpoint.h5";
  // train.resume may name another file on each rank (an input path: run_app lets input paths
  // differ); checkpoints at different steps would train different numbers of steps, and the ranks
  // wait for each other.
  int64_t resumed_at[2] = {learner.steps_done(), -learner.steps_done()};
  comm.allreduce_max(resumed_at, 2);
  if (resumed_at[0] != -resumed_at[1])
    throw Error(cat("the ranks resumed at different steps (", -resumed_at[1], " to ", resumed_at[0],
                    "): every rank must resume from the same checkpoint"),
                "train.resume");
  // Rank 0 alone reads (a resume's earlier rows) and writes metrics.csv; a file it cannot read is
  // every rank's error (run_on_root), not its own while the others go on into the run.
  // The earlier rows of both files come from the folder of the checkpoint this run resumed.
  MetricsFile metrics(o.output_dir + "/metrics.csv");
  LossHistory losses_so_far(o.output_dir + "/loss.csv");
  // (Made absolute: a checkpoint named without a folder, "checkpoint.h5", has an empty parent,
  // and the rows were looked for in "/".)
  const std::string history_dir =
      o.resumed_from.empty() ? o.output_dir : std::filesystem::absolute(o.resumed_from).parent_path().string();
  run_on_root(comm, [&] {
    metrics.load(history_dir + "/metrics.csv", learner.steps_done());
    losses_so_far.load(history_dir + "/loss.csv", learner.steps_done());
    // A fresh start (output.overwrite) removes an earlier run's histories at once: a run that
    // never validates left that run's metrics.csv beside its own checkpoint and loss.csv.
    if (o.resumed_from.empty() && learner.steps_done() == 0)
      for (const char* f : {"/metrics.csv", "/loss.csv", "/training.png"}) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(o.output_dir + f, ec)) continue;  // a folder there is not ours to remove
        std::filesystem::remove(o.output_dir + f, ec);
        if (ec)
          throw Error(cat(o.output_dir, f, ": cannot remove an earlier run's file: ", ec.message()), "output.dir");
      }
  });
  // {rank 0 read one, its value, the step its average began at}: a sum over ranks broadcasts it.
  double resumed_smoothed[3] = {0, 0, 0};
  if (comm.root() && !losses_so_far.smooth.y.empty())
    resumed_smoothed[0] = 1, resumed_smoothed[1] = losses_so_far.smooth.y.back(),
    resumed_smoothed[2] = double(losses_so_far.first_averaged());
  comm.allreduce_sum(resumed_smoothed, 3);
  if (!comm.root() && resumed_smoothed[0] > 0)
    losses_so_far.continue_from(resumed_smoothed[1], int64_t(resumed_smoothed[2]));
  // Every rank validates (collective learners need it); rank 0 alone writes the file, and its
  // error is every rank's.
  auto record = [&](int64_t step, const std::vector<Metric>& m) {
    // A non-finite figure is said, not only written (a noise level far above the data's gave
    // valid RMSEs of inf in metrics.csv and a normal end).
    std::string bad;
    for (const auto& [name, value] : m)
      if (!std::isfinite(value)) bad += cat(bad.empty() ? "" : ", ", name, " = ", value);
    if (!bad.empty()) core::log_warn(log.get(), cat("validation at step ", step, " gave non-finite figures: ", bad));
    run_on_root(comm, [&] { metrics.add(step, m); });
  };
  // Nothing to do: the files stay as they are (validating again added a second row for the same
  // step to metrics.csv, and the checkpoint was rewritten with this deck).
  if (learner.steps_done() >= o.steps) {
    core::log_warn(log.get(), cat("the checkpoint is already at step ", learner.steps_done(), " of ", o.steps,
                                  ": nothing to train (its files are left as they are)"));
    return;
  }
  // A run that stopped early stops again: resumed, it trained on and replaced the model it had
  // selected (an early-stopped GNNPipe run went from epoch 98 to 105, 117, 125 over three resumes,
  // each with another selected.pt; a review found it, 2026-12-07).
  if (learner.steps_done() > 0)
    if (const std::string why = learner.stop_reason(); !why.empty()) {
      core::log_warn(log.get(), cat("the checkpoint at step ", learner.steps_done(), " had stopped early (", why,
                                    "): nothing to train (its files are left as they are)"));
      return;
    }
  core::Progress progress(log, "train", o.steps, 10.0, comm.root() && core::Progress::is_terminal());
  // Counted from the resumed step, as validation and metrics.csv count (a resume at 10 of 20 said
  // "train 1/10" beside "validation at step 11").
  progress.start_at(learner.steps_done());
  TimeBudget budget(o.time_limit_minutes);
  if (budget.active()) progress.set_time_limit(60 * o.time_limit_minutes);
  // A resumed run names the checkpoint it resumed from until it writes one of its own (an
  // interrupt before then named none, though that checkpoint is where a rerun goes on from).
  if (learner.steps_done() > 0)
    core::set_interrupt_note(cat("it wrote no checkpoint since it resumed from ",
                                 o.resumed_from.empty() ? checkpoint : o.resumed_from, " (step ", learner.steps_done(),
                                 ")"));
  // The losses up to a checkpoint, the checkpoint, then the note an interrupt prints (its path
  // and step, to resume from). loss.csv first: a run stopped between the two leaves it ahead of
  // the checkpoint, whose step cuts it on resume, never behind it (a gap in the history).
  auto save = [&](int64_t step) {
    run_on_root(comm, [&] { losses_so_far.write(); });
    const std::string note = cat("the last checkpoint it wrote is ", checkpoint, " (step ", step, ")");
    const FileIdentity before = file_identity(checkpoint);
    try {
      learner.save(checkpoint);
    } catch (...) {
      // checkpoint.h5 is moved into place (a new file) before checkpoint.pt is written: a failure
      // at the .pt (a full disk) leaves this step's checkpoint to resume from, not the last one's.
      if (const FileIdentity now = file_identity(checkpoint); now.exists && now != before)
        core::set_interrupt_note(note);
      throw;
    }
    core::set_interrupt_note(note);
  };
  // Both curves of training.png: this step's loss and the smoothed one (0.98), which lags by
  // about 50 steps (a PINN's loss falls 50-fold in that time: the smoothed one alone misled).
  auto losses = [](double loss, double smoothed) {
    return "loss " + core::sci(loss) + ", smoothed " + core::sci(smoothed);
  };
  double avg = 0;
  bool stepped = false;            // this run made a step (training.png is drawn then)
  int stopped_by = 0;              // a stop request's signal (core/stop_request.hpp)
  bool stopped_elsewhere = false;  // LoopOptions::stop_elsewhere
  while (learner.steps_done() < o.steps) {
    // The ranks agree on the time used and on a stop request (SIGUSR1 on any rank) in one
    // allreduce per step (it was one each). The request is looked at before each step but the
    // first: a stop right at the start would write a checkpoint of no progress.
    const std::string elsewhere = stepped && o.stop_elsewhere ? o.stop_elsewhere() : std::string();
    double agreed[3] = {budget.elapsed(), static_cast<double>(core::stop_signal()), elsewhere.empty() ? 0.0 : 1.0};
    if (budget.active() || stepped) comm.allreduce_max(agreed, 3);
    if (!budget.update(learner, log, agreed[0])) break;
    if (stepped && (stopped_by = static_cast<int>(agreed[1])) != 0) {
      core::log_info(log.get(), cat(core::signal_name(stopped_by), " received: stopping after step ",
                                    learner.steps_done(), " with a checkpoint"));
      break;
    }
    if (stepped && agreed[2] != 0) {
      stopped_elsewhere = true;
      core::log_info(log.get(), cat(elsewhere.empty() ? "another rank's stop" : elsewhere, ": stopping after step ",
                                    learner.steps_done(), " with a checkpoint"));
      break;
    }
    const double loss = learner.step();
    const int64_t step = learner.steps_done();
    avg = losses_so_far.add(step, loss);
    stepped = true;
    progress.advance(1, losses(loss, avg));
    if (!std::isfinite(loss)) throw Error(cat("training diverged at step ", step, ": loss is ", loss));
    const bool validated = o.validate_every > 0 && step % o.validate_every == 0;
    if (validated) record(step, learner.validate());
    if (o.checkpoint_every > 0 && step % o.checkpoint_every == 0) save(step);
    if (const std::string why = validated ? learner.stop_reason() : ""; !why.empty()) {
      core::log_info(log.get(), cat("stopping early at step ", step, ": ", why));
      break;
    }
  }
  progress.finish(stepped ? losses(losses_so_far.raw.y.back(), avg) : "");
  const int64_t step = learner.steps_done();
  // The end of the run is validated, but not a stop for a later resume (SIGUSR1): that extra
  // validation was a row off the schedule in metrics.csv and, for learners that keep what they
  // validate (a SPEN fold's accuracy history, GNNPipe's best-validation model), a result the
  // resumed run then differed from an uninterrupted one by (a review found it, 2026-12-07).
  if (stopped_by == 0 && !stopped_elsewhere && (o.validate_every == 0 || step % o.validate_every != 0))
    record(step, learner.validate());
  save(step);
  // Rank 0 writes it (each rank's --log-dir file said "wrote" it).
  core::log_info(log.get(), cat(comm.root() ? "" : "rank 0 ", "wrote ", checkpoint));
  // training.png: loss.csv's losses and metrics.csv's validation columns (below), earlier runs'
  // included. A picture that cannot be made (a build without VTK) costs a warning, not the run.
  if (comm.root() && stepped) {
    std::vector<io::LinePlot> plots = {
        {"training loss", "step", "loss", true, {losses_so_far.raw, losses_so_far.smooth}}};
    // Errors and their persistence baselines on a log scale (the PINN's and NeuralStagger's
    // relative errors and residual were left out: only losses and RMSEs were drawn), losses on a
    // panel of their own (a PINN's loss of 1e5 beside its relative error of 1 left two flat lines),
    // accuracies on their own linear panel. Baselines and best-so-far copies are dashed: drawn
    // solid, one lay on the model's curve and hid it.
    auto dash_baselines = [](std::vector<io::PlotSeries> s) {
      for (io::PlotSeries& p : s)
        p.dashed = p.name.find("persistence") != std::string::npos || p.name.find("best") != std::string::npos;
      return s;
    };
    if (auto val = metrics.series_named({"rmse", "persistence", "rel_l2", "rel_spectral", "residual"}); !val.empty())
      plots.push_back({"validation errors (metrics.csv)", "step", "", true, dash_baselines(std::move(val))});
    if (auto loss = metrics.series_named({"loss"}); !loss.empty())
      plots.push_back({"losses (metrics.csv)", "step", "", true, std::move(loss)});
    if (auto acc = metrics.series_named({"acc", "test_at_best"}); !acc.empty())
      plots.push_back({"accuracy (metrics.csv)", "step", "", false, dash_baselines(std::move(acc))});
    try {
      io::write_line_plots_png(o.output_dir + "/training.png", plots);
      core::log_info(log.get(), cat("wrote ", o.output_dir, "/training.png"));
    } catch (const Error& e) {
      core::log_warn(log.get(), cat("no training.png: ", e.what()));
    }
  }
  // A planned stop, reported as run_app reports errors: the other ranks wait here for rank 0's
  // training.png, so that none reaches the report's 3-second agreement alone and aborts the job.
  if (stopped_by != 0) {
    comm.barrier();
    throw core::StoppedBySignal(
        stopped_by, cat("after step ", step, " of ", o.steps, ", with its checkpoint ", checkpoint, " (",
                        o.resume_hint.empty() ? "go on with --set train.resume=" + checkpoint : o.resume_hint, ")"));
  }
}

}  // namespace

void run_training(Learner& learner, const LoopOptions& o, const Comm& comm,
                  const std::shared_ptr<spdlog::logger>& log) {
  // The note names this training's checkpoints alone (a PINN study's or a SPEN fold's earlier one
  // would be named for a case that failed before writing any).
  core::set_interrupt_note("");
  try {
    train_to_the_end(learner, o, comm, log);
  } catch (const Error& e) {
    // What a failed training leaves to go on from, as an interrupt says it (a full disk at step 7
    // said only "checkpoint.h5.tmp: writing ... failed", though step 5's checkpoint was intact).
    // Here, not in run_app: an error that another rank met and this one relays (a PINN study's
    // case on rank 1) is not about this rank's checkpoints.
    const std::string note = core::interrupt_note();
    if (note.empty()) throw;
    throw Error(cat(e.what(), "; ", note), e.key());
  } catch (const core::StoppedBySignal&) {
    throw;  // a planned stop: its line names the checkpoint already
  } catch (const std::exception&) {
    // Other failures (out of memory from libtorch) keep their type, which run_app words: the
    // note goes into the log before them.
    if (const std::string note = core::interrupt_note(); !note.empty())
      core::log_info(log.get(), cat("training failed; ", note));
    throw;
  }
}

}  // namespace tessera::train
