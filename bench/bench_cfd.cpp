// Benchmark: the Navier-Stokes solver (Taylor-Hood P2/P1, BDF2, MUMPS LU refreshed every 5
// steps with GMRES in between) on DFG 2D-2 (Re = 100) at two mesh sizes: time per step, linear
// iterations per step and unknowns, on rank 0 alone (the baseline, measured in the same run)
// and on all ranks of mpiexec; then the time to generate one CylinderFlow trajectory (about 2k
// nodes, 100 spin-up + 600 stored steps of dt = 0.01, vertex fields copied out every step).
// Then, on rank 0, the linear solver choices of docs/solvers.md on the CylinderFlow mesh: MUMPS,
// SuperLU and UMFPACK, and the factors refreshed every 1, 5 or 10 steps.
//   mpiexec -n 2 bench_cfd [--steps N] [--quick]
#include <petscsys.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/cli.hpp"
#include "bench/cylinder_mesh.hpp"
#include "bench/machine.hpp"
#include "bench/solver_timing.hpp"
#include "bench/timing.hpp"
#include "solvers/navier_stokes.hpp"
#include "solvers/petsc_session.hpp"

using namespace tessera;

namespace {

// `steps` timed steps with the forces on the cylinder taken after each, as tessera-cfd does.
bench::SolverTiming run_steps(const mesh::Mesh& m, double peak, double dt, int steps, const Comm& comm) {
  solvers::FlowConfig f;
  f.inflow_speed = peak;
  f.force_group = "cylinder";
  return bench::time_solver_steps(m, f, dt, steps, comm, [](solvers::NavierStokes& ns) { ns.forces(); });
}

}  // namespace

