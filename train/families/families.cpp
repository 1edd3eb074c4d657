#include "train/families/families.hpp"

#include "train/mesh_sim_family.hpp"

namespace tessera::train {

const std::vector<Family>& families() {
  // The one place a family is registered.
  static const std::vector<Family> registered = {
      transformer_family(),
      meshgraphnet_family(),
  };
  return registered;
}

void add_training_deck_keys(io::Schema& s) { add_training_keys(s, families()); }

void train_from_deck(const io::Deck& d, const RunContext& ctx) { train_from_deck(families(), d, ctx); }

void add_evaluation_deck_keys(io::Schema& s) { add_evaluation_keys(s, families()); }

void evaluate_from_deck(const io::Deck& d, const RunContext& ctx) { evaluate_from_deck(families(), d, ctx); }

}  // namespace tessera::train
