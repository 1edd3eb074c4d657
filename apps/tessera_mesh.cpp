// tessera-mesh deck.yaml: builds or reads a mesh, builds its graph and mask augmentations,
// prints statistics and writes the mesh with node types and degrees for ParaView.
//
//   build/apps/tessera-mesh decks/cylinder.yaml
//   mpirun -np 2 build/apps/tessera-mesh decks/cylinder.yaml --set output.dir=out/mesh-np2
#include <spdlog/spdlog.h>

#include <filesystem>

#include "apps/app.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/on_root.hpp"
#include "io/mesh_deck.hpp"
#include "io/series_files.hpp"
#include "mesh/partition.hpp"
#include "mesh/validation.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_GMSH
#include "mesh/gmsh_io.hpp"
#endif
#if TESSERA_HAVE_HDF5
#include "io/xdmf.hpp"
#endif
#if TESSERA_HAVE_VTK
#include "io/vtk.hpp"
#endif

using namespace tessera;

static void schema(io::Schema& s) {
  io::add_mesh_keys(s);
  io::add_augment_keys(s);
  s.section("output", "what is written, and where");
  s.add("output.dir", io::KeyType::String, "out/mesh", "output directory (relative to the working directory)");
  s.add("output.name", io::KeyType::String, "mesh", "base name of the output files");
  s.add("output.xdmf", io::KeyType::Bool, "true", "write <name>.xmf + <name>_*.h5 (XDMF3 with HDF5 heavy data)");
  s.add("output.vtu", io::KeyType::Bool, "true", "write <name>.vtu (serial) or <name>.pvtu + pieces (MPI)");
  s.add("output.msh", io::KeyType::Bool, "true", "write <name>.msh (Gmsh 4.1, with the physical groups)");
  io::add_mesh_read_conditions(s);
}

// Logs the mesh's size, groups and node types.
static void describe(const mesh::Mesh& m, spdlog::logger& log) {
  log.info("mesh: {} nodes, {} {} cells, {}D, groups: {}", m.num_nodes(), m.num_cells(),
           mesh::cell_type_name(m.cell_type), m.dim, [&] {
             std::string s;
             for (const auto& g : m.groups) s += cat(s.empty() ? "" : ", ", g.name, " (", g.nodes().size(), " nodes)");
             return s;
           }());
  for (auto [type, count] : mesh::node_type_counts(m)) log.info("  node type {}: {} nodes", type, count);
}

// The node types, and each graph's in-degree as a node field, with the graphs' statistics.
static std::vector<io::Field> graph_fields(const io::Deck& d, const mesh::Mesh& m, spdlog::logger& log) {
  std::vector<io::Field> fields;
  io::Field node_type{"node_type", 1, false, {}, /*integer=*/true};
  for (int32_t t : m.node_type) node_type.data.push_back(t);
  fields.push_back(node_type);
  for (const auto& [name, g] : io::graphs_from_deck(d, m)) {
    auto s = mesh::graph_stats(g);
    log.info("graph {:10s}: {:9d} directed edges, degree min {} mean {:.2f} max {}, symmetric: {}", name, s.num_edges,
             s.min_degree, s.mean_degree, s.max_degree, g.is_symmetric() ? "yes" : "no");
    io::Field deg{"degree_" + name, 1, false, std::vector<double>(m.num_nodes()), /*integer=*/true};
    for (int64_t i = 0; i < m.num_nodes(); ++i) deg.data[i] = static_cast<double>(g.in_degree(i));
    fields.push_back(std::move(deg));
  }
  return fields;
}

