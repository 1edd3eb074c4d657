// Benchmark: the error-versus-cost curve of the hybrid rollout (docs/hybrid.md, issue 16)
// between the pure surrogate and the pure solver, on one dataset trajectory with a trained
// checkpoint: fixed schedules (K surrogate steps, M solver steps) and divergence triggers, each
// timed against the solver alone over the same steps, on the same mesh and threads, in the same
// run. Prints a table and writes <out>/hybrid_curve.csv and <out>/hybrid_curve.png.
//   bench_hybrid [--checkpoint out/example/train/checkpoint.h5] [--data out/example/data]
//                [--split test] [--trajectory 0] [--steps 0] [--threads 1] [--refactor-every N]
//                [--rounds R] [--out out/bench-hybrid] [--quick] [--oracle]
// Wall times: the minimum over R rounds of every schedule.
// --quick: a short smoke run (a few steps, few schedules), for ctest.
// --oracle: the data's next state as the surrogate, so the error left is the hand-overs' own.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/cli.hpp"
#include "bench/machine.hpp"
#include "io/dataset.hpp"
#include "io/line_plot.hpp"
#include "solvers/petsc_session.hpp"
#include "train/hybrid/flow_config.hpp"
#include "train/hybrid/hybrid_rollout.hpp"
#include "train/hybrid/indicator.hpp"
#include "train/model_io.hpp"

using namespace tessera;
using namespace tessera::train;
using hybrid::Schedule;
using hybrid::Trigger;

namespace {

struct Point {
  std::string name;
  Schedule schedule;
  double solver_fraction = 0, error = 0, cost = 0, rmse = 0, seconds = 0;
};

std::string name_of(const Schedule& s) {
  if (s.trigger == Trigger::Divergence) return "divergence > " + std::to_string(s.threshold).substr(0, 6);
  if (s.solver_steps == 0) return "surrogate only";
  if (s.surrogate_steps == 0) return "solver only";
  return "K " + std::to_string(s.surrogate_steps) + ", M " + std::to_string(s.solver_steps);
}

}  // namespace

