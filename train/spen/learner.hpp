// One fold of graph classification as a Learner of the shared loop: epochs of shuffled batches
// (data-parallel over ranks: graph b of a batch is computed by rank b mod size; gradients summed
// by one all-reduce, so np = N equals np = 1 up to summation order), AdamW with StepLR by epoch,
// dropout masks drawn for the whole batch from a generator seeded by (seed, fold, step), and the
// test accuracy after every epoch. Checkpoints hold model, AdamW moments, the step, the fold's
// accuracy history and the accuracies of the folds before it, so a resumed run equals an
// uninterrupted one bit for bit.
#pragma once
#include <memory>
#include <vector>

#include "core/comm.hpp"
#include "train/checkpoint.hpp"
#include "train/loop.hpp"
#include "train/spen/data.hpp"

namespace spdlog {
class logger;
}
namespace torch::optim {
class AdamW;
class StepLR;
}  // namespace torch::optim

namespace tessera::train::spen {

std::shared_ptr<gnn::GraphClassifier> make_model(const GraphClassifierOptions& options, const PreparedData& data);

// The predicted class of each row of `logits` [G, classes]: the lowest class within round-off of
// the row's maximum, so graphs the model cannot tell apart get one prediction whatever their node
// order.
at::Tensor predicted_classes(const at::Tensor& logits);

// What decides a fold's split, model and training, by the deck key that sets each (the data by
// name and fingerprint): stored in fold checkpoints, compared by a resume and an evaluation.
RunSetup fold_setup(const GraphClassifierOptions& options, const PreparedData& data);

// Copies a fold checkpoint's model.* tensors into `model`, refusing (at deck key `key`) a
// checkpoint of another architecture by what differs.
void load_parameters(const Checkpoint& c, const std::string& path, gnn::GraphClassifier& model, const std::string& key);

class FoldLearner : public Learner {
 public:
  // `previous`: accuracies of the folds before `fold` (stored in checkpoints). Resumes from
  // `resume` when not empty (which then also supplies `previous`).
  FoldLearner(const GraphClassifierOptions& options, const PreparedData& data, int64_t fold, std::vector<int64_t> train,
              std::vector<int64_t> test, std::vector<double> previous, std::shared_ptr<spdlog::logger> log,
              const Comm& comm, const std::string& resume = "");
  ~FoldLearner() override;
  double step() override;
  int64_t steps_done() const override { return step_; }
  // After each epoch: train loss, train/test accuracy and loss (collective; rank 0 returns them).
  std::vector<Metric> validate() override;
  void save(const std::string& path) const override;
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  int64_t total_steps() const { return steps_per_epoch_ * options_.epochs; }
  // Mean test accuracy over the last options.last_epochs epochs validated.
  double fold_accuracy() const;
  const std::vector<double>& test_history() const { return test_acc_; }
  const std::vector<double>& previous_folds() const { return previous_; }
  // {accuracy, mean cross-entropy} of `graphs` (collective); ties within round-off go to the
  // lowest class.
  std::pair<double, double> evaluate(const std::vector<int64_t>& graphs);
  gnn::GraphClassifier& model() { return *model_; }

 private:
  void load(const std::string& path);

  GraphClassifierOptions options_;
  const PreparedData& data_;
  int64_t fold_;
  std::vector<int64_t> train_, test_;
  std::vector<double> previous_;
  std::shared_ptr<spdlog::logger> log_;
  Comm comm_;
  std::shared_ptr<gnn::GraphClassifier> model_;
  std::unique_ptr<torch::optim::AdamW> opt_;
  std::unique_ptr<torch::optim::StepLR> sched_;
  at::ScalarType dtype_ = at::kDouble;
  int64_t step_ = 0, steps_per_epoch_ = 1;
  double epoch_loss_ = 0;  // sum of step losses in the current epoch
  std::vector<double> test_acc_;
};

}  // namespace tessera::train::spen
