// The deck sections every mesh-based app shares: `mesh` (where the mesh comes from and how its
// physical groups map to node types) and `augment` (attention-mask augmentations).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mesh/augment.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/graph.hpp"
#include "mesh/mesh.hpp"

namespace tessera::io {

class Deck;
class Schema;

// Where a mesh comes from and which node types its boundary groups get (the `mesh` section).
struct MeshOptions {
  std::string source = "cylinder";  // cylinder, geo, msh
  std::string file;                 // the .geo/.msh file (resolved against the deck's directory)
  mesh::CylinderChannel cylinder;
  int64_t max_nodes = 5'000'000;               // the built-in cylinder's and a 2-D .geo's node limit
  std::map<std::string, int32_t> group_types;  // physical group -> node type code
};

void add_mesh_keys(Schema& schema);
// mesh.cylinder.* only with mesh.source: cylinder, mesh.file only with geo or msh: set otherwise,
// a warning (Deck::unread_given_keys). For apps whose meshes all come from the `mesh` section.
void add_mesh_read_conditions(Schema& schema);
// Reads and checks the `mesh` section once.
MeshOptions mesh_options(const Deck& deck);
// Builds (cylinder, .geo) or reads (.msh) the mesh and assigns node types. Errors about a
// setting carry its key (tessera::Error::key), so the app frame can point into the deck.
mesh::Mesh build_mesh(const MeshOptions& options);
// build_mesh(mesh_options(deck)), with errors located in the deck.
mesh::Mesh mesh_from_deck(const Deck& deck);
// A warning (empty: none) for nodes on the boundary of a 2D triangle mesh that no group of
// mesh.groups typed: they are normal (0), which a model predicts like the interior, so an obstacle
// left out of mesh.groups.wall is flow to it. tessera-cfd refuses such a mesh; tessera-mesh and
// tessera-rollout (rollout.source: mesh) warn, since a boundary predicted by the model is allowed.
std::string untyped_boundary_warning(const mesh::Mesh& m);

void add_augment_keys(Schema& schema);
mesh::AugmentOptions augment_options(const Deck& deck);

using mesh::NamedGraph;
// The mesh graph followed by each augmentation the deck enables, in a fixed order.
std::vector<NamedGraph> graphs_from_deck(const Deck& deck, const mesh::Mesh& mesh);

}  // namespace tessera::io
