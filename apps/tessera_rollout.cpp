// tessera-rollout deck.yaml: evaluates a checkpoint through its family's entry in the registry
// (train/families/families.hpp). For the mesh simulators: an autoregressive rollout on a dataset trajectory
// (boundary nodes imposed every step) or on a mesh with an initial condition, written for
// ParaView (XDMF, optional VTU + PVD) with RMSE metrics as CSV; partitioned under mpirun.
//
//   build/apps/tessera-rollout decks/rollout.yaml
//   mpirun -np 2 build/apps/tessera-rollout decks/rollout.yaml --set rollout.steps=50
#include "apps/app.hpp"
#include "train/families/families.hpp"

using namespace tessera;

static void run(apps::Context& ctx) {
  // 1. The deck was read and checked (run_app).
  // 2. The checkpoint's family attribute selects the registered family.
  // 3. That family's evaluation job reads its options and runs.
  train::evaluate_from_deck(ctx.deck, {ctx.comm, ctx.log});
}

int main(int argc, char** argv) {
  apps::AppSpec spec{"tessera-rollout",
                     "Roll a trained model out on a trajectory and write ParaView files",
                     train::add_evaluation_deck_keys,
                     run,
                     false,
                     "docs/decks.md",
                     apps::named_outputs};
  spec.idle_keys = [](const io::Deck& d) { return train::other_evaluation_keys(d); };  // by the checkpoint's family
  return apps::run_app(argc, argv, spec);
}
