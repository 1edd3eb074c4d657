// tessera-train deck.yaml: trains a model of the family the deck names (model.family), through
// the family registry (train/families/families.hpp) and the shared training loop (train/loop.hpp):
// checkpoints with exact resume, periodic validation into metrics.csv, progress with ETA.
//
//   build/apps/tessera-train decks/train-transformer.yaml --set train.steps=200
//   mpirun -np 2 build/apps/tessera-train decks/train-transformer.yaml --set train.parallel=graph
#include "apps/app.hpp"
#include "train/families/families.hpp"

using namespace tessera;

static void run(apps::Context& ctx) {
  // 1. The deck was read and checked against the schema of every family (run_app).
  // 2. The family named by model.family reads its options, loads its data and builds its
  //    model and optimiser (resuming from train.resume when set).
  // 3. The shared loop trains, validates and checkpoints until train.steps.
  train::train_from_deck(ctx.deck, {ctx.comm, ctx.log});
}

int main(int argc, char** argv) {
  return apps::run_app(argc, argv,
                       {"tessera-train", "Train a model of any registered family (model.family) on its dataset",
                        train::add_training_deck_keys, run, false, "docs/decks.md", apps::training_outputs});
}
