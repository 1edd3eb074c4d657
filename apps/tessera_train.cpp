// tessera-train deck.yaml: trains a model on a dataset, dispatching on model.family. The mesh
// simulators (transformer, meshgraphnet) train on graph-physics datasets; later families plug
// in here with their own trainers, sharing the deck frame and the checkpoint format.
#include "apps/app.hpp"
#include "io/log.hpp"
#include "mesh/error.hpp"
#include "train/trainer.hpp"

using namespace tessera;

static void run(apps::Context& ctx) {
  const std::string family = ctx.deck.get_string("model.family");
  if (family == "transformer" || family == "meshgraphnet") {
    train::Trainer trainer(ctx.deck, ctx.log, ctx.comm);  // graph-parallel under mpirun
    trainer.run();
    return;
  }
  ctx.deck.fail("model.family", cat("family '", family, "' has no trainer"));
}

int main(int argc, char** argv) {
  return apps::run_app(argc, argv,
                       {"tessera-train", "Train a mesh simulator (graph transformer or MeshGraphNet) on a dataset",
                        train::add_training_deck_keys, run});
}