int main(int argc, char** argv) {
#if TESSERA_HAVE_MPI
  MPI_Init(&argc, &argv);
#endif
  int steps = 50;
  bool quick = false;
  CLI::App cli("the Navier-Stokes solver on DFG 2D-2, rank 0 alone and all ranks; a CylinderFlow trajectory",
               "bench_cfd");
  cli.option_defaults()->always_capture_default();
  cli.add_option("--steps", steps, "timed steps per mesh")->check(bench::positive<int>());
  cli.add_flag("--quick", quick, "one coarse mesh, 5 timed steps, a short trajectory (smoke test)");
  if (const auto rc = bench::parse(cli, argc, argv, Comm().root())) {
#if TESSERA_HAVE_MPI
    MPI_Finalize();
#endif
    return *rc;
  }
  if (quick) steps = 5;
  {
    Comm world;
    solvers::PetscSession petsc;
    const bool root = world.root();
    if (root) {
      std::printf(
          "DFG 2D-2 (Re 100, dt 0.005), %d timed steps after 10 warm-up steps; baseline: np=1 in the same run\n\n",
          steps);
      std::printf("machine: %s\n", bench::machine_description().c_str());
      std::printf("%-22s %7s %9s %4s %11s %13s %9s\n", "mesh (h_near/h_far)", "cells", "unknowns", "np", "ms/step",
                  "lin. its/step", "speed-up");
    }
    std::vector<std::pair<double, double>> sizes = {{0.01, 0.04}, {0.005, 0.03}};
    if (quick) sizes = {{0.04, 0.08}};
    for (auto [hn, hf] : sizes) {
      const mesh::Mesh m = bench::cylinder_mesh(2.2, 0.2, 0.2, 0.05, hn, hf);
      bench::SolverTiming serial;
      if (root) serial = run_steps(m, 1.5, 0.005, steps, Comm::self());
      bench::sleeping_barrier(world);
      const std::string name = std::to_string(hn).substr(0, 5) + " / " + std::to_string(hf).substr(0, 4);
      if (root)
        std::printf("%-22s %7lld %9lld %4d %11.1f %13.2f %9s\n", name.c_str(), (long long)m.num_cells(),
                    (long long)serial.dofs, 1, serial.ms_per_step, serial.its_per_step, "1.00x");
      if (world.size() > 1) {
        bench::SolverTiming par = run_steps(m, 1.5, 0.005, steps, world);
        if (root)
          std::printf("%-22s %7lld %9lld %4d %11.1f %13.2f %8.2fx\n", name.c_str(), (long long)m.num_cells(),
                      (long long)par.dofs, world.size(), par.ms_per_step, par.its_per_step,
                      serial.ms_per_step / par.ms_per_step);
      }
    }
    // The linear solver choices of docs/solvers.md on the CylinderFlow mesh, rank 0 alone, in
    // one run: the LU package (PETSc's options database, as solver.petsc_options sets it) and how
    // often the factors are refreshed; ratios against the default (MUMPS, every 5 steps).
    if (root) {
      const mesh::Mesh m = quick ? bench::cylinder_mesh(1.6, 0.3, 0.2, 0.05, 0.04, 0.08)
                                 : bench::cylinder_mesh(1.6, 0.3, 0.2, 0.05, 0.01, 0.024);
      solvers::FlowConfig f;
      f.inflow_speed = 1.5;
      struct Choice {
        const char* package;
        int refactor_every;
      };
      const std::vector<Choice> choices = {{"mumps", 5}, {"mumps", 1}, {"mumps", 10}, {"superlu", 5}, {"umfpack", 5}};
      std::printf("\nlinear solvers, CylinderFlow mesh (%lld nodes), one rank, %d steps of dt 0.01 after 10:\n",
                  (long long)m.num_nodes(), steps);
      std::printf("%-10s %14s %11s %13s %12s\n", "LU", "refactor every", "ms/step", "lin. its/step", "vs default");
      double base = 0;
      for (const Choice& c : choices) {
        PetscOptionsSetValue(nullptr, "-pc_factor_mat_solver_type", c.package);
        std::string failed;
        bench::SolverTiming t;
        try {
          t = bench::time_solver_steps(
              m, f, 0.01, steps, Comm::self(), [](solvers::NavierStokes&) {}, 1, c.refactor_every);
        } catch (const std::exception& e) {
          failed = e.what();
        }
        PetscOptionsClearValue(nullptr, "-pc_factor_mat_solver_type");
        if (!failed.empty()) {
          std::printf("%-10s %14d %s\n", c.package, c.refactor_every, failed.c_str());
          continue;
        }
        if (base == 0) base = t.ms_per_step;
        std::printf("%-10s %14d %11.1f %13.2f %11.2fx\n", c.package, c.refactor_every, t.ms_per_step, t.its_per_step,
                    t.ms_per_step / base);
      }
      std::printf("vs default: ms/step / MUMPS refreshed every 5 steps' (> 1: slower than the default)\n");
    }
    // One CylinderFlow trajectory on one rank: Re 100 (centre (0.3, 0.2), radius 0.05, peak 1.5).
    if (root) {
      const mesh::Mesh m = bench::cylinder_mesh(1.6, 0.3, 0.2, 0.05, 0.01, 0.024);
      const int spin = quick ? 2 : 100, stored = quick ? 10 : 600;
      solvers::FlowConfig f;
      f.inflow_speed = 1.5;
      const auto t0 = std::chrono::steady_clock::now();
      solvers::NavierStokes ns(m, f, Comm::self(), {5, 1e-8});
      std::vector<float> frames;
      for (int k = 0; k < spin + stored; ++k) {
        ns.step(0.01);
        if (k >= spin)
          for (double v : ns.vertex_velocity()) frames.push_back(static_cast<float>(v));
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf(
          "\nCylinderFlow trajectory (one rank): %lld nodes, %lld cells, %d + %d steps: %.1f s (%.1f ms/step)\n",
          (long long)m.num_nodes(), (long long)m.num_cells(), spin, stored, s, 1000 * s / (spin + stored));
    }
    bench::sleeping_barrier(world);
  }
#if TESSERA_HAVE_MPI
  MPI_Finalize();
#endif
  return 0;
}
