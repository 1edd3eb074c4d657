// tessera-cfd deck.yaml: the PETSc ground-truth Navier–Stokes solver. job: case runs one flow
// (e.g. the DFG cylinder benchmarks, decks/dfg-2d1.yaml, decks/dfg-2d2.yaml) with forces and
// fields for ParaView; job: dataset generates randomized CylinderFlow-style training data.
// PETSc options on the command line (e.g. -ksp_type gmres) pass through to the solver.
#include <spdlog/spdlog.h>

#include "apps/app.hpp"
#include "io/mesh_deck.hpp"
#include "solvers/cfd_case.hpp"
#include "solvers/flow_dataset.hpp"
#include "solvers/petsc_session.hpp"

using namespace tessera;

static void schema(io::Schema& s) {
  io::add_mesh_keys(s);
  solvers::add_case_keys(s);
  solvers::add_dataset_keys(s);
}

static void run(apps::Context& ctx) {
  const io::Deck& d = ctx.deck;
  solvers::PetscSession petsc(d.has("solver.petsc_options") ? d.get_string("solver.petsc_options") : "", ctx.passthrough);
  if (d.get_string("job") == "dataset") {
    auto sum = solvers::generate_dataset(d, ctx.comm, ctx.log);
    ctx.log->info("dataset {}: {} trajectories generated ({:.1f} s each), {} reused from an earlier run",
                  d.get_string("dataset.dir"), sum.generated, sum.seconds_per_trajectory, sum.reused);
    return;
  }
  const mesh::Mesh m = io::mesh_from_deck(d);
  ctx.log->info("mesh: {} nodes, {} triangles", m.num_nodes(), m.num_cells());
  solvers::run_case(d, m, ctx.comm, ctx.log);
}

int main(int argc, char** argv) {
  return apps::run_app(argc, argv,
                       {"tessera-cfd", "Incompressible Navier-Stokes (Taylor-Hood P2/P1, PETSc): flow cases and datasets", schema, run, true});
}
