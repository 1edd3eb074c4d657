#include "train/pinn/study.hpp"

#include <chrono>
#include <filesystem>

#include "core/error.hpp"
#include "core/idle_ranks.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "io/deck.hpp"
#include "train/pinn/learner.hpp"
#include "train/pinn/output.hpp"

namespace tessera::train::pinn {

void run_study(const PinnStudy& study, const LoopOptions& loop, const RunContext& ctx) {
  const std::vector<PinnOptions> cases = study_cases(study);
  const bool single = cases.size() == 1, overwrite = study.fresh_start;
  const int64_t n = static_cast<int64_t>(cases.size()), ranks = ctx.comm.size();
  if (ranks > n)
    core::log_warn(ctx.log.get(), core::idle_ranks_warning(ranks, n, "case", "cases",
                                                           "the study deals whole cases to the ranks, round-robin"));
  constexpr int kCols = 5;  // rel_l2, rel_spectral, loss, seconds, steps
  std::vector<double> table(static_cast<size_t>(n * kCols), 0.0);
  // A case that fails on one rank (diverged, its folder blocked) stops the others after their
  // current step (it aborted the job before; then it waited for their current cases, minutes
  // each): the stopped cases keep a checkpoint, finished ones their folders, and a rerun resumes.
  IndependentWork work(ctx.comm);
  // One case, its error named by the case in a sweep.
  auto train_case = [&](int64_t i) {
    bool resumed_by_sweep = false;  // from the case's own folder, not from a train.resume the deck gave
    try {
      PinnOptions o = cases[i];
      LoopOptions lo = loop;
      if (!single) {
        lo.output_dir = loop.output_dir + "/" + o.name;
        lo.resume_hint = cat("go on by running the same deck into the same output.dir",
                             overwrite ? " with output.overwrite: false" : "", ": each case resumes from its own");
        // A sweep resumes every case from its own folder, unless asked to start afresh.
        if (!overwrite && std::filesystem::exists(lo.output_dir + "/checkpoint.h5"))
          o.resume = lo.output_dir + "/checkpoint.h5", resumed_by_sweep = true;
        // Its folder can be written: checked before the case trains (found at its first checkpoint,
        // after the work, when a file stood in the way; a review found it, 2026-12-07).
        io::check_output_folder(lo.output_dir);
      }
      lo.resumed_from = o.resume;
      lo.stop_elsewhere = [&work] { return work.stopped_elsewhere() ? "a case failed on another rank" : ""; };
      core::log_info(ctx.log.get(), cat("case ", i + 1, " of ", n, ": ", o.name, " (rank ", ctx.comm.rank(), ")"));
      const auto start = std::chrono::steady_clock::now();
      PinnLearner learner(o, ctx.log);
      run_training(learner, lo, Comm::self(), ctx.log);
      if (work.stopped_elsewhere()) return;  // unfinished: no outputs; a rerun resumes its checkpoint
      const Evaluation e = learner.evaluate();
      write_case_outputs(lo.output_dir, learner.options(), e);
      const double loss = learner.loss().item<double>();
      const double seconds =
          learner.seconds_before() + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double row[kCols] = {e.rel_l2, e.rel_spectral, loss, seconds, double(learner.steps_done())};
      std::copy(row, row + kCols, table.begin() + i * kCols);
    } catch (const Error& e) {
      if (single) throw;
      // A case checkpoint that the sweep found and cannot resume: output.overwrite starts afresh
      // (train.resume, which the learner names, is not in such a deck).
      throw Error(cat("case ", cases[i].name, ": ", e.what()),
                  resumed_by_sweep && e.key() == "train.resume" ? "output.overwrite" : e.key());
    }
  };
  for (int64_t i = ctx.comm.rank(); i < n; i += ranks)
    if (!work.run([&] { train_case(i); })) break;
  work.finish();
  ctx.comm.allreduce_sum(table.data(), static_cast<int64_t>(table.size()));
  if (!ctx.comm.root()) return;
  std::vector<CaseResult> rows;
  std::string summary = "errors (relative L2 on the grid):";
  for (int64_t i = 0; i < n; ++i) {
    const PinnOptions& o = cases[i];
    const double* r = &table[i * kCols];
    rows.push_back({o.name, formulation_name(o.formulation), o.problem.name(), o.problem.c, o.problem.nu, o.problem.C,
                    r[0], r[1], r[2], r[3], static_cast<int64_t>(r[4])});
    summary += cat("\n  ", o.name, ": ", core::sci(r[0]), " (2-norm ", core::sci(r[1]), ", loss ", core::sci(r[2]),
                   ", ", static_cast<int64_t>(r[3]), " s)");
  }
  const std::string path = loop.output_dir + "/errors.csv";
  write_error_table(path, rows);
  core::log_info(ctx.log.get(), summary);
  core::log_info(ctx.log.get(), cat("wrote ", path));
}

}  // namespace tessera::train::pinn
