// Options of the graph-classification families spen, ign (global 2-IGN) and gin (1-WL baseline)
// (docs/references.md §7, docs/spen.md). They share every key of the `spen` deck section, so one
// deck serves all three (--set model.family=gin); keys a family does not use are ignored by it.
#pragma once
#include <cstdint>
#include <string>

namespace tessera::io {
class Deck;
class Schema;
}  // namespace tessera::io

namespace tessera::train::spen {

struct GraphClassifierOptions {
  std::string family = "spen";  // spen, ign or gin
  // Data.
  std::string source = "tu";  // tu or csl
  std::string tu_dir;         // TU dataset folder (source tu)
  int64_t csl_per_class = 15;
  int64_t csl_seed = 0;
  bool constant_features = false;  // ignore node/edge labels (CSL, SR25: always)
  int64_t folds = 10;              // stratified k-fold; 1: train and evaluate on all graphs
  int64_t run_folds = 0;           // run only the first folds; 0: all
  // Model.
  int64_t hops = 1;  // ego-network depth (spen)
  int64_t channels = 32, layers = 3;
  int64_t rare_threshold = 10;  // subgraph sizes with fewer subgraphs in the data share one weight set
  // Training.
  int64_t epochs = 50, batch = 32;
  double lr = 1e-3, weight_decay = 1e-2;
  int64_t lr_step = 30;
  double lr_gamma = 0.1, dropout = 0.5;
  int64_t last_epochs = 10;      // a fold's accuracy: mean test accuracy over its last epochs
  int64_t threads = 1;           // torch intra-op threads; 0: torch's default
  bool fp64 = true;              // spen.train.precision: compute in float64 (else float32)
  int64_t seed = 0;              // train.seed: folds, initialisation, batches, dropout
  int64_t checkpoint_every = 0;  // train.checkpoint_every (steps)
  std::string resume;            // train.resume: a fold checkpoint
  std::string output_dir = "out/spen";
  std::string deck_yaml;  // the resolved deck, stored in checkpoints
  std::string deck_dir;   // the deck's folder, stored beside it in checkpoints (for its relative paths)
};

// The keys of `family` (spen, ign or gin), added inside its Schema::family scope.
void add_keys(io::Schema& schema, const std::string& family);
// Reads them once, with the shared keys train.seed, train.checkpoint_every, train.resume and
// output.dir, and checks cross-key rules.
// `training`: also the output folder and its fold checkpoints (a fresh start refuses to replace
// them); false for a deck stored in a checkpoint, read to rebuild its model and data.
GraphClassifierOptions read_options(const io::Deck& deck, bool training = true);

}  // namespace tessera::train::spen
