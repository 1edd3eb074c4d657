// Benchmark: the surrogate against the solver it imitates, on the same mesh and threads (issue
// 16: "simulated time per wall second"). The solver is tessera-cfd's Navier-Stokes step
// (Taylor-Hood P2/P1, BDF2) on the CylinderFlow deck's mesh at dt = 0.01, on rank 0 alone and on
// all ranks of mpiexec; the surrogates are the models of decks/train-transformer.yaml and
// decks/train-meshgraphnet.yaml (untrained: the speed does not depend on the weights) rolled out
// with train::rollout, as tessera-rollout does, on rank 0 with torch's threads. Both advance
// dt = 0.01 per step, so simulated time per wall second is 0.01 / (seconds per step).
//   mpiexec -n 2 --bind-to none bench_rollout [--steps N] [--rounds R] [--quick]
//                                             [--models transformer,meshgraphnet] [--bundles 1,4,8] [--bf16]
// (each round times the solver, then every surrogate row: on a machine whose speed drifts, the
// ratios are taken within a round; the surrogate runs with 1 thread, then with as many threads as
// the solver has ranks;
// --models and --bundles choose the rows, e.g. one model under a profiler; --bf16 adds each row
// again with its matrix products in bf16, rollout.precision: bf16)
#include <ATen/Parallel.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_paths.hpp"
#include "bench/cli.hpp"
#include "bench/core_peak.hpp"
#include "bench/cylinder_mesh.hpp"
#include "bench/machine.hpp"
#include "bench/solver_timing.hpp"
#include "bench/timing.hpp"
#include "io/dataset.hpp"
#include "io/deck.hpp"
#include "io/schema.hpp"
#include "linalg/bf16_products.hpp"
#include "solvers/navier_stokes.hpp"
#include "solvers/petsc_session.hpp"
#include "tests/synthetic_flow.hpp"
#include "train/evaluate.hpp"
#include "train/families/families.hpp"
#include "train/mesh_sim_options.hpp"

using namespace tessera;

namespace {

// tessera-cfd's step at dt = 0.01 with the vertex velocities copied out, as a dataset or a hybrid
// run does every step; Re 100 with radius 0.05 (vortex shedding, as in the dataset).
// The median over `windows` windows of `steps` steps, as each surrogate row is timed.
double solver_ms_per_step(const mesh::Mesh& m, int steps, int windows, const Comm& comm) {
  solvers::FlowConfig f;
  f.inflow_speed = 1.5;
  return bench::time_solver_steps(
             m, f, 0.01, steps, comm, [](solvers::NavierStokes& ns) { ns.vertex_velocity(); }, windows)
      .ms_per_step;
}

}  // namespace

