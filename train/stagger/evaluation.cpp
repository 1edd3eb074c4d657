#include "train/stagger/evaluation.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/atomic_file.hpp"
#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/idle_ranks.hpp"
#include "core/log.hpp"
#include "io/png.hpp"
#include "io/series_files.hpp"
#include "physics/flow_statistics.hpp"
#include "tessera/config.hpp"
#include "train/stagger/learner.hpp"
#include "train/stagger/rollout.hpp"
#if TESSERA_HAVE_VTK
#include "io/vti.hpp"
#include "io/vtk.hpp"
#endif

namespace tessera::train::stagger {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Grid values with x fastest (the .vti order): f[i, j] = f(x_i, y_j), so the transpose.
std::vector<double> image_values(const at::Tensor& f) {
  const at::Tensor c = f.t().to(at::kCPU, at::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// Predicted / reference / error rows, one column per chosen step (`predicted[i]` and
// `reference[i]` [N, N] the fields at step steps[i]); y upwards, one colour scale
// for the fields (the reference's largest |ω|) and one for the errors (their largest: on the
// fields' scale a step-1 error looked blank, as rollout.png's error has its own too), each grid
// point a square of about 160 / N pixels.
void write_snapshots(const std::string& path, const at::Tensor& predicted, const at::Tensor& reference,
                     const std::vector<int64_t>& steps) {
  const int64_t n = predicted.size(-1);
  const double lim = reference.abs().max().item<double>();
  double error_lim = 0;
  for (size_t i = 0; i < steps.size(); ++i)
    error_lim = std::max(error_lim, (predicted[i] - reference[i]).abs().max().item<double>());
  if (!(error_lim > 0) || !std::isfinite(error_lim)) error_lim = lim;
  // f[i, j] = f(x_i, y_j): the picture's rows are y from the top, its columns x.
  const auto picture = [](const at::Tensor& f) {
    const at::Tensor c = f.t().flip(0).to(at::kCPU, at::kDouble).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  std::vector<io::ImagePanel> panels;
  for (int row = 0; row < 3; ++row)
    for (size_t i = 0; i < steps.size(); ++i) {
      const int64_t k = steps[i];
      const at::Tensor p = predicted[i], r = reference[i];
      const char* what = row == 0 ? "model" : row == 1 ? "reference" : "error";  // error: model - reference
      // With its colour bar (the picture had no scale to read a size from).
      panels.push_back({picture(row == 0   ? p
                                : row == 1 ? r
                                           : p - r),
                        n, n, row == 2 ? -error_lim : -lim, row == 2 ? error_lim : lim, false, cat(what, ", step ", k),
                        true});
    }
  const int64_t zoom = std::max<int64_t>(1, 160 / n);
  io::write_panels_png(path, panels, static_cast<int64_t>(steps.size()), zoom, zoom, 6);
}

// ½ mean(ω²) per step, averaged over the states, in fp64 as relative_l2 (a blown-up fp32 state's
// squares overflow).
at::Tensor mean_enstrophy(const at::Tensor& w) { return physics::enstrophy(w.to(at::kDouble)).mean(1); }

}  // namespace

void run_stagger_rollout(const StaggerRolloutOptions& o, const Comm& comm, const std::shared_ptr<spdlog::logger>& log) {
  if (o.threads > 0) at::set_num_threads(static_cast<int>(o.threads));
  const std::unique_ptr<StaggerModel> model = load_stagger_model(o.checkpoint, o.device, comm);
  const StaggerOptions& m = model->options();
  const physics::PeriodicGrid& grid = model->grid();
  const at::TensorOptions to = model->bank().parameters()[0].value().options().requires_grad(false);
  const at::Tensor w0 = physics::random_vorticity(grid, m.initial, o.samples, o.seed).to(to);
  const auto [first, last] = model->solver_range(comm.rank(), comm.size());
  core::log_info(log.get(), cat("NeuralStagger rollout: ", core::counted(o.steps, "step", "steps"), " of dt ",
                                m.physics.dt, " from ", core::counted(o.samples, "random state", "random states"),
                                "; N = ", m.n, ", s = ", m.s, ", T = ", m.T, ", ", m.solvers(), " solvers over ",
                                core::counted(comm.size(), "rank", "ranks"), " (rank 0 runs ", last - first, ")"));
  // Each rank runs whole solvers: ranks beyond them wait.
  if (comm.size() > m.solvers())
    core::log_warn(log.get(), core::idle_ranks_warning(comm.size(), m.solvers(), "coarse solver", "coarse solvers",
                                                       "each rank runs whole solvers; s x s x T solvers in all"));
  // Whole rounds of steps at a time (a chunk's last state starts the next round, as in one long
  // rollout): the model and then the reference advance a chunk, each timed on its own, and rank 0
  // writes the chunk's errors and frames and drops its states. The whole run was held in memory
  // and written at the end: 11 KB a step at N = 32, and a stopped run left nothing (a review
  // found it, 2026-12-07).
  const int64_t chunk = m.T * std::max<int64_t>(1, 64 / m.T);
  const std::string base = o.output_dir + "/" + o.name;
  const std::string csv_path = base + "_errors.csv";
  const double h = grid.spacing();
#if TESSERA_HAVE_VTK
  std::unique_ptr<io::PvdCollection> pvd;
#endif
  // Every output_every steps and the last one (which a cadence that does not divide
  // rollout.steps left out, as tessera-cfd writes its last step too).
  const auto is_frame = [&](int64_t k) { return o.output_every > 0 && (k % o.output_every == 0 || k == o.steps); };
  const auto write_frame = [&](int64_t k, const at::Tensor& p, const at::Tensor& r) {
#if TESSERA_HAVE_VTK
    const std::string file = cat(o.name, "_", k, ".vti");
    io::write_vti(o.output_dir + "/" + file, m.n, m.n, {0.0, 0.0}, {h, h},
                  {{"vorticity", image_values(p)}, {"reference", image_values(r)}, {"error", image_values(p - r)}},
                  o.deck_yaml);
    pvd->add(double(k) * m.physics.dt, file);
#else
    (void)k, (void)p, (void)r;
#endif
  };
  if (comm.root()) {
    std::filesystem::create_directories(o.output_dir);
    // An earlier run's frames past this run's last (or all of them, with output.every 0) would pass
    // for this run's beside its .pvd (a review found them, 2026-12-07).
    io::remove_series_files(base);
    core::write_text_atomic(
        csv_path, "step,time,rel_l2_mean,rel_l2_max,persistence_mean,enstrophy_predicted,enstrophy_reference\n");
#if TESSERA_HAVE_VTK
    // The collection is rewritten as frames come (paced: io/vtk.hpp): a run stopped part-way leaves
    // a .pvd that lists the frames it wrote up to its last rewrite.
    if (o.output_every > 0) pvd = std::make_unique<io::PvdCollection>(base + ".pvd");
#endif
    if (is_frame(0)) write_frame(0, w0[0], w0[0]);
  }
  // What the summary reads: the mean errors per step, the snapshots' states, the blow-up.
  std::vector<int64_t> shown;
  for (int64_t k : {int64_t(1), int64_t(10), int64_t(50), o.steps})
    if (k <= o.steps && std::find(shown.begin(), shown.end(), k) == shown.end()) shown.push_back(k);
  std::vector<double> mean_error(static_cast<size_t>(o.steps)), mean_persistence(mean_error.size());
  std::vector<at::Tensor> shown_predicted, shown_reference;
  BlowUp blow_up;
  // Progress lines every 10 s through long rollouts (rank 0's; they cost nothing between lines).
  const bool terminal = comm.root() && core::Progress::is_terminal();
  core::Progress progress(log, "steps (model, then reference, a chunk at a time)", o.steps, 10.0, terminal);
  const physics::SpectralVorticitySolver solver = reference_solver(m);
  double model_seconds = 0, reference_seconds = 0;
  at::Tensor w_model = w0, w_reference = w0;
  for (int64_t done = 0; done < o.steps; done += chunk) {
    const int64_t n = std::min(chunk, o.steps - done);
    // 1. The model, timed over all ranks.
    comm.barrier();
    auto start = std::chrono::steady_clock::now();
    const at::Tensor predicted = model_rollout(*model, w_model, n, comm);
    comm.barrier();
    model_seconds += seconds_since(start);
    // 2. The reference from the same states (every rank computes it; rank 0's time is reported).
    start = std::chrono::steady_clock::now();
    const at::Tensor reference = reference_rollout(solver, w_reference, n, m.physics.dt);
    reference_seconds += seconds_since(start);
    w_model = predicted[n - 1];
    w_reference = reference[n - 1];
    progress.advance(n);
    if (!comm.root()) continue;
    // 3. Errors per step.
    const at::Tensor error = relative_l2(predicted, reference);  // [n, samples]
    const at::Tensor persistence = relative_l2(w0.unsqueeze(0).expand_as(reference), reference);
    const at::Tensor zp = mean_enstrophy(predicted), zr = mean_enstrophy(reference);
    blow_up.update(predicted, error, done);
    std::string rows;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = done + i + 1;
      mean_error[k - 1] = error[i].mean().item<double>();
      mean_persistence[k - 1] = persistence[i].mean().item<double>();
      rows += cat(k, ",", double(k) * m.physics.dt, ",", mean_error[k - 1], ",", error[i].max().item<double>(), ",",
                  mean_persistence[k - 1], ",", zp[i].item<double>(), ",", zr[i].item<double>(), "\n");
      // 4. Fields of the first state for ParaView, and the snapshots' states.
      if (is_frame(k)) write_frame(k, predicted[i][0], reference[i][0]);
      if (std::find(shown.begin(), shown.end(), k) != shown.end()) {
        shown_predicted.push_back(predicted[i][0].clone());
        shown_reference.push_back(reference[i][0].clone());
      }
    }
    core::append_text(csv_path, rows);
  }
  progress.finish();
  if (!comm.root()) return;
#if TESSERA_HAVE_VTK
  if (pvd) pvd->finish();
#endif
  if (const std::string w = blow_up.warning(m.physics.dt); !w.empty()) core::log_warn(log.get(), w);
  write_snapshots(base + "_vorticity.png", at::stack(shown_predicted), at::stack(shown_reference), shown);
  // 5. Summary.
  std::string errors;
  for (int64_t k : shown)
    errors += cat(errors.empty() ? "" : ", ", k, ": ", core::sci(mean_error[k - 1]), " (persistence ",
                  core::sci(mean_persistence[k - 1]), ")");
  const double simulated = double(o.steps) * m.physics.dt;
  core::log_info(log.get(), cat("relative L2 error after ", shown.size() == 1 ? "step " : "steps ", errors));
  // The reference here is the truth, at its own small step: a reference as accurate as the model
  // at a larger step is faster (docs/neuralstagger.md (c), (d)), which the line says.
  core::log_info(
      log.get(),
      cat("wall time per simulated time unit: model ", core::sci(model_seconds / simulated), " s, reference ",
          core::sci(reference_seconds / simulated), " s (model ", core::sig3(reference_seconds / model_seconds),
          "x the reference's speed; the reference is the ", "truth, IFRK4 at stagger.reference_dt ", m.reference_dt,
          ", ", core::counted(solver.substeps(m.physics.dt), "internal step", "internal steps"),
          " per neural step: a reference at a larger step, as accurate as the model, is faster: "
          "bench_stagger's line (d))"));
  core::log_info(log.get(), cat("wrote ", base, "_errors.csv, ", base, "_vorticity.png",
                                o.output_every > 0 ? cat(", ", base, ".pvd") : std::string()));
}

}  // namespace tessera::train::stagger
