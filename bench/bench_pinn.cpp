// Benchmark: one training step of the Lagrangian PINN family (forward + loss + backward + Adam,
// full batch on the 256 × 100 grid, tanh MLP 50 × 5; docs/pinn.md) in tessera — with the
// Taylor-mode jet and with the autograd jet — and in an equivalent PyTorch script
// (bench/pinn_torch.py, torch.autograd.grad with create_graph) run by the venv's Python on the same
// number of threads, for the Eulerian PINN and the LPINN in fp32 and fp64, on advection (c = 20) and
// viscous Burgers (nu = 0.01); for the Eulerian PINN also in DeepXDE's PyTorch backend
// (bench/pinn_deepxde.py, the peers' venv: bench/bench_pinn.sh installs it). Prints the median step
// times and the ratios PyTorch / tessera and DeepXDE / tessera in one table.
//   usage: bench_pinn [--quick] [--threads N] [--reps N] [--python PATH] [--deepxde-python PATH]
//                     [--only PROBLEM:FORM:DTYPE]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_paths.hpp"
#include "bench/cli.hpp"
#include "bench/machine.hpp"
#include "bench/timing.hpp"
#include "core/malloc_policy.hpp"
#include "train/pinn/learner.hpp"

using namespace tessera;
using namespace tessera::train::pinn;

namespace {

// Runs a peer's script (bench/<script> <args>, printing "<tag> <form> <dtype> <ms>") and returns its
// median ms per step (< 0 when it failed).
double peer_ms(const std::string& python, const std::string& script, const std::string& tag_expected,
               const std::string& args) {
  // The script runs under the malloc policy of core::retain_freed_memory (glibc tunables), as tessera.
  const std::string cmd = std::string("GLIBC_TUNABLES=") + core::kRetainFreedMemoryTunables + " " + python + " " +
                          bench::bench_dir() + "/" + script + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int rc = pclose(p);
  std::istringstream is(out);
  std::string line, tag, f, d;
  double ms = -1;
  while (std::getline(is, line)) {
    std::istringstream ls(line);
    if (ls >> tag >> f >> d >> ms && tag == tag_expected) return rc == 0 ? ms : -1;
  }
  std::fprintf(stderr, "bench_pinn: %s failed (%s):\n%s\n", script.c_str(), cmd.c_str(), out.c_str());
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string only;
  int threads = 1, reps = 20;
  std::string python = TESSERA_BENCH_PYTHON, deepxde_python = bench::peer_venv_python();
  // The rows of the table below, for --only.
  std::vector<std::string> rows;
  for (const std::string problem : {"advection", "burgers"})
    for (const std::string form : {"pinn", "lpinn"})
      for (const std::string dtype : {"fp32", "fp64"}) rows.push_back(problem + ":" + form + ":" + dtype);
  CLI::App cli(
      "a PINN / LPINN training step in tessera (Taylor-mode and autograd jets) against PyTorch (bench/pinn_torch.py)",
      "bench_pinn");
  cli.option_defaults()->always_capture_default();
  cli.add_flag("--quick", quick, "a 64 x 20 grid, 3 steps (smoke test)");
  cli.add_option("--threads", threads, "CPU threads, tessera and PyTorch")->check(bench::positive<int>());
  cli.add_option("--reps", reps, "timed steps; the median is shown")->check(bench::positive<int>());
  cli.add_option("--python", python, "the Python that runs bench/pinn_torch.py");
  // Repeatable, the last one wins: bench/bench_pinn.sh passes its venv's first, then the user's options.
  cli.add_option("--deepxde-python", deepxde_python,
                 "the Python that has DeepXDE (bench/bench_pinn.sh installs it); none: no DeepXDE column")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cli.add_option("--only", only, "one row, PROBLEM:FORM:DTYPE, e.g. advection:lpinn:fp32")->check(CLI::IsMember(rows));
  if (const auto rc = bench::parse(cli, argc, argv)) return *rc;
  if (quick) reps = 3;
  const int64_t nx = quick ? 64 : 256, nt = quick ? 20 : 100;
  at::set_num_threads(threads);
  std::printf(
      "PINN training step (forward + loss + backward + Adam), %lld x %lld points, tanh MLP 50 x 5, %d "
      "thread(s), median of %d steps\n",
      static_cast<long long>(nx), static_cast<long long>(nt), threads, reps);
  std::printf("machine: %s\n", bench::machine_description().c_str());
  std::printf("%-9s %-6s %-5s %14s %14s %14s %10s %10s %14s %10s\n", "problem", "form", "dtype", "tessera-taylor",
              "tessera-autog", "pytorch", "torch/tay", "torch/aut", "deepxde", "dxde/tay");
  // Advection (c = 20) needs no u_xx (and the LPINN no u_x): the jet carries 3 (2) channels.
  // Burgers (nu = 0.01, C = 0) needs all four.
  for (const std::string problem : {"advection", "burgers"})
    for (const std::string form : {"pinn", "lpinn"})
      for (const std::string dtype : {"fp32", "fp64"}) {
        if (!only.empty() && only != problem + ":" + form + ":" + dtype) continue;
        double ms[2];
        for (int taylor = 1; taylor >= 0; --taylor) {
          PinnOptions o;
          o.formulation = form == "pinn" ? Formulation::Eulerian : Formulation::Lagrangian;
          o.problem =
              problem == "burgers" ? physics::Problem1D::burgers(0.01, 0.0) : physics::Problem1D::advection(20.0);
          o.nx = nx;
          o.nt = nt;
          o.fp64 = dtype == "fp64";
          o.taylor = taylor == 1;
          o.separate_branches = false;  // one MLP with both outputs, as pinn_torch.py (and the authors' code)
          o.adam_steps = 1 << 30;
          PinnLearner l(o, nullptr);
          ms[1 - taylor] = bench::median_ms([&] { l.step(); }, reps, 3);
        }
        // The same step in each peer: same threads, steps, dtype, problem and grid.
        const std::string args = "--threads " + std::to_string(threads) + " --reps " + std::to_string(reps) +
                                 " --dtype " + dtype + " --problem " + problem + " --nx " + std::to_string(nx) +
                                 " --nt " + std::to_string(nt);
        const double t = peer_ms(python, "pinn_torch.py", "torch", args + " --formulation " + form);
        // DeepXDE: the Eulerian PINN only (it has no Lagrangian form).
        const double dx = form == "pinn" && deepxde_python != "none"
                              ? peer_ms(deepxde_python, "pinn_deepxde.py", "deepxde", args)
                              : -1;
        char dx_cols[64] = "             -          -";
        if (dx > 0) std::snprintf(dx_cols, sizeof dx_cols, "%11.3f ms %9.2fx", dx, dx / ms[0]);
        std::printf("%-9s %-6s %-5s %11.3f ms %11.3f ms %11.3f ms %9.2fx %9.2fx %s\n", problem.c_str(), form.c_str(),
                    dtype.c_str(), ms[0], ms[1], t, t > 0 ? t / ms[0] : 0.0, t > 0 ? t / ms[1] : 0.0, dx_cols);
        std::fflush(stdout);
      }
  return 0;
}
