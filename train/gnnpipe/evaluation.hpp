// Evaluation of a GNNPipe checkpoint by tessera-rollout: the class its model predicts for every
// node of the graph it was trained on (exact full-graph inference, one process), the accuracy on
// the training, validation and test nodes, and a CSV of the predictions.
#pragma once
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

namespace tessera::train::gnnpipe {

struct NodeEvaluationOptions {
  std::string checkpoint;            // rollout.checkpoint: <output.dir>/checkpoint.h5 of tessera-train
  std::string weights = "selected";  // nodes.weights: selected (lowest validation loss) or last
  std::string device = "cpu";        // rollout.device: GNNPipe runs on the CPU only
  bool steps_given = false;          // rollout.steps set (not read: a classification has no steps)
  std::string output_dir, name;
};

void add_node_evaluation_keys(io::Schema& schema);
NodeEvaluationOptions read_node_evaluation_options(const io::Deck& deck);

struct NodeEvaluation {
  double train_acc = 0, val_acc = 0, test_acc = 0, val_loss = 0;  // val_loss: mean cross-entropy
};

// Rank 0 classifies (one process holds a Planetoid graph whole; the others wait); writes
// <output_dir>/<name>_predictions.csv and logs the accuracies. Returns them on every rank.
NodeEvaluation run_node_evaluation(const NodeEvaluationOptions& options, const Comm& comm,
                                   const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::train::gnnpipe
