// The graph-classification families: spen (SPEN on k-hop ego-networks), ign (the global 2-IGN:
// one subgraph, the whole graph) and gin (the 1-WL-bounded baseline), one pipeline
// (docs/spen.md). Training is stratified k-fold cross-validation: Family::train runs the shared
// loop once per fold and writes <output.dir>/folds.csv and summary.csv.
#pragma once
#include <memory>
#include <vector>

#include "core/comm.hpp"
#include "train/family.hpp"
#include "train/spen/options.hpp"

namespace tessera::train::spen {

struct CrossValidationResult {
  std::vector<double> fold_accuracy;
  double mean = 0, std = 0;  // population standard deviation over folds
};

// Runs the folds (options.run_folds of them, or all), resuming from options.resume.
CrossValidationResult cross_validate(const GraphClassifierOptions& options, const Comm& comm,
                                     const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::train::spen

namespace tessera::train {
// The graph classifiers: SPEN, the global 2-IGN and the GIN baseline (one pipeline, one deck
// section).
Family spen_family();
Family ign_family();
Family gin_family();
}  // namespace tessera::train
