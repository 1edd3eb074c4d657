// Evaluation of a graph classifier's fold checkpoint (spen, ign, gin) by tessera-rollout: the
// class it predicts for each graph of its fold's test set, of its whole training dataset, or of
// another TU dataset with the same label sets; the accuracy, and a CSV of the predictions.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/comm.hpp"

namespace spdlog {
class logger;
}
namespace tessera::io {
class Deck;
class Schema;
}  // namespace tessera::io

namespace tessera::train::spen {

struct GraphEvaluationOptions {
  std::string checkpoint;      // rollout.checkpoint: a fold_<k>/checkpoint.h5 of tessera-train
  std::string tu_dir;          // graphs.tu_dir: another TU dataset; empty: the checkpoint's training data
  std::string which = "test";  // graphs.which: test (the fold's test graphs) or all
  bool steps_given = false;    // rollout.steps set in the deck (not read: a classification has no steps)
  std::string device = "cpu";  // rollout.device: the graph classifiers run on the CPU only
  std::string output_dir, name;
};

void add_graph_evaluation_keys(io::Schema& schema);
GraphEvaluationOptions read_graph_evaluation_options(const io::Deck& deck);

// Rank 0 classifies (the others wait: the graphs are few and small); writes
// <output_dir>/<name>_predictions.csv and logs the accuracy. Returns the accuracy.
double run_graph_evaluation(const GraphEvaluationOptions& options, const Comm& comm,
                            const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::train::spen
