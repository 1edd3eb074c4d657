// Benchmark: NeuralStagger (docs/neuralstagger.md) for s = 1, 2, 4 and T = 1, 2 at one resolution,
// all in one run under `mpirun -np 2`:
//   - relative L2 rollout error against the spectral reference after 1, 10 and 50 steps (trained
//     checkpoints <dir>/n<N>_s<s>_T<T>/checkpoint.h5; a configuration without one is timed with
//     fresh weights and shows no errors);
//   - inference wall time per step and simulated time per wall second (one sample) with all
//     solvers on rank 0 alone (np = 1) and spread over every rank (np = 2), one thread per rank;
//   - the spectral reference (IFRK4) at the checkpoints' internal step and at one step per neural
//     step, with its own error, on rank 0 with one thread;
//   - the ratios the issue asks for: np = 2 over np = 1, T = 2 over T = 1, model over reference,
//     beside the ideal speed-up s²·T of the paper's regime (one worker per coarse solver).
//   Timing goes round after round over all configurations (np = 1 and all ranks each), and every
//   ratio is the median of the rounds' own ratios, so that the rows see the same machine.
//   usage: mpirun -np 2 bench_stagger [--dir D] [--n N] [--steps K] [--reps R] [--samples B] [--profile]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/cli.hpp"
#include "bench/machine.hpp"
#include "bench/timing.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "physics/flow_statistics.hpp"
#include "train/checkpoint.hpp"
#include "train/stagger/learner.hpp"
#include "train/stagger/rollout.hpp"

using namespace tessera;
using namespace tessera::train::stagger;

