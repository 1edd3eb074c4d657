// The model-family registry: the one list of every family tessera-train and tessera-rollout
// serve. It sits above every family's library (train/<family>/). Adding a family is one line in
// families() (train/families/families.cpp) and its library in train/families/CMakeLists.txt (docs/design.md, "Adding a
// model family").
#pragma once
#include <vector>

#include "train/family.hpp"

namespace tessera::train {

// Every registered family, in registration order (the first is model.family's default).
const std::vector<Family>& families();

// tessera-train's deck and job.
void add_training_deck_keys(io::Schema& schema);
void train_from_deck(const io::Deck& deck, const RunContext& context);
// tessera-rollout's deck and job.
void add_evaluation_deck_keys(io::Schema& schema);
void evaluate_from_deck(const io::Deck& deck, const RunContext& context);
// The keys of tessera-rollout's deck that the checkpoint's family does not read (printed deck).
std::vector<std::string> other_evaluation_keys(const io::Deck& deck);

}  // namespace tessera::train
