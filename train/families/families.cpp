#include "train/families/families.hpp"

#include "train/gnnpipe/family.hpp"
#include "train/mesh_sim_family.hpp"
#include "train/pinn/family.hpp"
#include "train/spen/family.hpp"
#include "train/stagger/family.hpp"

namespace tessera::train {

const std::vector<Family>& families() {
  // The one place a family is registered.
  static const std::vector<Family> registered = {
      transformer_family(), meshgraphnet_family(), gnnpipe_family(), pinn_family(),
      spen_family(),  // SPEN, global 2-IGN and GIN graph classifiers (docs/spen.md)
      ign_family(),         gin_family(),
      stagger_family(),  // NeuralStagger coarse Navier-Stokes solvers (docs/neuralstagger.md)
  };
  return registered;
}

void add_training_deck_keys(io::Schema& s) { add_training_keys(s, families()); }

void train_from_deck(const io::Deck& d, const RunContext& ctx) { train_from_deck(families(), d, ctx); }

void add_evaluation_deck_keys(io::Schema& s) { add_evaluation_keys(s, families()); }

void evaluate_from_deck(const io::Deck& d, const RunContext& ctx) { evaluate_from_deck(families(), d, ctx); }

std::vector<std::string> other_evaluation_keys(const io::Deck& d) { return other_evaluation_keys(families(), d); }

}  // namespace tessera::train
