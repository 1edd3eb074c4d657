// Stratified k-fold cross-validation of a graph classifier (spen, ign, gin; docs/spen.md): the
// shared training loop runs once per fold, each fold checkpointed in <output_dir>/fold_<f>, and
// the folds' test accuracies go to <output_dir>/folds.csv and summary.csv.
#pragma once
#include <memory>
#include <vector>

#include "core/comm.hpp"
#include "train/spen/options.hpp"

namespace spdlog {
class logger;
}

namespace tessera::train::spen {

struct CrossValidationResult {
  std::vector<double> fold_accuracy;
  double mean = 0, std = 0;  // population standard deviation over folds
};

// Runs the folds (options.run_folds of them, or all), resuming from options.resume.
CrossValidationResult cross_validate(const GraphClassifierOptions& options, const Comm& comm,
                                     const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::train::spen
