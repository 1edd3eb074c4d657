// my-train deck.yaml [--set key=value ...]: tessera-train with one more model family. The
// registry is a list of train::Family entries; a program of one's own extends tessera's list and
// hands it to the same deck schema and training driver tessera-train uses.
#include "apps/app.hpp"
#include "graph_mlp_family.hpp"
#include "train/families/families.hpp"

using namespace tessera;

static const std::vector<train::Family>& all_families() {
  static const std::vector<train::Family> families = [] {
    std::vector<train::Family> f = train::families();
    f.push_back(own::graph_mlp_family());
    return f;
  }();
  return families;
}

int main(int argc, char** argv) {
  return apps::run_app(argc, argv,
                       {"my-train", "tessera's model families plus graph_mlp, trained from a deck",
                        [](io::Schema& s) { train::add_training_keys(s, all_families()); },
                        [](apps::Context& ctx) {
                          train::train_from_deck(all_families(), ctx.deck, {ctx.comm, ctx.log});
                        },
                        /*pass_options=*/false, "examples/own_family/graph_mlp_family.cpp",
                        // The claim tessera-train makes on output.dir: a second run into it stops.
                        apps::training_outputs});
}