int main(int argc, char** argv) {
#if TESSERA_HAVE_MPI
  MPI_Init(&argc, &argv);
#endif
  std::string checkpoint = "out/example/train/checkpoint.h5", data = "out/example/data", split = "test",
              out = "out/bench-hybrid";
  int64_t trajectory = 0, steps = 0;
  int threads = 1, refactor_every = 0, rounds = 1;
  bool quick = false, oracle = false;
  CLI::App cli("error against cost of the hybrid rollout (surrogate K steps, PETSc solver M steps)", "bench_hybrid");
  cli.option_defaults()->always_capture_default();
  cli.add_option("--checkpoint", checkpoint, "trained mesh simulator");
  cli.add_option("--data", data, "tessera-cfd dataset");
  cli.add_option("--split", split, "split");
  cli.add_option("--trajectory", trajectory, "trajectory")->check(bench::non_negative<int64_t>());
  cli.add_option("--steps", steps, "steps (0: all)")->check(bench::non_negative<int64_t>());
  cli.add_option("--threads", threads, "threads")->check(bench::positive<int>());
  cli.add_option("--refactor-every", refactor_every, "solver LU refactorisation interval (0: the dataset's)")
      ->check(bench::non_negative<int>());
  cli.add_option("--rounds", rounds, "rounds; wall times are the minimum")->check(bench::positive<int>());
  cli.add_option("--out", out, "hybrid_curve.csv and .png");
  cli.add_flag("--quick", quick, "a short smoke run");
  cli.add_flag("--oracle", oracle,
               "the surrogate returns the data's next state (a perfect surrogate): the error left is the "
               "hand-over's own");
  if (const auto code = bench::parse(cli, argc, argv)) {
#if TESSERA_HAVE_MPI
    MPI_Finalize();
#endif
    return *code;
  }
  int rc = 0;
  try {
    solvers::PetscSession petsc;
    at::set_num_threads(threads);
    TrainedModel m = load_trained_model(checkpoint);
    io::DatasetReader reader(data, split);
    const TrajectoryData t = prepare_trajectory(reader.read(trajectory), m.options.augment, "bench");
    const double dt = reader.meta().dt;
    const int64_t available = t.steps() - 1;
    steps = quick ? std::min<int64_t>(available, 6) : (steps > 0 ? std::min(steps, available) : available);
    at::Tensor v0 = t.velocity[0].to(at::kDouble).contiguous();
    hybrid::SolverOptions overrides;
    if (refactor_every > 0) overrides.refactor_every = refactor_every;
    const hybrid::TrajectoryFlow flow = hybrid::trajectory_flow(
        reader.deck_yaml(), data, t.mesh, {v0.data_ptr<double>(), v0.data_ptr<double>() + v0.numel()}, overrides);
    // Divergence thresholds relative to the solver's own level: the median indicator of the data.
    std::vector<double> levels;
    for (int64_t s = 0; s <= steps; ++s) {
      at::Tensor v = t.velocity[s].to(at::kDouble).contiguous();
      levels.push_back(hybrid::divergence_indicator(t.mesh, {v.data_ptr<double>(), v.data_ptr<double>() + v.numel()}));
    }
    std::nth_element(levels.begin(), levels.begin() + levels.size() / 2, levels.end());
    const double level = levels[levels.size() / 2];

    std::vector<Schedule> schedules = {{0, 1, Trigger::Fixed, 0}, {1, 0, Trigger::Fixed, 0}};
    if (quick) {
      schedules.push_back({2, 1, Trigger::Fixed, 0});
    } else {
      for (auto [K, M] : std::vector<std::pair<int64_t, int64_t>>{
               {49, 1}, {19, 1}, {9, 1}, {16, 4}, {8, 2}, {4, 1}, {3, 2}, {1, 1}, {1, 4}})
        schedules.push_back({K, M, Trigger::Fixed, 0});
      for (double f : {1.1, 1.2, 1.5}) schedules.push_back({0, 1, Trigger::Divergence, f * level});
    }
    const hybrid::SurrogateStep surrogate =
        oracle ? hybrid::SurrogateStep([&t](const at::Tensor&, int64_t s) { return t.velocity[s + 1].clone(); })
               : hybrid::model_step(*m.model, m.norms, t);
    {  // warm-up of both sides: two surrogate steps, then two solver steps (the surrogate alone
       // left the solver's first factorisation and page faults to the first schedule timed, the
       // solver-only baseline, which --rounds 1 reports as measured)
      solvers::NavierStokes ns(t.mesh, flow.flow, Comm::self(), flow.linear);
      hybrid::hybrid_rollout({2, 2, Trigger::Fixed, 0}, surrogate, ns, t, 4, dt);
    }
    std::vector<Point> points;
    // Rounds over all schedules; wall times are the minimum over rounds (the errors do not change).
    for (int round = 0; round < rounds; ++round)
      for (size_t i = 0; i < schedules.size(); ++i) {
        const Schedule& s = schedules[i];
        solvers::NavierStokes ns(t.mesh, flow.flow, Comm::self(), flow.linear);
        const auto h = hybrid::hybrid_rollout(s, surrogate, ns, t, steps, dt);
        if (h.stopped_by) throw *h.stopped_by;  // a partial run's time is no cost to compare
        if (round > 0) {
          points[i].seconds = std::min(points[i].seconds, h.seconds);
          continue;
        }
        const double all = h.rollout.rmse_over(steps);
        Point p;
        p.name = name_of(s);
        p.schedule = s;
        p.solver_fraction = h.solver_fraction();
        p.error = all / h.rollout.persistence_over(steps);
        p.rmse = all;
        p.seconds = h.seconds;
        points.push_back(p);
      }
    const double solver_seconds = points[0].seconds;  // schedules[0]: the solver alone
    for (Point& p : points) p.cost = p.seconds / solver_seconds;
    std::printf(
        "hybrid rollout, %s #%lld: %lld nodes, %lld steps of dt %g, %d thread(s), LU every %d steps, "
        "min of %d round(s); %s (step %lld)\n",
        data.c_str(), (long long)trajectory, (long long)t.mesh.num_nodes(), (long long)steps, dt, threads,
        flow.linear.refactor_every, rounds, checkpoint.c_str(), (long long)m.step);
    std::printf("machine: %s\n", bench::machine_description().c_str());
    std::printf("divergence indicator of the data: median %.4f\n", level);
    std::printf("| schedule | solver steps | RMSE (all steps) | RMSE / persistence | wall s | wall / solver only |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (const Point& p : points)
      std::printf("| %s | %.0f%% | %.4g | %.3f | %.2f | %.3f |\n", p.name.c_str(), 100 * p.solver_fraction, p.rmse,
                  p.error, p.seconds, p.cost);
    std::filesystem::create_directories(out);
    {
      std::ofstream csv(out + "/hybrid_curve.csv");
      csv << "schedule,K,M,trigger,threshold,solver_fraction,rmse_all,rmse_over_persistence,seconds,"
             "seconds_over_solver_only\n";
      for (const Point& p : points)
        csv << p.name << "," << p.schedule.surrogate_steps << "," << p.schedule.solver_steps << ","
            << (p.schedule.trigger == Trigger::Fixed ? "fixed" : "divergence") << "," << p.schedule.threshold << ","
            << p.solver_fraction << "," << p.rmse << "," << p.error << "," << p.seconds << "," << p.cost << "\n";
    }
    io::LinePlot plot{
        "hybrid rollout: error against cost", "wall time / solver only", "RMSE over all steps / persistence", true, {}};
    // A point per schedule, from the pure surrogate (K = infinity) through the fixed schedules to
    // the pure solver (K = 0), and the divergence triggers (joined by a line, the schedules could
    // not be told apart; hybrid_curve.csv names each point).
    io::PlotSeries fixed{"fixed K, M", {}, {}, true}, divergence{"divergence trigger", {}, {}, true};
    std::vector<Point> sorted = points;
    std::sort(sorted.begin(), sorted.end(), [](const Point& a, const Point& b) { return a.cost < b.cost; });
    for (const Point& p : sorted) {
      io::PlotSeries& s = p.schedule.trigger == Trigger::Fixed ? fixed : divergence;
      s.x.push_back(p.cost);
      s.y.push_back(p.error);
    }
    plot.series = {fixed};
    if (!divergence.x.empty()) plot.series.push_back(divergence);
    io::write_line_plots_png(out + "/hybrid_curve.png", {plot}, 560, 400);
    std::printf("wrote %s/hybrid_curve.csv, %s/hybrid_curve.png\n", out.c_str(), out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_hybrid: error: %s\n", e.what());
    rc = 1;
  }
#if TESSERA_HAVE_MPI
  MPI_Finalize();
#endif
  return rc;
}
