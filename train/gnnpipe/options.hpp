// The gnnpipe family's deck: dataset (Cora-layout HDF5 or a generated CSBM graph), model
// (GCN, GraphSAGE, GCNII, ResGCN+ at any depth), optimiser and the training mode under mpirun
// (graph, pipeline, hybrid). Read once here; library code takes the typed structs.
#pragma once
#include <cstdint>
#include <string>

#include "io/csbm.hpp"
#include "train/gnnpipe/engine.hpp"

namespace tessera::io {
class Deck;
class Schema;
}  // namespace tessera::io

namespace tessera::train::gnnpipe {

struct GnnPipeOptions {
  std::string source = "planetoid";  // planetoid | csbm
  std::string file;                  // planetoid: the HDF5 file (resolved)
  io::CsbmOptions csbm;
  bool normalize_features = true;  // rows of x scaled to sum 1 (GCNII's Cora preprocessing)
  std::string mode = "graph";      // graph | pipeline | hybrid
  int hybrid_stages = 2;           // hybrid: stages (parts = ranks / stages)
  EngineOptions engine;            // model and engine settings; stages are set from mode and ranks
  int threads = 1;
  int64_t patience = 0;  // early stopping: epochs without a lower validation loss; 0: never
  std::string resume;    // checkpoint to resume from, or empty
  std::string deck_yaml;
  std::string deck_dir;  // the deck's folder, stored beside it in checkpoints (for its relative paths)
};

void add_keys(io::Schema& schema);
GnnPipeOptions read_options(const io::Deck& deck);
// The number of stages for `ranks` processes; Error keyed at the offending setting.
int stages_for(const GnnPipeOptions& options, int ranks);

}  // namespace tessera::train::gnnpipe
