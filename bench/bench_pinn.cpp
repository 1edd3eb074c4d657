// Benchmark: one training step of the Lagrangian PINN family (forward + loss + backward + Adam,
// full batch on the 256 × 100 grid, tanh MLP 50 × 5; docs/pinn.md) in tessera — with the
// Taylor-mode jet and with the autograd jet — against an equivalent PyTorch script
// (bench/pinn_torch.py, torch.autograd.grad with create_graph) run by the venv's Python on the same
// number of threads, for the Eulerian PINN and the LPINN in fp32 and fp64, on advection (c = 20) and
// viscous Burgers (nu = 0.01); for the Eulerian PINN also against DeepXDE's PyTorch backend
// (bench/pinn_deepxde.py, the peers' venv: bench/bench_pinn.sh installs it). The peers are kept
// processes (bench/peer_server.hpp) and each peer step is timed between two of tessera's, so a
// drift of the machine moves both sides of a ratio alike; the ratios are medians over the pairs.
//   usage: bench_pinn [--quick] [--threads N] [--pairs N] [--python PATH] [--deepxde-python PATH]
//                     [--only PROBLEM:FORM:DTYPE] [--jets taylor,autograd]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_paths.hpp"
#include "bench/cli.hpp"
#include "bench/machine.hpp"
#include "bench/peer_server.hpp"
#include "bench/timing.hpp"
#include "core/malloc_policy.hpp"
#include "train/pinn/learner.hpp"

using namespace tessera;
using namespace tessera::train::pinn;