int main(int argc, char** argv) {
#if TESSERA_HAVE_MPI
  MPI_Init(&argc, &argv);
#endif
  int steps = 50, rounds = 3;
  bool quick = false, bf16 = false;
  std::string models = "transformer,meshgraphnet", bundles = "1,4,8";
  CLI::App cli("the surrogates' rollout against the solver they imitate, same mesh and threads", "bench_rollout");
  cli.option_defaults()->always_capture_default();
  cli.add_option("--steps", steps, "timed steps")->check(bench::positive<int>());
  cli.add_option("--rounds", rounds, "rounds, each timing the solver and then every surrogate row")
      ->check(bench::positive<int>());
  cli.add_flag("--quick", quick, "a coarse mesh, 3 steps, 1 round (smoke test)");
  cli.add_option("--models", models, "surrogate rows: transformer and/or meshgraphnet, comma-separated");
  cli.add_option("--bundles", bundles, "temporal bundles of the surrogate rows: 1, 4, 8, 16, comma-separated");
  cli.add_flag("--bf16", bf16,
               "also each surrogate row with its matrix products in bf16 (rollout.precision: bf16; CPUs with "
               "AVX512-BF16)");
  const bool root = Comm().root();
  if (const auto rc = bench::parse(cli, argc, argv, root)) {
#if TESSERA_HAVE_MPI
    MPI_Finalize();
#endif
    return *rc;
  }
  auto listed = [](const std::string& list, const std::string& item) {
    return ("," + list + ",").find("," + item + ",") != std::string::npos;
  };
  // Every listed name must be a row this bench can time: a typo (or an empty item, or an empty
  // list) would silently drop its rows.
  auto unknown = [](const std::string& list, const std::vector<std::string>& known) -> std::optional<std::string> {
    if (list.empty() || list.back() == ',') return std::string();
    std::stringstream items(list);
    for (std::string item; std::getline(items, item, ',');)
      if (std::find(known.begin(), known.end(), item) == known.end()) return item;
    return std::nullopt;
  };
  const std::optional<std::string> bad_model = unknown(models, {"transformer", "meshgraphnet"}),
                                   bad_bundle = unknown(bundles, {"1", "4", "8", "16"});
  if (bad_model || bad_bundle) {
    if (root)
      std::fprintf(stderr, "bench_rollout: error: %s '%s'%s; expected %s\n", bad_model ? "--models" : "--bundles",
                   (bad_model ? *bad_model : *bad_bundle).c_str(),
                   (bad_model ? *bad_model : *bad_bundle).empty() ? " (an empty item)" : "",
                   bad_model ? "transformer and/or meshgraphnet" : "a comma-separated list of 1, 4, 8, 16");
#if TESSERA_HAVE_MPI
    MPI_Finalize();
#endif
    return 2;
  }
  if (quick) steps = 3, rounds = 1;
  {
    Comm world;
    solvers::PetscSession petsc;
    // 1. The CylinderFlow deck's mesh (decks/cylinder-flow.yaml, centre (0.3, 0.2), radius 0.05).
    const mesh::Mesh m = bench::cylinder_mesh(1.6, 0.3, 0.2, 0.05, quick ? 0.04 : 0.01, quick ? 0.08 : 0.024);

    // 2. The surrogates, built on rank 0: a one-trajectory dataset on the mesh gives the graphs,
    //    masks and node types exactly as training and tessera-rollout build them. Each deck as it
    //    is, and with temporal bundling (model.bundle = K: one forward pass per K steps;
    //    MeshGraphNet: at most 4, its unbundled step alone takes seconds).
    const std::string scratch =
        (std::filesystem::temp_directory_path() / ("tessera-bench-rollout-" + std::to_string(::getpid()))).string();
    struct Surrogate {
      std::string name;
      std::shared_ptr<train::Simulator> model;  // a bf16 row shares its fp32 row's model and data
      train::Normalizers norms;
      std::vector<train::TrajectoryData> data;
      bool bf16 = false;
    };
    std::vector<Surrogate> surrogates;
    bool bf16_missing = false;
    if (root) {
      {
        io::DatasetWriter w(scratch, "train", io::DatasetMeta::cylinder_flow(steps + 1, 0.01));
        w.write(0, test::synthetic_trajectory(m, steps + 1, 0.1, 0.0, 0.41));
        w.finish();
      }
      io::Schema schema("tessera-train");
      train::add_training_deck_keys(schema);
      for (const std::string model_name : {"transformer", "meshgraphnet"})
        for (const int bundle : {1, 4, 8, 16}) {
          if (!listed(models, model_name) || !listed(bundles, std::to_string(bundle))) continue;
          if (bundle > 4 && model_name == "meshgraphnet") continue;
          const std::string deck_name = "train-" + model_name + ".yaml";
          const io::Deck deck = io::Deck::load(bench::source_dir() + "/decks/" + deck_name, schema,
                                               {"data.dir=" + scratch, "model.bundle=" + std::to_string(bundle)});
          const train::MeshSimOptions o = train::mesh_sim_options(deck);
          std::shared_ptr<train::Simulator> model =
              train::make_simulator(o.model, train::kNodeFeatures, train::kOutputChannels);
          model->module().eval();
          const auto data = train::load_split(scratch, "train", o.augment, 1);
          const train::Normalizers norms = train::Normalizers::fresh(bundle);
          for (const bool in_bf16 : {false, true}) {
            if (in_bf16 && !bf16) break;
            if (in_bf16 && !linalg::bf16_products_available()) {
              bf16_missing = true;
              break;
            }
            Surrogate row;
            row.name = "surrogate: " + deck_name + (bundle > 1 ? ", bundle " + std::to_string(bundle) : "") +
                       (in_bf16 ? ", bf16" : "");
            row.model = model;
            row.norms = norms;
            row.data = data;
            row.bf16 = in_bf16;
            surrogates.push_back(std::move(row));
          }
        }
    }

    // 3. Rounds, each timing the solver (rank 0 alone, the baseline, then all ranks) and then every
    //    surrogate (rank 0, 1 thread, then as many threads as ranks) close together in time, so a
    //    slow spell of the machine falls on both sides of a ratio. Ratios are taken within a round
    //    and their median over the rounds is printed.
    const int threads_count = world.size() > 1 ? 2 : 1;
    // Both sides take the median of as many windows of `steps` steps (the solver timed one window,
    // the surrogates the median of three: a slow spell could be left out of one side only).
    const int windows = quick ? 1 : 3;
    std::vector<double> solver_np1, solver_all;
    std::vector<std::vector<std::vector<double>>> surrogate_ms(surrogates.size(),
                                                               std::vector<std::vector<double>>(threads_count));
    for (int round = 0; round < rounds; ++round) {
      // The solver's dense kernels (MUMPS's BLAS) resolve to the MKL inside libtorch, which takes
      // torch's thread count: one, as tessera-cfd's serial BLAS has, whatever the surrogates set.
      at::set_num_threads(1);
      if (root) solver_np1.push_back(solver_ms_per_step(m, steps, windows, Comm::self()));
      bench::sleeping_barrier(world);
      if (world.size() > 1) solver_all.push_back(solver_ms_per_step(m, steps, windows, world));
      if (root)
        for (size_t r = 0; r < surrogates.size(); ++r) {
          Surrogate& s = surrogates[r];
          std::optional<linalg::Bf16Products> products;
          if (s.bf16) products.emplace(linalg::matrix_weights(s.model->module()));
          for (int t = 0; t < threads_count; ++t) {
            at::set_num_threads(t == 0 ? 1 : world.size());
            train::rollout(*s.model, s.norms, s.data[0], 2);  // warm-up
            surrogate_ms[r][t].push_back(
                bench::median_ms([&] { train::rollout(*s.model, s.norms, s.data[0], steps); }, windows, 0) /
                double(steps));
          }
        }
      bench::sleeping_barrier(world);
      if (root && rounds > 1) std::fprintf(stderr, "bench_rollout: round %d of %d done\n", round + 1, rounds);
    }

    // 4. The table: medians over the rounds.
    if (root) {
      std::printf("rollout vs solver, CylinderFlow mesh: %lld nodes, dt 0.01, %d timed steps, %d round%s\n",
                  (long long)m.num_nodes(), steps, rounds, rounds > 1 ? "s" : "");
      std::printf("machine: %s\n", bench::machine_description().c_str());
      if (bf16)
        if (const auto peak = bench::measure_core_peak()) {
          std::printf(
              "one core's peak: fp32 FMA %.0f GFLOP/s, bf16 dot product %.0f GFLOP/s (%.2fx): the bf16 rows "
              "can gain only where this ratio is above 1\n",
              peak->fp32_fma_gflops, peak->bf16_dot_gflops, peak->bf16_dot_gflops / peak->fp32_fma_gflops);
          if (peak->fp16_fma_gflops > 0)
            std::printf(
                "  fp16 FMA (AVX512-FP16, accumulating in fp16) %.0f GFLOP/s (%.2fx): no product of tessera "
                "uses it (docs/benchmarks.md)\n",
                peak->fp16_fma_gflops, peak->fp16_fma_gflops / peak->fp32_fma_gflops);
        }
      std::printf("%-52s %12s %10s %16s %10s %16s\n", "", "np / threads", "ms/step", "sim. time / s", "vs solver",
                  rounds > 1 ? "rounds' range" : "");
      // ms: one time per round; baseline: the solver's time in the same rounds.
      auto row = [&](const char* name, int np, const std::vector<double>& ms, const std::vector<double>& baseline) {
        std::vector<double> ratio(ms.size());
        for (size_t i = 0; i < ms.size(); ++i) ratio[i] = baseline[i] / ms[i];
        const auto [lo, hi] = std::minmax_element(ratio.begin(), ratio.end());
        const double med = bench::median(ms);
        std::printf("%-52s %12d %10.1f %16.3f %9.2fx", name, np, med, 10.0 / med, bench::median(ratio));
        if (rounds > 1) std::printf("   %6.2f-%.2fx", *lo, *hi);
        std::printf("\n");
      };
      row("solver (tessera-cfd's step)", 1, solver_np1, solver_np1);
      if (world.size() > 1) row("solver (tessera-cfd's step)", world.size(), solver_all, solver_np1);
      if (bf16_missing) std::printf("(no bf16 rows: this CPU has no AVX512-BF16 or the build no libxsmm)\n");
      for (size_t r = 0; r < surrogates.size(); ++r)
        for (int t = 0; t < threads_count; ++t)
          row(surrogates[r].name.c_str(), t == 0 ? 1 : world.size(), surrogate_ms[r][t],
              t == 0 ? solver_np1 : solver_all);
      std::printf(
          "sim. time / s: simulated seconds per wall second (dt / time per step); vs solver: the solver on as many\n"
          "ranks as the surrogate has threads (the solver's np row: against np 1), median over the rounds of the\n"
          "ratio within a round; ms/step: median over the rounds; in a round each side's time is the median of %d\n"
          "window%s of %d steps\n",
          windows, windows > 1 ? "s" : "", steps);
      std::filesystem::remove_all(scratch);
    }
    bench::sleeping_barrier(world);
  }
#if TESSERA_HAVE_MPI
  MPI_Finalize();
#endif
  return 0;
}
