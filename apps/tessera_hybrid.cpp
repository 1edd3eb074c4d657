// tessera-hybrid deck.yaml: a trained mesh simulator and the PETSc Navier-Stokes solver rolled
// out together on a dataset trajectory: K surrogate steps, then M solver steps from the
// surrogate's state (or the solver whenever the surrogate's divergence indicator exceeds a
// threshold), repeated; written like tessera-rollout (XDMF, PNG, RMSE CSV) with the solver's
// share of the steps and the wall times against the solver alone (docs/hybrid.md).
// PETSc options on the command line (e.g. -ksp_type gmres) pass through to the solver.
//
//   build/apps/tessera-hybrid decks/hybrid.yaml
//   mpirun -np 2 build/apps/tessera-hybrid decks/hybrid.yaml --set hybrid.trigger=divergence
#include "apps/app.hpp"
#include "solvers/petsc_session.hpp"
#include "train/hybrid/job.hpp"
#include "train/hybrid/options.hpp"

using namespace tessera;

static void run(apps::Context& ctx) {
  // 1. Read the options (the schedule is checked here, at its deck lines).
  const train::hybrid::HybridOptions options = train::hybrid::hybrid_options(ctx.deck);
  // 2. Start PETSc: the deck's options first, then the command line's, which win.
  solvers::PetscSession petsc(options.solver.petsc_options, ctx.passthrough);
  // 3. Load the model and the trajectory, rebuild the solver with the data's fluid, roll out
  //    (and the solver alone), write the files.
  train::hybrid::run_hybrid(options, ctx.comm, ctx.log);
}

int main(int argc, char** argv) {
  return apps::run_app(argc, argv,
                       {"tessera-hybrid", "Surrogate and PETSc solver rolled out together: error against cost",
                        train::hybrid::add_hybrid_keys, run, true, "docs/hybrid.md", apps::named_outputs});
}
