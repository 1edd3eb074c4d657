#include "io/mesh_deck.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <vector>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "io/deck.hpp"
#include "mesh/augment.hpp"
#include "tessera/config.hpp"

namespace tessera::io {

namespace {
void positive(KeySpec& k) {
  k.min = 0;
  k.min_exclusive = true;
}
}  // namespace

void add_mesh_keys(Schema& s) {
  s.section("mesh", "where the mesh comes from and which node types its boundary groups get");
  s.add("mesh.source", KeyType::Choice, "cylinder",
        "cylinder: built-in cylinder-in-channel geometry; geo: mesh a Gmsh .geo file; msh: read a Gmsh .msh file")
      .choices = {"cylinder", "geo", "msh"};
  Schema::input_path(s.add("mesh.file", KeyType::String, "", "the .geo or .msh file for source geo/msh"));
  positive(s.add("mesh.cylinder.length", KeyType::Float, "2.2", "channel length (x extent)"));
  positive(s.add("mesh.cylinder.height", KeyType::Float, "0.41", "channel height (y extent)"));
  auto& c = s.add("mesh.cylinder.center", KeyType::FloatList, "[0.2, 0.2]", "cylinder centre (x, y)");
  c.list_size = 2;
  positive(s.add("mesh.cylinder.radius", KeyType::Float, "0.05", "cylinder radius"));
  positive(s.add("mesh.cylinder.h_near", KeyType::Float, "0.01", "element size at the cylinder"));
  positive(s.add("mesh.cylinder.h_far", KeyType::Float, "0.04", "element size far from the cylinder"));
  positive(s.add("mesh.cylinder.transition", KeyType::Float, "0.3",
                 "distance over which the size grows from h_near to h_far"));
  s.add("mesh.max_nodes", KeyType::Int, "5000000",
        "refuse to mesh the cylinder or a 2-D .geo when its node count (estimated from the sizes; for a .geo, a lower "
        "bound from its boundary mesh) exceeds this (guards against mistyped sizes)")
      .min = 1;
  s.add("mesh.groups.inflow", KeyType::StringList, "[inflow]",
        "physical groups whose nodes are inflow (type 4); a group without a name is group_<dim>_<tag> (group_1_3: "
        "Gmsh's physical curve 3)");
  s.add("mesh.groups.outflow", KeyType::StringList, "[outflow]", "physical groups whose nodes are outflow (type 5)");
  s.add("mesh.groups.wall", KeyType::StringList, "[walls, cylinder]", "physical groups whose nodes are walls (type 6)");
}

void add_mesh_read_conditions(Schema& s) {
  s.read_only_when("mesh.cylinder", {{"mesh.source", {"cylinder"}}});
  s.read_only_when("mesh.file", {{"mesh.source", {"geo", "msh"}}});
  s.read_only_when("mesh.max_nodes", {{"mesh.source", {"cylinder", "geo"}}}, "a .msh file is read as it is");
}

MeshOptions mesh_options(const Deck& d) {
  MeshOptions o;
  o.source = d.get_string("mesh.source");
  o.max_nodes = d.get_int("mesh.max_nodes");
  if (o.source == "cylinder") {
    mesh::CylinderChannel& c = o.cylinder;
    c.length = d.get_float("mesh.cylinder.length");
    c.height = d.get_float("mesh.cylinder.height");
    auto ctr = d.get_floats("mesh.cylinder.center");
    c.cx = ctr[0];
    c.cy = ctr[1];
    c.radius = d.get_float("mesh.cylinder.radius");
    c.h_near = d.get_float("mesh.cylinder.h_near");
    c.h_far = d.get_float("mesh.cylinder.h_far");
    c.transition = d.get_float("mesh.cylinder.transition");
    c.max_nodes = o.max_nodes;
    if (c.h_far < c.h_near)
      d.fail_pair("mesh.cylinder.h_far", "mesh.cylinder.h_near",
                  cat("h_far (", c.h_far, ") must be >= h_near (", c.h_near, ")"));
  } else {
    if (!d.has("mesh.file")) d.fail("mesh.source", cat("source '", o.source, "' needs mesh.file"));
    o.file = d.resolve_path(d.get_string("mesh.file"));
    const std::string ext = std::filesystem::path(o.file).extension().string();
    if (ext != "." + o.source)
      d.fail("mesh.file", cat("expected a .", o.source, " file for source '", o.source, "', got '", o.file, "'"));
  }
  std::map<std::string, std::string> listed_in;  // group -> the key that gave it its type
  for (auto [key, code] : {std::pair{"inflow", mesh::kInflow}, {"outflow", mesh::kOutflow}, {"wall", mesh::kWall}})
    for (const auto& g : d.get_strings(std::string("mesh.groups.") + key)) {
      const std::string here = std::string("mesh.groups.") + key;
      if (const auto it = listed_in.find(g); it != listed_in.end()) {
        if (it->second == here) d.fail(here, cat("group '", g, "' is listed twice"));
        // Two types for one group (a --set of one key against another key's default named only
        // the latter, as if the deck had listed it twice).
        const std::string why = cat("group '", g, "' is in both ", it->second, " and ", here,
                                    ": a group's nodes take one boundary type; take it out of one of them");
        if (d.given(it->second) && !d.given(here)) d.fail(it->second, why);
        d.fail_pair(here, it->second, why);  // the --set one where one of them is
      }
      listed_in[g] = here;
      o.group_types[g] = code;
    }
#if !TESSERA_HAVE_GMSH
  d.fail("mesh.source", "this build has no Gmsh (TESSERA_WITH_GMSH=OFF)");
#endif
  return o;
}

mesh::Mesh build_mesh(const MeshOptions& o) {
  mesh::Mesh m;
#if TESSERA_HAVE_GMSH
  if (o.source == "cylinder") {
    m = with_key("mesh.cylinder", [&] { return mesh::build_cylinder_channel(o.cylinder); });
  } else {  // a file that is missing or wrong is located at mesh.file
    m = with_key("mesh.file",
                 [&] { return o.source == "geo" ? mesh::mesh_from_geo(o.file, o.max_nodes) : mesh::read_msh(o.file); });
  }
#else
  throw Error("this build has no Gmsh (TESSERA_WITH_GMSH=OFF)", "mesh.source");
#endif
  // A group the mesh lacks is named with the key that lists it: the defaults (walls and cylinder
  // for wall) fit tessera's cylinder channel, not every .geo or .msh file. Every missing group is
  // named at once, so that a foreign mesh's groups are put right in one edit.
  std::vector<std::pair<std::string, std::string>> missing;  // (group, the key listing it)
  for (const auto& [group, code] : o.group_types)
    if (!m.find_group(group))
      missing.emplace_back(group, code == mesh::kInflow ? "inflow" : code == mesh::kOutflow ? "outflow" : "wall");
  if (!missing.empty()) {
    const auto& [group, key] = missing.front();
    std::string others;
    for (size_t i = 1; i < missing.size(); ++i)
      others += cat(i > 1 ? ", " : "", "'", missing[i].first, "' (mesh.groups.", missing[i].second, ")");
    throw Error(
        cat(mesh::missing_group_message(m, group), "; mesh.groups.", key, " lists it: give the mesh's own ", key,
            " groups there (a list, [] for none)", others.empty() ? "" : ". Not in the mesh either: ", others),
        cat("mesh.groups.", key));
  }
  mesh::assign_node_types(m, o.group_types);  // every group is there (above)
  return m;
}

std::string untyped_boundary_warning(const mesh::Mesh& m) {
  // Every cell type (3D meshes went unwarned: 407 wall nodes of a box left typed 0; a review found
  // it, 2026-12-07).
  if (static_cast<int64_t>(m.node_type.size()) != m.num_nodes()) return "";
  std::vector<char> untyped = mesh::boundary_nodes(m);
  for (size_t v = 0; v < untyped.size(); ++v) untyped[v] = untyped[v] && m.node_type[v] == mesh::kNormal;
  const int64_t count = std::count(untyped.begin(), untyped.end(), char(1));
  if (count == 0) return "";
  const int64_t first = std::find(untyped.begin(), untyped.end(), char(1)) - untyped.begin();
  std::string at;
  for (int k = 0; k < m.dim; ++k) at += cat(k ? ", " : "", m.coords[first * m.dim + k]);
  return cat(core::counted(count, "boundary node is", "boundary nodes are"), " in no group of mesh.groups (node ",
             first, " at (", at,
             ")): type 0 (normal), predicted like the interior; a wall or obstacle belongs in mesh.groups.wall "
             "(tessera-cfd refuses such a mesh)");
}

mesh::Mesh mesh_from_deck(const Deck& d) {
  const MeshOptions o = mesh_options(d);
  try {
    return build_mesh(o);
  } catch (const Error& e) {
    if (e.key().empty()) throw;
    d.fail(e.key(), e.what());
  }
}

void add_augment_keys(Schema& s) {
  s.section("augment", "attention-mask augmentations computed from the mesh graph (docs/references.md §3)");
  // The hop counts: 0 is off, and 1 would be the mesh graph itself (refused by hop_key below).
  for (const auto& [key, what] :
       {std::pair{"augment.khop", "K >= 2 adds the K-hop mask: pattern of A^K without the diagonal"},
        std::pair{"augment.within_hops", "K >= 2 adds all nodes within K hops"},
        std::pair{"augment.dilation", "d >= 2 adds nodes at exactly d hops (dilated mask)"}})
    s.add(key, KeyType::Int, "0", cat(what, "; 0: off (1 is refused: the mesh graph itself)")).min = 0;
  s.add("augment.random_jumps.fraction", KeyType::Float, "0",
        "extra random undirected edges as a fraction of the mesh edges (e.g. 0.2); 0: off")
      .min = 0;
  s.add("augment.random_jumps.seed", KeyType::Int, "0", "seed of the random jump edges").min = 0;
  s.add("augment.global_nodes.types", KeyType::IntList, "[]",
        "node type codes whose nodes attend to and from every node (e.g. [4] for inflow)");
  s.add("augment.global_nodes.count", KeyType::Int, "0", "number of extra randomly chosen global nodes").min = 0;
  s.add("augment.global_nodes.seed", KeyType::Int, "0", "seed for the random global nodes").min = 0;
  s.read_only_when("augment.random_jumps.seed", {not_one_of("augment.random_jumps.fraction", {"0"})},
                   "no jump edges are drawn");
  s.read_only_when("augment.global_nodes.seed", {not_one_of("augment.global_nodes.count", {"0"})},
                   "no random global nodes are drawn");
}

mesh::AugmentOptions augment_options(const Deck& d) {
  auto hop_key = [&](const char* key) {
    const int k = d.get_int32(key);
    if (k == 1) d.fail(key, "1 is the mesh graph itself; use 0 (off) or >= 2");
    return k;
  };
  mesh::AugmentOptions o;
  o.khop = hop_key("augment.khop");
  o.within_hops = hop_key("augment.within_hops");
  o.dilation = hop_key("augment.dilation");
  o.jump_fraction = d.get_float("augment.random_jumps.fraction");
  o.jump_seed = d.get_int("augment.random_jumps.seed");
  for (int64_t t : d.get_ints("augment.global_nodes.types")) {
    if (t != mesh::kNormal && t != mesh::kInflow && t != mesh::kOutflow && t != mesh::kWall)
      d.fail("augment.global_nodes.types", cat("node type ", t, " is not one of 0, 4, 5, 6"));
    o.global_types.push_back(static_cast<int32_t>(t));
  }
  o.global_count = d.get_int("augment.global_nodes.count");
  o.global_seed = d.get_int("augment.global_nodes.seed");
  return o;
}

std::vector<NamedGraph> graphs_from_deck(const Deck& d, const mesh::Mesh& m) {
  const mesh::AugmentOptions o = augment_options(d);
  try {
    return mesh::augmented_graphs(mesh::mesh_graph(m), m.node_type, o);
  } catch (const Error& e) {
    if (e.key().empty()) throw;
    d.fail(e.key(), e.what());
  }
}

}  // namespace tessera::io
