// The deck sections every mesh-based app shares: `mesh` (where the mesh comes from and how its
// physical groups map to node types) and `augment` (attention-mask augmentations).
#pragma once
#include <string>
#include <vector>

#include "io/deck.hpp"
#include "mesh/graph.hpp"
#include "mesh/mesh.hpp"

namespace tessera::io {

void add_mesh_keys(Schema& schema);
// Builds (cylinder, .geo) or reads (.msh) the mesh and assigns node types. Throws on bad input.
mesh::Mesh mesh_from_deck(const Deck& deck);

void add_augment_keys(Schema& schema);

struct NamedGraph {
  std::string name;  // "mesh", "khop2", "dilated2", "jumps", "global", ...
  mesh::Graph graph;
};
// The mesh graph followed by each augmentation the deck enables, in a fixed order.
std::vector<NamedGraph> graphs_from_deck(const Deck& deck, const mesh::Mesh& mesh);

}  // namespace tessera::io
