#include "train/pinn/evaluation.hpp"

#include <ATen/ATen.h>

#include <limits>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/exact_text.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "core/progress.hpp"
#include "io/deck.hpp"
#include "io/line_plot.hpp"
#include "io/schema.hpp"
#include "tessera/config.hpp"
#include "train/checkpoint.hpp"
#include "train/pinn/family.hpp"
#include "train/pinn/output.hpp"

namespace tessera::train::pinn {

namespace {

// The largest grid evaluated: its fields take about 40 bytes a point, and the 2-norm error an SVD
// of the nt × nx matrices (seconds at this size, far longer beyond).
constexpr int64_t kMaxPoints = 10'000'000;

void check_grid_count(const io::Deck& d, const std::string& key) {
  if (d.get_int(key) == 1) d.fail(key, "1 is no grid: 0 (the training's) or at least 2");
}

// The case `c` holds, with its options as the deck stored in it gives them (a sweep's case by name).
PinnOptions stored_case(const Checkpoint& c, const std::string& path) {
  const PinnStudy study = read_pinn_study(stored_training_deck(c, path, {pinn_family()}), true);
  const auto it = c.attributes.find("case");
  const std::string name = it == c.attributes.end() ? "" : it->second;
  for (const PinnOptions& o : study_cases(study))
    if (o.name == name) return o;
  throw Error(cat(path, ": holds case '", name, "', which is not a case of the deck stored with it"));
}

// ||a||_F / ||b||_F over the rows (times) where `rows` holds.
double relative_l2(const at::Tensor& a, const at::Tensor& b, const at::Tensor& rows) {
  return (a.index({rows}).pow(2).sum().sqrt() / b.index({rows}).pow(2).sum().sqrt()).item<double>();
}

}  // namespace

void add_pinn_evaluation_keys(io::Schema& s) {
  using io::KeyType;
  s.section("pinn", "PINN case checkpoints (model.family pinn): the grid the network is evaluated on");
  s.add("pinn.grid.nx", KeyType::Int, "0", "points in x (x_j = 2 pi j / nx); 0: the training's").min = 0;
  s.add("pinn.grid.nt", KeyType::Int, "0", "times (t_n = T n / (nt - 1), T = pinn.t_end); 0: the training's").min = 0;
  s.add("pinn.t_end", KeyType::Float, "0",
        "final time T; 0: the training's; beyond the training's T the network extrapolates in time")
      .min = 0;
}

PinnEvaluationOptions read_pinn_evaluation_options(const io::Deck& d) {
  PinnEvaluationOptions o;
  o.checkpoint = d.resolve_path(d.get_string("rollout.checkpoint"));
  check_grid_count(d, "pinn.grid.nx");
  check_grid_count(d, "pinn.grid.nt");
  o.nx = d.get_int("pinn.grid.nx");
  o.nt = d.get_int("pinn.grid.nt");
  o.t_end = d.get_float("pinn.t_end");
  o.device = read_device(d, "rollout.device");
  o.steps_given = d.given("rollout.steps");
  o.output_dir = d.get_output_dir("output.dir");
  o.name = d.get_file_name("output.name");
  o.deck_yaml = d.resolved_yaml();
  return o;
}

Evaluation run_pinn_evaluation(const PinnEvaluationOptions& e, const Comm& comm,
                               const std::shared_ptr<spdlog::logger>& log) {
  start_root_evaluation("the pinn family runs", e.device, e.steps_given,
                        "a pinn checkpoint's network is evaluated once, on the whole grid",
                        "rank 0 evaluates the network on the whole grid", comm, log.get(), "evaluation", "evaluations");
  Evaluation result;
  run_on_root(comm, [&] {
    const std::string& path = e.checkpoint;
    const Checkpoint c = with_key("rollout.checkpoint", [&] { return load_checkpoint(path); });
    PinnOptions o = with_key("rollout.checkpoint", [&] { return stored_case(c, path); });
    o.resume = path;
    o.device = "cpu";
    o.steps = 0;
    const int64_t nx = e.nx > 0 ? e.nx : o.nx, nt = e.nt > 0 ? e.nt : o.nt;
    const double t_end = e.t_end > 0 ? e.t_end : o.problem.T, trained_T = o.problem.T;
    // Divided, not multiplied: two counts of 3 * 10^9 overflow the product to a small number.
    if (nx > kMaxPoints / nt) {
      // The key of the count the deck gave, the larger where it gave both.
      const bool blame_x = e.nt == 0 || (e.nx > 0 && e.nx >= e.nt);
      throw Error(
          cat(nx, " x ", nt, " points (pinn.grid.nx x pinn.grid.nt): at most ", kMaxPoints, " are evaluated at once"),
          blame_x ? "pinn.grid.nx" : "pinn.grid.nt");
    }
    if (!o.fp64 && t_end > std::numeric_limits<float>::max())
      throw Error(
          cat(t_end, " is beyond what the network's fp32 inputs hold (", std::numeric_limits<float>::max(), ")"),
          "pinn.t_end");
    // Quiet: its log lines speak of a training (the setup, "resumed from").
    std::unique_ptr<PinnLearner> learner;
    try {
      learner = std::make_unique<PinnLearner>(o, nullptr);
    } catch (const Error& err) {
      throw Error(err.what(), "rollout.checkpoint");
    }
    // Progress: a fine grid's Burgers reference (Cole–Hopf quadrature at every point) takes minutes.
    core::Progress progress(log, cat("evaluated times (", nx, " points each)"), nt);
    const Evaluation ev = learner->evaluate_on(nx, nt, t_end, [&](int64_t times) { progress.advance(times); });
    progress.finish_quietly();
    const bool training_grid = nx == o.nx && nt == o.nt && t_end == trained_T;
    const double on_training_grid = training_grid ? ev.rel_l2 : learner->evaluate().rel_l2;
    // The error at each time, and over the trained and the extrapolated times.
    const at::Tensor diff = ev.predicted - ev.reference;
    const at::Tensor at_t = (diff.pow(2).sum(1) / ev.reference.pow(2).sum(1)).sqrt(), worst = diff.abs().amax(1);
    // Each time by its nominal value t_end n / (nt - 1), in the CSV as in the .vti's spacing, and
    // extrapolated by it: an fp32 network evaluates at times rounded to fp32 (about 1e-7 relative),
    // which put a training's last time past itself (0.1 as 0.10000000149).
    std::vector<double> nominal(static_cast<size_t>(nt));
    for (int64_t n = 0; n < nt; ++n) nominal[n] = t_end * double(n) / double(nt - 1);
    const at::Tensor beyond = at::tensor(nominal, at::kDouble) > trained_T * (1 + 1e-12), trained = ~beyond;
    const auto past = beyond.accessor<bool, 1>();
    const bool extrapolates = beyond.any().item<bool>();
    std::string csv = "t,rel_l2,max_abs_error,extrapolated\n";
    io::PlotSeries inside{"t <= T of the training", {}, {}}, outside{"t > T (extrapolated)", {}, {}};
    for (int64_t n = 0; n < nt; ++n) {
      const double t = nominal[n], r = at_t[n].item<double>();
      const bool out = past[n];
      csv += cat(core::exact_text(t), ",", core::exact_text(r), ",", core::exact_text(worst[n].item<double>()), ",",
                 out ? 1 : 0, "\n");
      io::PlotSeries& s = out ? outside : inside;
      s.x.push_back(t);
      s.y.push_back(r);
    }
    const std::string base = cat(e.output_dir, "/", e.name);
    std::vector<std::string> written;
#if TESSERA_HAVE_VTK
    written.push_back(base + "_fields.vti");
#endif
    write_fields(base + "_fields.vti", base + "_plot.png", ev, e.deck_yaml);
    written.push_back(base + "_plot.png");
    core::write_text_atomic(base + "_errors.csv", csv);
    written.push_back(base + "_errors.csv");
    io::LinePlot plot{cat("relative L2 error at each time (", o.name, ", trained up to t = ", trained_T, ")"),
                      "t",
                      "||u - u_ref|| / ||u_ref||",
                      true,
                      {inside}};
    if (extrapolates) plot.series.push_back(outside);
    // A log axis draws positive errors only: none (a prediction equal to the reference) draws no plot.
    if ((at_t > 0).logical_and(at_t.isfinite()).any().item<bool>()) {
      io::write_line_plots_png(base + "_errors.png", {plot});
      written.push_back(base + "_errors.png");
    }
    std::string files;
    for (const std::string& w : written) files += cat(files.empty() ? "" : ", ", w);
    core::log_info(
        log.get(),
        cat("pinn case ", o.name, " (", path,
            c.attributes.count("step") ? cat(", step ", c.attributes.at("step")) : std::string(), ") on ", nx, " x ",
            nt, " points, t in [0, ", t_end, "] (trained on ", o.nx, " x ", o.nt, ", t in [0, ", trained_T,
            "]): relative L2 error ", core::sci(ev.rel_l2), " (2-norm ", core::sci(ev.rel_spectral), ")",
            extrapolates ? cat("; over t <= ", trained_T, ": ", core::sci(relative_l2(diff, ev.reference, trained)),
                               ", over the extrapolated t > ", trained_T, ": ",
                               core::sci(relative_l2(diff, ev.reference, beyond)))
                         : std::string(),
            training_grid ? std::string() : cat("; on the training's grid: ", core::sci(on_training_grid)), "; wrote ",
            files));
    result = ev;
  });
  return result;
}

}  // namespace tessera::train::pinn