namespace {

// The kept process of a peer script, under the malloc policy of core::retain_freed_memory (glibc
// tunables), as tessera's process.
std::unique_ptr<bench::PeerServer> start_peer(const std::string& python, const std::string& script,
                                              const std::string& args, int threads) {
  return std::make_unique<bench::PeerServer>(std::string("GLIBC_TUNABLES=") + core::kRetainFreedMemoryTunables + " " +
                                             bench::python_peer_command(python, script, args, threads));
}

int64_t parameter_count(PinnLearner& l) {
  int64_t n = 0;
  for (const auto& p : l.network()->parameters()) n += p.numel();
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string only, jets = "taylor,autograd";
  int threads = 1, pairs = 11;
  std::string python = TESSERA_BENCH_PYTHON, deepxde_python = bench::peer_venv_python();
  // The rows of the table below, for --only.
  std::vector<std::string> rows;
  for (const std::string problem : {"advection", "burgers"})
    for (const std::string form : {"pinn", "lpinn"})
      for (const std::string dtype : {"fp32", "fp64"}) rows.push_back(problem + ":" + form + ":" + dtype);
  CLI::App cli(
      "a PINN / LPINN training step in tessera (Taylor-mode and autograd jets) against PyTorch (bench/pinn_torch.py) "
      "and DeepXDE (bench/pinn_deepxde.py)",
      "bench_pinn");
  cli.option_defaults()->always_capture_default();
  cli.add_flag("--quick", quick, "a 64 x 20 grid, 3 pairs (smoke test)");
  cli.add_option("--threads", threads, "CPU threads, tessera and the peers")->check(bench::positive<int>());
  cli.add_option("--pairs", pairs, "timed peer steps, each between two of tessera's; medians are shown")
      ->check(bench::positive<int>());
  cli.add_option("--python", python, "the Python that runs bench/pinn_torch.py");
  // Repeatable, the last one wins: bench/bench_pinn.sh passes its venv's first, then the user's options.
  cli.add_option("--deepxde-python", deepxde_python,
                 "the Python that has DeepXDE (bench/bench_pinn.sh installs it); none: no DeepXDE rows")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cli.add_option("--only", only, "one row, PROBLEM:FORM:DTYPE, e.g. advection:lpinn:fp32")->check(CLI::IsMember(rows));
  cli.add_option("--jets", jets,
                 "tessera's jets to time, comma-separated: taylor (the Taylor-mode jet, against every peer), "
                 "autograd (the autograd jet, the reference path, against PyTorch)")
      ->check(bench::comma_choices({"taylor", "autograd"}));
  if (const auto rc = bench::parse(cli, argc, argv)) return *rc;
  if (quick) pairs = 3;
  const std::vector<std::string> jet_names = bench::split_list(jets);
  const auto wanted = [&](const char* jet) {
    return std::find(jet_names.begin(), jet_names.end(), jet) != jet_names.end();
  };
  const bool taylor_jet = wanted("taylor"), autograd_jet = wanted("autograd");
  const int64_t nx = quick ? 64 : 256, nt = quick ? 20 : 100;
  at::set_num_threads(threads);
  std::printf(
      "PINN training step (forward + loss + backward + Adam), %lld x %lld points, tanh MLP 50 x 5, %d "
      "thread(s), %d pairs\n",
      static_cast<long long>(nx), static_cast<long long>(nt), threads, pairs);
  std::printf("machine: %s\n", bench::machine_description().c_str());
  std::printf("%-24s %-22s %11s %10s %12s %s\n", "problem form dtype", "side", "params", "ms", "vs tessera",
              "middle half");
  try {
    // Advection (c = 20) needs no u_xx (and the LPINN no u_x): the jet carries 3 (2) channels.
    // Burgers (nu = 0.01, C = 0) needs all four.
    for (const std::string problem : {"advection", "burgers"})
      for (const std::string form : {"pinn", "lpinn"})
        for (const std::string dtype : {"fp32", "fp64"}) {
          if (!only.empty() && only != problem + ":" + form + ":" + dtype) continue;
          char label[32];
          std::snprintf(label, sizeof label, "%-9s %-5s %-8s", problem.c_str(), form.c_str(), dtype.c_str());
          // The same step in each peer: same threads, dtype, problem and grid. DeepXDE: the Eulerian
          // PINN only (it has no Lagrangian form).
          const std::string args = "--dtype " + dtype + " --problem " + problem + " --nx " + std::to_string(nx) +
                                   " --nt " + std::to_string(nt);
          std::vector<std::unique_ptr<bench::PeerServer>> peers;
          std::vector<std::string> names = {"pytorch"};
          peers.push_back(start_peer(python, "pinn_torch.py", args + " --formulation " + form, threads));
          if (form == "pinn" && deepxde_python != "none" && taylor_jet) {  // DeepXDE meets the Taylor jet only
            peers.push_back(start_peer(deepxde_python, "pinn_deepxde.py", args, threads));
            names.push_back("deepxde");
          }
          // Tessera with the Taylor-mode jet against every peer, then with the autograd jet (the
          // reference path) against PyTorch.
          for (const bool taylor : {true, false}) {  // the order matters: see peers.resize
            if (!(taylor ? taylor_jet : autograd_jet)) continue;
            PinnOptions o;
            o.formulation = form == "pinn" ? Formulation::Eulerian : Formulation::Lagrangian;
            o.problem =
                problem == "burgers" ? physics::Problem1D::burgers(0.01, 0.0) : physics::Problem1D::advection(20.0);
            o.nx = nx;
            o.nt = nt;
            o.fp64 = dtype == "fp64";
            o.taylor = taylor;
            o.separate_branches = false;  // one MLP with both outputs, as pinn_torch.py (and the authors' code)
            o.adam_steps = 1 << 30;
            PinnLearner l(o, nullptr);
            const int64_t params = parameter_count(l);
            for (int k = 0; k < 3; ++k) l.step();  // warm-up, as the peers'
            if (!taylor) peers.resize(1);          // PyTorch only
            const bench::PairedTimes paired =
                bench::time_pairs([&] { return bench::time_ms([&] { l.step(); }); }, peers, pairs);
            std::printf("%-24s %-22s %11lld %10.1f\n", label,
                        taylor ? "tessera (Taylor jet)" : "tessera (autograd jet)", static_cast<long long>(params),
                        bench::median(paired.ours));
            for (size_t k = 0; k < peers.size(); ++k) {
              char row[64];
              std::snprintf(row, sizeof row, "%-24s %-22s", label, names[k].c_str());
              bench::print_paired_row(row, names[k], *peers[k], paired.peer_ms[k], paired.ratios[k], params);
            }
            std::fflush(stdout);
          }
        }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_pinn: error: %s\n", e.what());
    return 1;
  }
  std::printf(
      "vs tessera: median over pairs of (peer step) / (mean of the tessera steps before and after it); > 1: "
      "tessera is faster. DeepXDE's step is its own loss (mean squares) and plain Adam: the same work, not the "
      "same numbers.\n");
  return 0;
}
