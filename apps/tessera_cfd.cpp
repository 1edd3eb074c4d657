// tessera-cfd deck.yaml: the PETSc ground-truth Navier–Stokes solver. job: case runs one flow
// (e.g. the DFG cylinder benchmarks, decks/dfg-2d1.yaml, decks/dfg-2d2.yaml) with forces and
// fields for ParaView; job: dataset generates randomized CylinderFlow-style training data.
// PETSc options on the command line (e.g. -ksp_type gmres) pass through to the solver.
//
//   mpirun -np 2 build/apps/tessera-cfd decks/dfg-2d1.yaml
//   mpirun -np 2 build/apps/tessera-cfd decks/cylinder-flow.yaml --set dataset.max_new=10
#include <spdlog/spdlog.h>

#include "apps/app.hpp"
#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/on_root.hpp"
#include "io/mesh_deck.hpp"
#include "jobs/cfd_case.hpp"
#include "jobs/cfd_options.hpp"
#include "jobs/flow_dataset.hpp"
#include "solvers/petsc_session.hpp"

using namespace tessera;

static void schema(io::Schema& s) {
  io::add_mesh_keys(s);
  jobs::add_case_keys(s);
  jobs::add_dataset_keys(s);
  // Keys a job does not read: a deck that sets them gets a warning (run_app). job: dataset draws
  // the cylinder and inflow per trajectory and runs transient; job: case makes no dataset.
  for (const char* k :
       {"mesh.source", "mesh.file", "mesh.max_nodes", "mesh.groups", "forces", "steady", "analysis.start"})
    s.read_only_when(k, {{"job", {"case"}}});
  for (const char* k : {"mesh.cylinder.center", "mesh.cylinder.radius", "flow.inflow.speed"})
    s.read_only_when(k, {{"job", {"case"}}},
                     "job: dataset draws the cylinder and inflow per trajectory from dataset.ranges");
  for (const char* k : {"time.mode", "time.initial", "time.restart_file", "time.dt", "time.end"})
    s.read_only_when(k, {{"job", {"case"}}},
                     "job: dataset runs dataset.spinup, then dataset.steps steps of dataset.dt");
  s.read_only_when("output", {{"job", {"case"}}}, "job: dataset writes to dataset.dir");
  s.read_only_when("dataset", {{"job", {"dataset"}}});
  for (const char* k : {"mesh.cylinder.length", "mesh.cylinder.height", "mesh.cylinder.h_near", "mesh.cylinder.h_far",
                        "mesh.cylinder.transition"})
    s.read_only_when(k, {{"mesh.source", {"cylinder"}}, {"job", {"dataset"}}});
  for (const char* k : {"mesh.cylinder.center", "mesh.cylinder.radius"})
    s.read_only_when(k, {{"mesh.source", {"cylinder"}}});
  s.read_only_when("mesh.file", {{"mesh.source", {"geo", "msh"}}});
  s.read_only_when("mesh.max_nodes", {{"mesh.source", {"cylinder", "geo"}}}, "a .msh file is read as it is");
  for (const char* k : {"time.initial", "time.restart_file", "time.dt", "time.end", "analysis.start", "output.every",
                        "output.restart_every"})
    s.read_only_when(k, {{"time.mode", {"transient"}}});
  s.read_only_when("time.restart_file", {{"time.initial", {"restart"}}});
  s.read_only_when("time.max_cfl", {{"time.mode", {"transient"}}, {"job", {"dataset"}}});
  // solver.refactor_every is read by steady runs too: 1 makes the solve direct (preonly), more
  // GMRES on the factors, fresh at every Picard iteration there (it was called idle; a review
  // found that 1 changed the steady run, 22 Picard iterations instead of 17).
  s.read_only_when("steady", {{"time.mode", {"steady"}}, {"time.initial", {"steady"}}});
}

// job: dataset. The trajectories build their own meshes from mesh.cylinder.*.
static void run_dataset(apps::Context& ctx) {
  // 3. Read the dataset options (this checks every trajectory's draw against the channel).
  jobs::DatasetOptions options = jobs::dataset_options(ctx.deck);
  for (const std::string& x : ctx.passthrough) options.petsc_options += (options.petsc_options.empty() ? "" : " ") + x;
  // 4. Generate, resuming from the parts of an earlier run.
  const jobs::DatasetSummary sum = jobs::generate_dataset(options, ctx.comm, ctx.log);
  ctx.log->info("dataset {}: {} generated{}, {} reused from an earlier run", options.dir,
                core::counted(sum.generated, "trajectory", "trajectories"),
                sum.generated > 0 ? fmt::format(" ({:.1f} s each)", sum.seconds_per_trajectory) : "", sum.reused);
}

// job: case.
static void run_case(apps::Context& ctx) {
  // 3. Read the case options (their output folder checked before any work). Every rank reads a
  //    restart file itself: one rank's failure (a path its node cannot see) is every rank's error.
  jobs::CaseOptions options;
  run_on_every_rank(ctx.comm, [&] { options = jobs::case_options(ctx.deck); });
  // 4. Build the mesh.
  mesh::Mesh m;  // every rank builds or reads it: one rank's failure is every rank's error
  run_on_every_rank(ctx.comm, [&] { m = io::mesh_from_deck(ctx.deck); });
  ctx.log->info("mesh: {} nodes, {} {} cells", m.num_nodes(), m.num_cells(), mesh::cell_type_name(m.cell_type));
  // 5. Run it; an error about a setting (the mesh, forces.group, forces.pressure_points) carries
  //    its key, and run_app reports it at its line in the deck.
  jobs::run_case(options, m, ctx.comm, ctx.log);
}

static void run(apps::Context& ctx) {
  // 1. Read which job the deck asks for.
  const jobs::JobOptions job = jobs::job_options(ctx.deck);
  // 2. Start PETSc: the deck's options first, then the command line's, which win.
  solvers::PetscSession petsc(job.petsc_options, ctx.passthrough);
  if (job.kind == jobs::JobOptions::Kind::Dataset)
    run_dataset(ctx);
  else
    run_case(ctx);
}

int main(int argc, char** argv) {
  return apps::run_app(
      argc, argv,
      {"tessera-cfd", "Incompressible Navier-Stokes (Taylor-Hood P2/P1, PETSc): flow cases and datasets", schema, run,
       true, "docs/decks.md", [](const io::Deck& d) {
         return d.get_string("job") != "dataset"
                    ? apps::named_outputs(d)
                    : std::vector<apps::OutputClaim>{
                          {"dataset.dir", "dataset", "", {"train.", "valid.", "test.", "meta.json", "trajectories."}}};
       }});
}
