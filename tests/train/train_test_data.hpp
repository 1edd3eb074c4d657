// What test_train's files share: the small synthetic dataset the program writes once (its folder
// is also the apps' tests' training data, fixture train_data) and a small training deck on it.
// Inline, so that the dataset is written once per program, not once per file.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "io/deck.hpp"
#include "tests/test_paths.hpp"
#include "tests/train_fixture.hpp"

namespace tessera::test {

inline const std::string& train_out() {
  static const std::string dir = test_out() + "/train";
  return dir;
}

inline const std::string& train_dataset() {
  static const std::string dir = [] {
    // Beside it, for app.rollout.one_state (fixture train_data): trajectories of one state.
    std::filesystem::remove_all(train_out() + "/one_state");
    write_synthetic_dataset(train_out() + "/one_state", 1, 1, 1);
    return fresh_synthetic_dataset(train_out() + "/data");
  }();
  return dir;
}

inline io::Deck train_deck(const std::string& family, int64_t steps, const std::vector<std::string>& extra = {}) {
  return small_training_deck(train_dataset(), train_out(), family, steps, extra);
}

}  // namespace tessera::test