// Under MPI: METIS partition (node field "partition"); each cell's rank, its first node's (empty when serial).
static std::vector<int32_t> partition(const mesh::Mesh& m, const Comm& comm, std::vector<io::Field>& fields,
                                      spdlog::logger& log) {
  std::vector<int32_t> cell_rank;
  if (comm.size() == 1) return cell_rank;
  const mesh::Graph g = mesh::mesh_graph(m);
  auto part = mesh::partition_nodes(g, comm.size());
  auto ps = mesh::partition_stats(g, part, comm.size());
  log.info("partition: {} parts, edge cut {}, imbalance {:.3f}, 1-hop halo {:.1f}% of the nodes", comm.size(),
           ps.edge_cut, ps.imbalance, 100 * ps.halo_fraction);
  io::Field pf{"partition", 1, false, {}, /*integer=*/true};
  for (int32_t p : part) pf.data.push_back(p);
  fields.push_back(pf);
  const int npc = mesh::nodes_per_cell(m.cell_type);
  for (int64_t c = 0; c < m.num_cells(); ++c) cell_rank.push_back(part[m.cells[c * npc]]);
  return cell_rank;
}

// The resolved deck (.msh cannot carry it), then XDMF, VTU and .msh as the deck asks.
static void write_outputs(const apps::Context& ctx, const std::string& dir, const mesh::Mesh& m,
                          const std::vector<io::Field>& fields, const std::vector<int32_t>& cell_rank) {
  const io::Deck& d = ctx.deck;
  auto& log = *ctx.log;
  const std::string base = dir + "/" + d.get_file_name("output.name");
  const std::string deck_yaml = d.resolved_yaml();
  // An earlier run's files first (its .pvtu at another np; files only, and no .msh: it may be this run's mesh.file).
  run_on_root(ctx.comm, [&] {
    io::remove_series_files(base);
    for (const char* form : {".vtu", ".pvtu"})
      if (std::filesystem::is_regular_file(base + form)) std::filesystem::remove(base + form);
    core::write_text_atomic(base + ".deck.yaml", deck_yaml);
  });
  if (d.get_bool("output.xdmf")) {
#if TESSERA_HAVE_HDF5
    io::XdmfSeries series(base, m, ctx.comm, fields, deck_yaml);
    series.write_step(0.0, {});
    log.info("wrote {}", series.xmf_path());
#else
    d.fail("output.xdmf", "this build has no HDF5; set output.xdmf: false");
#endif
  }
  if (d.get_bool("output.vtu")) {
#if TESSERA_HAVE_VTK
    if (ctx.comm.size() > 1)
      io::write_pvtu(base + ".pvtu", m, fields, ctx.comm, deck_yaml, cell_rank);
    else
      io::write_vtu(base + ".vtu", m, fields, deck_yaml);
    log.info("wrote {}", base + (ctx.comm.size() > 1 ? ".pvtu" : ".vtu"));
#else
    d.fail("output.vtu", "this build has no VTK; set output.vtu: false");
#endif
  }
  if (d.get_bool("output.msh") && ctx.comm.root()) {
#if TESSERA_HAVE_GMSH
    mesh::write_msh(m, base + ".msh");
    log.info("wrote {}", base + ".msh");
#endif
  }
}

static void run(apps::Context& ctx) {
  // 1. Build or read the mesh (mesh.*) and assign its node types, once the output folder is known to be usable.
  const std::string dir = ctx.deck.get_output_dir("output.dir");
  mesh::Mesh m;  // every rank builds or reads it: one rank's failure is every rank's error
  run_on_every_rank(ctx.comm, [&] { m = io::mesh_from_deck(ctx.deck); });
  describe(m, *ctx.log);
  if (const std::string w = io::untyped_boundary_warning(m); !w.empty()) ctx.log->warn("{}", w);
  // 2. Build the graph and its augmentations (augment.*): node types and degrees as fields.
  std::vector<io::Field> fields = graph_fields(ctx.deck, m, *ctx.log);
  // 3. Partition it over the ranks (MPI only).
  const std::vector<int32_t> cell_rank = partition(m, ctx.comm, fields, *ctx.log);
  // 4. Write the outputs (output.*).
  write_outputs(ctx, dir, m, fields, cell_rank);
}

int main(int argc, char** argv) {
  return apps::run_app(
      argc, argv,
      {"tessera-mesh", "Build or read a mesh, build its graph and mask augmentations, write it for ParaView", schema,
       run, false, "docs/decks.md", apps::named_outputs});
}
