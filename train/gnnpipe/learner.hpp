// The gnnpipe Learner: step() is one epoch (every chunk forward and backward, one synchronous
// Adam step), validate() the exact full-graph evaluation with the model selection of early
// stopping (the test accuracy at the lowest validation loss so far, whose weights it keeps), the
// epoch time and the bytes every rank handed to MPI in the last epoch.
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "train/gnnpipe/options.hpp"
#include "train/loop.hpp"

namespace spdlog {
class logger;
}

namespace tessera::train::gnnpipe {

// The graph the options name: a Planetoid file (rows normalised when asked) or a generated CSBM.
io::NodeDataset load_node_data(const GnnPipeOptions& options);
// What a checkpoint stores as its `data` attribute: the graph's name and sizes and, for a generated
// one, the generator's settings (a resume or an evaluation on another graph is refused).
std::string data_identity(const GnnPipeOptions& options, const io::NodeDataset& data);

// The prefix of the selected model's parameters in a checkpoint (the lowest validation loss).
inline constexpr const char* kSelected = "selected.";

class GnnPipeLearner : public Learner {
 public:
  GnnPipeLearner(const GnnPipeOptions& options, const Comm& comm, std::shared_ptr<spdlog::logger> log = nullptr);
  double step() override;
  int64_t steps_done() const override;
  std::vector<Metric> validate() override;
  std::string stop_reason() const override;
  void save(const std::string& path) const override;
  const Engine& engine() const { return *engine_; }

 private:
  GnnPipeOptions options_;
  Comm comm_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<Engine> engine_;
  std::string data_identity_;     // what a checkpoint must have been trained on (data_identity)
  std::string data_fingerprint_;  // and its contents (io::node_dataset_fingerprint)
  double best_val_loss_ = 1e300, best_val_acc_ = 0, test_at_best_ = 0;
  int64_t best_epoch_ = 0;  // epoch of the lowest validation loss
  // The parameters at that epoch (the selected model), by name; in checkpoints as
  // "selected.<name>" and, for PyTorch, selected.pt beside them. Empty until the first validation
  // (or after a resume from a checkpoint written before they were stored).
  std::map<std::string, at::Tensor> selected_;
  double seconds_ = 0;
  int64_t timed_epochs_ = 0;
};

}  // namespace tessera::train::gnnpipe
