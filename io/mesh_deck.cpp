#include "io/mesh_deck.hpp"

#include <filesystem>

#include "mesh/augment.hpp"
#include "mesh/error.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_GMSH
#include "mesh/gmsh_io.hpp"
#endif

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
  s.add("mesh.file", KeyType::String, "", "the .geo or .msh file for source geo/msh (relative to the deck)");
  positive(s.add("mesh.cylinder.length", KeyType::Float, "2.2", "channel length (x extent)"));
  positive(s.add("mesh.cylinder.height", KeyType::Float, "0.41", "channel height (y extent)"));
  auto& c = s.add("mesh.cylinder.center", KeyType::FloatList, "[0.2, 0.2]", "cylinder centre (x, y)");
  c.list_size = 2;
  positive(s.add("mesh.cylinder.radius", KeyType::Float, "0.05", "cylinder radius"));
  positive(s.add("mesh.cylinder.h_near", KeyType::Float, "0.01", "element size at the cylinder"));
  positive(s.add("mesh.cylinder.h_far", KeyType::Float, "0.04", "element size far from the cylinder"));
  positive(s.add("mesh.cylinder.transition", KeyType::Float, "0.3", "distance over which the size grows from h_near to h_far"));
  s.add("mesh.groups.inflow", KeyType::StringList, "[inflow]", "physical groups whose nodes are inflow (type 4)");
  s.add("mesh.groups.outflow", KeyType::StringList, "[outflow]", "physical groups whose nodes are outflow (type 5)");
  s.add("mesh.groups.wall", KeyType::StringList, "[walls, cylinder]", "physical groups whose nodes are walls (type 6)");
}

mesh::Mesh mesh_from_deck(const Deck& d) {
#if TESSERA_HAVE_GMSH
  const std::string source = d.get_string("mesh.source");
  mesh::Mesh m;
  if (source == "cylinder") {
    mesh::CylinderChannel c;
    c.length = d.get_float("mesh.cylinder.length");
    c.height = d.get_float("mesh.cylinder.height");
    auto ctr = d.get_floats("mesh.cylinder.center");
    c.cx = ctr[0];
    c.cy = ctr[1];
    c.radius = d.get_float("mesh.cylinder.radius");
    c.h_near = d.get_float("mesh.cylinder.h_near");
    c.h_far = d.get_float("mesh.cylinder.h_far");
    c.transition = d.get_float("mesh.cylinder.transition");
    if (c.h_far < c.h_near) d.fail("mesh.cylinder.h_far", cat("must be >= h_near (", c.h_near, ")"));
    try {
      m = mesh::build_cylinder_channel(c);
    } catch (const Error& e) {
      d.fail("mesh.cylinder", e.what());
    }
  } else {
    if (!d.has("mesh.file")) d.fail("mesh.source", cat("source '", source, "' needs mesh.file"));
    const std::string file = d.resolve_path(d.get_string("mesh.file"));
    const std::string ext = std::filesystem::path(file).extension().string();
    if (ext != "." + source) d.fail("mesh.file", cat("expected a .", source, " file for source '", source, "', got '", file, "'"));
    m = source == "geo" ? mesh::mesh_from_geo(file) : mesh::read_msh(file);
  }
  std::map<std::string, int32_t> types;
  for (auto [key, code] : {std::pair{"inflow", mesh::kInflow}, {"outflow", mesh::kOutflow}, {"wall", mesh::kWall}})
    for (const auto& g : d.get_strings(std::string("mesh.groups.") + key)) {
      if (types.count(g)) d.fail(std::string("mesh.groups.") + key, cat("group '", g, "' is listed twice"));
      types[g] = code;
    }
  try {
    mesh::assign_node_types(m, types);
  } catch (const Error& e) {
    d.fail("mesh.groups", e.what());
  }
  return m;
#else
  d.fail("mesh.source", "this build has no Gmsh (TESSERA_WITH_GMSH=OFF)");
#endif
}

void add_augment_keys(Schema& s) {
  s.section("augment", "attention-mask augmentations computed from the mesh graph (REFERENCES.md §3)");
  s.add("augment.khop", KeyType::Int, "0", "K >= 2 adds the K-hop mask: pattern of A^K without the diagonal; 0: off").min = 0;
  s.add("augment.within_hops", KeyType::Int, "0", "K >= 2 adds all nodes within K hops; 0: off").min = 0;
  s.add("augment.dilation", KeyType::Int, "0", "d >= 2 adds nodes at exactly d hops (dilated mask); 0: off").min = 0;
  s.add("augment.random_jumps.fraction", KeyType::Float, "0",
        "extra random undirected edges as a fraction of the mesh edges (e.g. 0.2); 0: off").min = 0;
  s.add("augment.random_jumps.seed", KeyType::Int, "0", "seed of the random jump edges").min = 0;
  s.add("augment.global_nodes.types", KeyType::IntList, "[]",
        "node type codes whose nodes attend to and from every node (e.g. [4] for inflow)");
  s.add("augment.global_nodes.count", KeyType::Int, "0", "number of extra randomly chosen global nodes").min = 0;
  s.add("augment.global_nodes.seed", KeyType::Int, "0", "seed for the random global nodes").min = 0;
}

std::vector<NamedGraph> graphs_from_deck(const Deck& d, const mesh::Mesh& m) {
  const mesh::Graph g = mesh::mesh_graph(m);
  std::vector<NamedGraph> out{{"mesh", g}};
  auto hop_key = [&](const char* key) {
    int64_t k = d.get_int(key);
    if (k == 1) d.fail(key, "1 is the mesh graph itself; use 0 (off) or >= 2");
    return static_cast<int>(k);
  };
  if (int k = hop_key("augment.khop")) out.push_back({cat("khop", k), mesh::khop(g, k)});
  if (int k = hop_key("augment.within_hops")) out.push_back({cat("within", k), mesh::within_hops(g, k)});
  if (int k = hop_key("augment.dilation")) out.push_back({cat("dilated", k), mesh::dilated(g, k)});
  if (double f = d.get_float("augment.random_jumps.fraction"); f > 0)
    out.push_back({"jumps", mesh::random_jumps(g, f, d.get_int("augment.random_jumps.seed"))});
  std::vector<int32_t> types;
  for (int64_t t : d.get_ints("augment.global_nodes.types")) {
    if (t != mesh::kNormal && t != mesh::kInflow && t != mesh::kOutflow && t != mesh::kWall)
      d.fail("augment.global_nodes.types", cat("node type ", t, " is not one of 0, 4, 5, 6"));
    types.push_back(static_cast<int32_t>(t));
  }
  auto hubs = mesh::nodes_of_types(m.node_type, types);
  const int64_t extra = d.get_int("augment.global_nodes.count");
  if (extra > m.num_nodes()) d.fail("augment.global_nodes.count", cat("exceeds the ", m.num_nodes(), " mesh nodes"));
  for (int64_t h : mesh::random_nodes(m.num_nodes(), extra, d.get_int("augment.global_nodes.seed"))) hubs.push_back(h);
  if (!hubs.empty()) out.push_back({"global", mesh::global_nodes(g, hubs)});
  return out;
}

}  // namespace tessera::io