namespace {

struct Row {
  int64_t s, T, params;
  bool trained;
  int64_t steps_trained;
  double e1 = -1, e10 = -1, e50 = -1;
  double ms1 = 0, ms2 = 0;  // ms per neural step, np = 1 and all ranks (medians over the rounds)
  double spread = 0;        // median over the rounds of that round's np = 1 / all-ranks time
};

std::string err(double e) { return e < 0 ? "     -" : cat(core::sci(e)); }

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rc = 0;
  try {
    std::string dir = "out/stagger-bench";
    int64_t n = 64, steps = 50, reps = 3, samples = 4, timed_steps = 20;
    bool profile = false;
    CLI::App cli("NeuralStagger for s = 1, 2, 4 and T = 1, 2 against the spectral reference, one rank and all ranks",
                 "bench_stagger");
    cli.option_defaults()->always_capture_default();
    cli.add_option("--dir", dir, "trained checkpoints <dir>/n<N>_s<s>_T<T>/checkpoint.h5 (without: fresh weights)");
    cli.add_option("--n", n, "grid resolution N")->check(bench::positive<int64_t>());
    cli.add_option("--steps", steps, "rollout steps: errors after 1, 10 and K steps")
        ->check(bench::positive<int64_t>());
    cli.add_option("--reps", reps, "timing repetitions; medians")->check(bench::positive<int64_t>());
    cli.add_option("--samples", samples, "random states of the errors")->check(bench::positive<int64_t>());
    cli.add_flag("--profile", profile, "also where a round's time goes (features, solvers, assembly)");
    if (const auto code = bench::parse(cli, argc, argv, Comm().root())) {
      MPI_Finalize();
      return *code;
    }
    at::set_num_threads(1);
    const Comm world, self = Comm::self();
    const bool root = world.root();
    // Between phases: a sleeping barrier (idle ranks must not spin while rank 0 runs alone), then a
    // plain one, since a sleeping barrier lets ranks leave up to one poll period (20 ms) apart.
    // Around timed collective calls: the plain barrier only (it is inside the timed interval).
    const auto barrier = [&] {
      bench::sleeping_barrier(world);
      world.barrier();
    };
    const auto in_step = [&] { world.barrier(); };
    // Untrained configurations take the physics of the first checkpoint found (else the defaults
    // of decks/stagger-kolmogorov.yaml).
    StaggerOptions base;
    base.n = n;
    base.physics.nu = 1e-3;
    base.physics.drag = 0.1;
    base.physics.dt = 0.05;
    base.physics.forcing = physics::KolmogorovForcing{};
    bool found = false;
    for (int64_t T : {1, 2})
      for (int64_t s : {1, 2, 4})
        if (const std::string p = cat(dir, "/n", n, "_s", s, "_T", T, "/checkpoint.h5");
            !found && std::filesystem::exists(p)) {
          base = StaggerOptions::from_attributes(train::load_checkpoint(p).attributes, p);
          found = true;
        }
    std::vector<Row> rows;
    std::vector<std::unique_ptr<StaggerModel>> models;
    at::Tensor w0, w1, reference;
    for (int64_t T : {1, 2})
      for (int64_t s : {1, 2, 4}) {
        const std::string path = cat(dir, "/n", n, "_s", s, "_T", T, "/checkpoint.h5");
        std::unique_ptr<StaggerModel> model;
        Row row{s, T, 0, std::filesystem::exists(path), 0};
        if (row.trained) {
          model = load_stagger_model(path, "cpu", world);
          row.steps_trained = std::stoll(train::load_checkpoint(path).attributes.at("step"));
        } else {
          StaggerOptions o = base;
          o.s = s;
          o.T = T;
          at::manual_seed(0);
          model = std::make_unique<StaggerModel>(o, measure_scales(o, 4, 1), at::kFloat);
        }
        const StaggerOptions& o = model->options();
        row.params = model->bank().parameter_count();
        if (!w0.defined()) {  // the evaluation states and the reference, once
          w0 = physics::random_vorticity(model->grid(), o.initial, samples, 2000003).to(at::kFloat);
          w1 = w0.narrow(0, 0, 1).contiguous();
          if (root) reference = reference_rollout(reference_solver(o), w0.to(at::kDouble), steps, o.physics.dt);
        }
        if (root && row.trained) {
          const at::Tensor e = relative_l2(model_rollout(*model, w0, steps, self).to(at::kDouble), reference);
          row.e1 = e[0].mean().item<double>();
          row.e10 = e[std::min<int64_t>(9, steps - 1)].mean().item<double>();
          row.e50 = e[steps - 1].mean().item<double>();
        }
        double t_round_world = 0;
        if (profile) {  // one distributed round, all ranks in step
          at::NoGradGuard no_grad;
          barrier();
          t_round_world = bench::median_ms([&] { model->forward_distributed(w1, world); }, int(reps) * 5, 2, in_step);
        }
        if (profile && root) {  // where a round's time goes, one rank, one sample
          at::NoGradGuard no_grad;
          const int64_t G = o.solvers();
          at::Tensor f;
          const double t_features = bench::median_ms([&] { f = model->features(w1); }, int(reps) * 5);
          const double t_all = bench::median_ms([&] { model->solve(w1, f, 0, G); }, int(reps) * 5);
          const double t_half = bench::median_ms([&] { model->solve(w1, f, 0, (G + 1) / 2); }, int(reps) * 5);
          const at::Tensor pieces = model->solve(w1, f, 0, G);
          const double t_assemble = bench::median_ms([&] { model->assemble(pieces); }, int(reps) * 5);
          std::printf(
              "profile s=%lld T=%lld (ms per round): features %.3f, all %lld solvers %.3f, first %lld %.3f, "
              "assemble %.3f; one round on %d ranks %.3f\n",
              (long long)s, (long long)T, t_features, (long long)G, t_all, (long long)(G + 1) / 2, t_half, t_assemble,
              world.size(), t_round_world);
        }
        rows.push_back(row);
        models.push_back(std::move(model));
      }
    // Timing: np = 1 (rank 0 alone; the others wait without spinning) and every rank, for every
    // configuration in turn, round after round, so that all rows see the same machine (a shared
    // VM's second core comes and goes, and its speed drifts by tens of percent between minutes).
    // The ratios are medians of each round's own ratio, so a slow round cancels out of them.
    const int64_t k = timed_steps;
    const size_t configs = rows.size();
    std::vector<std::vector<double>> t1(configs), t2(configs);
    for (auto& m : models) model_rollout(*m, w1, k, world);  // warm-up
    for (int64_t r = 0; r < reps; ++r)
      for (size_t c = 0; c < configs; ++c) {
        StaggerModel& model = *models[c];
        if (root) t1[c].push_back(bench::median_ms([&] { model_rollout(model, w1, k, self); }, 1, 0) / double(k));
        barrier();
        t2[c].push_back(bench::median_ms([&] { model_rollout(model, w1, k, world); }, 1, 0, in_step) / double(k));
      }
    // The median over the rounds of one round's time over another's.
    const auto round_ratio = [&](const std::vector<double>& num, const std::vector<double>& den) {
      std::vector<double> ratio;
      for (int64_t r = 0; r < reps; ++r) ratio.push_back(num[r] / den[r]);
      return bench::median(std::move(ratio));
    };
    for (size_t c = 0; c < configs; ++c) {
      rows[c].ms2 = bench::median(t2[c]);
      if (!root) continue;
      rows[c].ms1 = bench::median(t1[c]);
      rows[c].spread = round_ratio(t1[c], t2[c]);
    }
    const StaggerModel* any = models.front().get();
    if (root) {
      const StaggerOptions& o = any->options();
      const double dt = o.physics.dt;
      // The reference: at the checkpoints' internal step (the truth here), and with larger steps,
      // down to one step per neural step, each with its own error: the cheapest reference that is
      // as accurate as the model is the fair baseline.
      const physics::SpectralVorticitySolver fine = reference_solver(o);
      const at::Tensor r1 = w1.to(at::kDouble);
      const double ms_fine = bench::median_ms([&] { fine.advance(r1, dt); }, int(reps) * 5);
      struct Coarse {
        double step, ms;
        at::Tensor error;
      };
      std::vector<Coarse> coarse;
      for (const double factor : {0.2, 0.5, 1.0}) {
        const physics::SpectralVorticitySolver solver(any->grid(), o.physics, dt * factor);
        coarse.push_back({dt * factor, bench::median_ms([&] { solver.advance(r1, dt); }, int(reps) * 5),
                          relative_l2(reference_rollout(solver, w0.to(at::kDouble), steps, dt), reference)});
      }
      const at::Tensor ep = relative_l2(w0.to(at::kDouble).unsqueeze(0).expand_as(reference), reference);
      std::printf(
          "NeuralStagger, Kolmogorov flow N = %lld, dt = %g, nu = %g, drag = %g; %lld random states, errors "
          "vs the spectral reference (IFRK4, internal step %g); %d MPI ranks, 1 thread each\n",
          (long long)n, dt, o.physics.nu, o.physics.drag, (long long)samples, o.reference_dt, world.size());
      std::printf("machine: %s\n", bench::machine_description().c_str());
      std::printf("%-9s %9s %7s %11s %11s %11s %10s %10s %8s %12s %12s %9s\n", "config", "params", "trained", "L2@1",
                  cat("L2@", std::min<int64_t>(10, steps)).c_str(), cat("L2@", steps).c_str(), "ms/step 1",
                  cat("ms/step ", world.size()).c_str(), "np2/np1", "sim t/s np1",
                  cat("sim t/s np", world.size()).c_str(), "vs ref");
      for (const Row& r : rows) {
        const double sim1 = dt / (r.ms1 / 1000), sim2 = dt / (r.ms2 / 1000);
        std::printf("s=%lld T=%lld %9lld %7s %11s %11s %11s %10.2f %10.2f %8.2f %12.2f %12.2f %9.2f\n", (long long)r.s,
                    (long long)r.T, (long long)r.params, r.trained ? cat(r.steps_trained).c_str() : "no",
                    err(r.e1).c_str(), err(r.e10).c_str(), err(r.e50).c_str(), r.ms1, r.ms2, r.spread, sim1, sim2,
                    ms_fine / r.ms2);
      }
      std::printf("reference dt %-6g %7s %7s %11s %11s %11s %10.2f %35s %12.2f\n", o.reference_dt, "", "", "0", "0",
                  "0", ms_fine, "", dt / (ms_fine / 1000));
      for (const Coarse& c : coarse)
        std::printf("reference dt %-6g %7s %7s %11s %11s %11s %10.2f %35s %12.2f\n", c.step, "", "",
                    err(c.error[0].mean().item<double>()).c_str(),
                    err(c.error[std::min<int64_t>(9, steps - 1)].mean().item<double>()).c_str(),
                    err(c.error[steps - 1].mean().item<double>()).c_str(), c.ms, "", dt / (c.ms / 1000));
      std::printf("persistence %29s %11s %11s\n", err(ep[0].mean().item<double>()).c_str(),
                  err(ep[std::min<int64_t>(9, steps - 1)].mean().item<double>()).c_str(),
                  err(ep[steps - 1].mean().item<double>()).c_str());
      std::printf("\n(a) spread over %d ranks / one rank, per step:", world.size());
      for (const Row& r : rows) std::printf(" s%lldT%lld %.2fx", (long long)r.s, (long long)r.T, r.spread);
      std::printf("\n(b) simulated time per second, T = 2 / T = 1 on %d ranks:", world.size());
      for (int64_t s : {1, 2, 4}) {
        size_t a = 0, b = 0;  // the rows of T = 1 and T = 2
        for (size_t c = 0; c < configs; ++c)
          if (rows[c].s == s) (rows[c].T == 1 ? a : b) = c;
        std::printf(" s=%lld %.2fx", (long long)s, round_ratio(t2[a], t2[b]));
      }
      std::printf("\n(c) ideal speed-up with one worker per coarse solver (s^2 T workers) over s = 1, T = 1:");
      for (const Row& r : rows)
        std::printf(" s%lldT%lld %lldx", (long long)r.s, (long long)r.T, (long long)(r.s * r.s * r.T));
      std::printf("; measured here with %d workers:", world.size());
      for (size_t c = 0; c < configs; ++c)  // s = 1, T = 1 on one rank over this row on all ranks
        std::printf(" s%lldT%lld %.2fx", (long long)rows[c].s, (long long)rows[c].T, round_ratio(t1[0], t2[c]));
      // The fair baseline: the cheapest reference at least as accurate as the model after
      // min(10, steps) steps (the column "vs ref" divides by the finest one, the truth, which
      // flatters the model). A reference that blew up (NaN error) is never as accurate.
      const int64_t at10 = std::min<int64_t>(9, steps - 1);
      std::printf(
          "\n(d) the cheapest reference as accurate as the model after %lld steps, its ms per step / the "
          "model's on %d ranks (< 1: the reference is faster):",
          (long long)at10 + 1, world.size());
      for (const Row& r : rows) {
        std::printf(" s%lldT%lld ", (long long)r.s, (long long)r.T);
        if (r.e10 < 0) {
          std::printf("- (not trained)");
          continue;
        }
        double best_ms = ms_fine, best_step = o.reference_dt;
        for (const Coarse& c : coarse)
          if (c.error[at10].mean().item<double>() <= r.e10 && c.ms < best_ms) best_ms = c.ms, best_step = c.step;
        std::printf("%.2fx (step %g)", best_ms / r.ms2, best_step);
      }
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_stagger: %s\n", e.what());
    rc = 1;
  }
  MPI_Finalize();
  return rc;
}
