#include "train/pinn/family.hpp"

#include <chrono>
#include <filesystem>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "io/deck.hpp"
#include "train/pinn/learner.hpp"
#include "train/pinn/options.hpp"
#include "train/pinn/output.hpp"

namespace tessera::train {
namespace {

// Trains every case of the deck's study that falls to this rank; rank 0 writes errors.csv.
void train_study(const io::Deck& d, const RunContext& ctx) {
  const pinn::PinnStudy study = pinn::read_pinn_study(d);
  const LoopOptions loop = loop_options(d);
  const std::vector<pinn::PinnOptions> cases = pinn::study_cases(study);
  const bool single = cases.size() == 1, overwrite = d.get_bool("output.overwrite");
  const int64_t n = static_cast<int64_t>(cases.size()), ranks = ctx.comm.size();
  if (ranks > n)
    core::log_warn(ctx.log.get(), cat(ranks, " ranks for ", n, " case(s): ", ranks - n, " rank(s) stay idle"));
  constexpr int kCols = 5;  // rel_l2, rel_spectral, loss, seconds, steps
  std::vector<double> table(static_cast<size_t>(n * kCols), 0.0);
  // One case, its error named by the case in a sweep.
  auto train_case = [&](int64_t i) {
    try {
      pinn::PinnOptions o = cases[i];
      LoopOptions lo = loop;
      if (!single) {
        lo.output_dir = loop.output_dir + "/" + o.name;
        // A sweep resumes every case from its own folder, unless asked to start afresh.
        if (!overwrite && std::filesystem::exists(lo.output_dir + "/checkpoint.h5"))
          o.resume = lo.output_dir + "/checkpoint.h5";
      }
      core::log_info(ctx.log.get(), cat("case ", i + 1, " of ", n, ": ", o.name, " (rank ", ctx.comm.rank(), ")"));
      const auto start = std::chrono::steady_clock::now();
      pinn::PinnLearner learner(o, ctx.log);
      run_training(learner, lo, Comm::self(), ctx.log);
      const pinn::Evaluation e = learner.evaluate();
      pinn::write_case_outputs(lo.output_dir, learner.options(), e);
      const double loss = learner.loss().item<double>();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double row[kCols] = {e.rel_l2, e.rel_spectral, loss, seconds, double(learner.steps_done())};
      std::copy(row, row + kCols, table.begin() + i * kCols);
    } catch (const Error& e) {
      if (single) throw;
      throw Error(cat("case ", cases[i].name, ": ", e.what()), e.key());
    }
  };
  // A case that fails on one rank (diverged, its folder blocked) stops the others at their next
  // case (it aborted the job before); finished cases keep their folders and resume at once.
  IndependentWork work(ctx.comm);
  for (int64_t i = ctx.comm.rank(); i < n; i += ranks)
    if (!work.run([&] { train_case(i); })) break;
  work.finish();
  ctx.comm.allreduce_sum(table.data(), static_cast<int64_t>(table.size()));
  if (!ctx.comm.root()) return;
  std::vector<pinn::CaseResult> rows;
  std::string summary = "errors (relative L2 on the grid):";
  for (int64_t i = 0; i < n; ++i) {
    const pinn::PinnOptions& o = cases[i];
    const double* r = &table[i * kCols];
    rows.push_back({o.name, pinn::formulation_name(o.formulation), o.problem.name(), o.problem.c, o.problem.nu,
                    o.problem.C, r[0], r[1], r[2], r[3], static_cast<int64_t>(r[4])});
    summary += cat("\n  ", o.name, ": ", core::sci(r[0]), " (2-norm ", core::sci(r[1]), ", loss ", core::sci(r[2]),
                   ", ", static_cast<int64_t>(r[3]), " s)");
  }
  const std::string path = loop.output_dir + "/errors.csv";
  pinn::write_error_table(path, rows);
  core::log_info(ctx.log.get(), summary);
  core::log_info(ctx.log.get(), cat("wrote ", path));
}

}  // namespace

Family pinn_family() {
  Family f;
  f.name = "pinn";
  f.summary = "Eulerian and Lagrangian PINNs for 1D periodic advection, convection-diffusion and Burgers";
  f.add_keys = pinn::add_pinn_keys;
  f.make_learner = [](const io::Deck& d, const RunContext& ctx) -> std::unique_ptr<Learner> {
    const std::vector<pinn::PinnOptions> cases = pinn::study_cases(pinn::read_pinn_study(d));
    if (cases.size() != 1) d.fail("pinn.sweep.parameter", "a sweep has several learners; train it with Family::train");
    return std::make_unique<pinn::PinnLearner>(cases.front(), ctx.log);
  };
  f.train = train_study;
  f.threads_key = "pinn.threads";
  return f;
}

}  // namespace tessera::train
