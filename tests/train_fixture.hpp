// Shared by the training tests: the training deck on a synthetic dataset (tests/synthetic_flow.hpp)
// that each test program writes once into its own output folder.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "io/deck.hpp"
#include "tests/synthetic_flow.hpp"
#include "train/mesh_sim_family.hpp"

namespace tessera::test {

// `dir` emptied and filled with the synthetic dataset (3 training trajectories, 1 validation, 1 test).
inline std::string fresh_synthetic_dataset(const std::string& dir) {
  std::filesystem::remove_all(dir);
  write_synthetic_dataset(dir, 3, 1);
  return dir;
}

// A small training deck (latent 16, 2 layers, warm-up 2) on `data`, writing to `out`, with overrides.
inline io::Deck small_training_deck(const std::string& data, const std::string& out, const std::string& family,
                                    int64_t steps, const std::vector<std::string>& extra = {}) {
  static io::Schema schema = [] {
    io::Schema s("tessera-train");
    train::add_training_keys(s, train::mesh_sim_families());
    return s;
  }();
  std::vector<std::string> ov{"data.dir=" + data, "model.family=" + family, "train.steps=" + std::to_string(steps),
                              "model.latent=16",  "model.layers=2",         "train.warmup=2",
                              "output.dir=" + out};
  ov.insert(ov.end(), extra.begin(), extra.end());
  return io::Deck::parse("{}", "test.yaml", schema, ov);
}

}  // namespace tessera::test
