// mesh core: graph construction, mask augmentations against dense matrix references,
// validation errors, node-type assignment.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "mesh/augment.hpp"
#include "mesh/graph.hpp"
#include "mesh/mesh_bytes.hpp"
#include "mesh/validation.hpp"
#include "tests/mesh_fixtures.hpp"

using namespace tessera;
using Dense = std::vector<std::vector<int64_t>>;

static Dense dense_adjacency(const mesh::Graph& g) {
  Dense a(g.num_nodes, std::vector<int64_t>(g.num_nodes, 0));
  for (int64_t e = 0; e < g.num_edges(); ++e) a[g.src[e]][g.dst[e]] = 1;
  return a;
}
static Dense matmul(const Dense& a, const Dense& b) {
  const size_t n = a.size();
  Dense c(n, std::vector<int64_t>(n, 0));
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < n; ++k)
      if (a[i][k])
        for (size_t j = 0; j < n; ++j) c[i][j] += a[i][k] * b[k][j];
  return c;
}
static Dense power(Dense a, int k) {
  Dense r = a;
  for (int i = 1; i < k; ++i) r = matmul(r, a);
  return r;
}
// Pattern (nonzero, off-diagonal) of a dense matrix as a set of (src, dst).
static std::set<std::pair<int64_t, int64_t>> pattern(const Dense& a) {
  std::set<std::pair<int64_t, int64_t>> s;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a.size(); ++j)
      if (i != j && a[i][j]) s.insert({int64_t(i), int64_t(j)});
  return s;
}
static std::set<std::pair<int64_t, int64_t>> edges(const mesh::Graph& g) {
  std::set<std::pair<int64_t, int64_t>> s;
  for (int64_t e = 0; e < g.num_edges(); ++e) s.insert({g.src[e], g.dst[e]});
  return s;
}
// Checks CSR invariants: sorted by (dst, src), row_ptr consistent, no self-loops, no duplicates.
static void check_csr(const mesh::Graph& g) {
  REQUIRE(g.row_ptr.size() == size_t(g.num_nodes + 1));
  REQUIRE(g.row_ptr.back() == g.num_edges());
  for (int64_t i = 0; i < g.num_nodes; ++i)
    for (int64_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) {
      REQUIRE(g.dst[e] == i);
      REQUIRE(g.src[e] != i);
      if (e > g.row_ptr[i]) REQUIRE(g.src[e - 1] < g.src[e]);
    }
}

TEST_CASE("mesh graph of two triangles", "[graph]") {
  mesh::Mesh m = test::grid_mesh(1, 1);  // nodes 0 (0,0) 1 (1,0) 2 (0,1) 3 (1,1); diagonal 0-3
  mesh::Graph g = mesh::mesh_graph(m);
  check_csr(g);
  std::set<std::pair<int64_t, int64_t>> expect;
  for (auto [a, b] : {std::pair{0, 1}, {1, 3}, {0, 3}, {3, 2}, {2, 0}}) expect.insert({a, b}), expect.insert({b, a});
  CHECK(edges(g) == expect);
  CHECK(g.is_symmetric());
  auto f = mesh::edge_features(g, m);
  for (int64_t e = 0; e < g.num_edges(); ++e) {
    double dx = m.coords[2 * g.src[e]] - m.coords[2 * g.dst[e]],
           dy = m.coords[2 * g.src[e] + 1] - m.coords[2 * g.dst[e] + 1];
    CHECK(f[3 * e] == dx);
    CHECK(f[3 * e + 1] == dy);
    CHECK(f[3 * e + 2] == Approx(std::hypot(dx, dy)));
  }
}

TEST_CASE("graph_from_pairs removes duplicates and self-loops", "[graph]") {
  mesh::Graph g = mesh::graph_from_pairs(4, {{0, 1}, {0, 1}, {2, 2}, {3, 1}, {1, 0}}, false);
  check_csr(g);
  CHECK(edges(g) == std::set<std::pair<int64_t, int64_t>>{{0, 1}, {3, 1}, {1, 0}});
  CHECK_FALSE(g.is_symmetric());
  CHECK_THROWS_WITH(mesh::graph_from_pairs(2, {{0, 5}}, false), Catch::Contains("out of range"));
}

TEST_CASE("quad and tetrahedron cell edges", "[graph]") {
  mesh::Mesh q;
  q.dim = 2;
  q.cell_type = mesh::CellType::Quad;
  q.coords = {0, 0, 1, 0, 1, 1, 0, 1};
  q.cells = {0, 1, 2, 3};
  CHECK(mesh::mesh_graph(q).num_edges() == 8);  // 4 sides, no diagonals
  mesh::Mesh t;
  t.dim = 3;
  t.cell_type = mesh::CellType::Tetrahedron;
  t.coords = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  t.cells = {0, 1, 2, 3};
  CHECK(mesh::mesh_graph(t).num_edges() == 12);
  CHECK(mesh::signed_measure(t, 0) == Approx(1.0 / 6));
  CHECK_NOTHROW(mesh::validate(t));
}

TEST_CASE("K-hop, within-hops and dilation equal dense references", "[augment]") {
  for (unsigned seed : {1u, 2u, 3u}) {
    mesh::Mesh m = test::irregular_mesh(5, 4, seed);
    mesh::Graph g = mesh::mesh_graph(m);
    const Dense a = dense_adjacency(g);
    Dense ai = a;
    for (size_t i = 0; i < a.size(); ++i) ai[i][i] = 1;
    // Shortest-path distances by Floyd-Warshall, an algorithm independent of the BFS under test.
    const int64_t inf = 1 << 20;
    Dense dist(a.size(), std::vector<int64_t>(a.size(), inf));
    for (size_t i = 0; i < a.size(); ++i)
      for (size_t j = 0; j < a.size(); ++j) dist[i][j] = i == j ? 0 : a[i][j] ? 1 : inf;
    for (size_t k = 0; k < a.size(); ++k)
      for (size_t i = 0; i < a.size(); ++i)
        for (size_t j = 0; j < a.size(); ++j) dist[i][j] = std::min(dist[i][j], dist[i][k] + dist[k][j]);
    for (int k : {1, 2, 3, 4}) {
      INFO("seed " << seed << " K " << k);
      mesh::Graph kh = mesh::khop(g, k), wh = mesh::within_hops(g, k), dl = mesh::dilated(g, k);
      check_csr(kh);
      check_csr(wh);
      check_csr(dl);
      CHECK(edges(kh) == pattern(power(a, k)));
      CHECK(edges(wh) == pattern(power(ai, k)));
      std::set<std::pair<int64_t, int64_t>> exact;
      for (size_t i = 0; i < a.size(); ++i)
        for (size_t j = 0; j < a.size(); ++j)
          if (dist[i][j] == k) exact.insert({int64_t(i), int64_t(j)});
      CHECK(edges(dl) == exact);
      CHECK(kh.is_symmetric());
    }
  }
  CHECK(edges(mesh::khop(mesh::mesh_graph(test::grid_mesh(2, 2)), 1)) ==
        edges(mesh::mesh_graph(test::grid_mesh(2, 2))));
  // Hop counts past the graph's extent: the pattern of A^K by boolean matrix powers (0/1 entries,
  // no overflow), on a triangle mesh and on a bipartite path (whose pattern alternates with K's
  // parity); K = 1,000,000 returns at once (every one of its steps was walked).
  auto boolean_power = [](const Dense& a, int k) {
    Dense r = a;
    for (int i = 1; i < k; ++i) {
      r = matmul(r, a);
      for (auto& row : r)
        for (auto& x : row) x = x != 0;
    }
    return r;
  };
  mesh::Graph path;
  {
    std::vector<std::pair<int64_t, int64_t>> pairs;
    for (int64_t v = 0; v + 1 < 7; ++v) pairs.push_back({v, v + 1}), pairs.push_back({v + 1, v});
    path = mesh::graph_from_pairs(7, pairs, false);
  }
  for (const mesh::Graph& g : {mesh::mesh_graph(test::irregular_mesh(5, 4, 1)), path}) {
    const Dense a = dense_adjacency(g);
    for (int k : {9, 12, 13, 30}) {
      INFO("nodes " << g.num_nodes << " K " << k);
      CHECK(edges(mesh::khop(g, k)) == pattern(boolean_power(a, k)));
    }
    CHECK(edges(mesh::khop(g, 1000000)) == pattern(boolean_power(a, 30)));
    CHECK(edges(mesh::khop(g, 999999)) == pattern(boolean_power(a, 29)));
  }
  CHECK_THROWS_WITH(mesh::khop(mesh::mesh_graph(test::grid_mesh(2, 2)), 0), Catch::Contains(">= 1"));
}

// Node 0 joined to each of `leaves` other nodes, both ways.
static mesh::Graph star_graph(int64_t leaves) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t v = 1; v <= leaves; ++v) pairs.push_back({0, v}), pairs.push_back({v, 0});
  return mesh::graph_from_pairs(leaves + 1, pairs, false);
}

TEST_CASE("a hop mask too large for the machine is refused at its key before it is built", "[augment]") {
  // A star of 200,000 leaves: every two leaves are 2 hops apart, so a 2-hop mask would have about
  // 4e10 edges (about 1.9 TB to build). The check samples 64 breadth-first searches instead.
  const int64_t leaves = 200000;
  const mesh::Graph g = star_graph(leaves);
  const std::vector<int32_t> types(leaves + 1, 0);
  for (const std::string key : {"augment.khop", "augment.within_hops", "augment.dilation"}) {
    mesh::AugmentOptions o;
    (key == "augment.khop" ? o.khop : key == "augment.within_hops" ? o.within_hops : o.dilation) = 2;
    try {
      mesh::augmented_graphs(g, types, o);
      FAIL("not refused");
    } catch (const Error& e) {
      CHECK(e.key() == key);
      // Within 2 hops every node reaches all others; exactly 2 hops, every leaf the other leaves.
      const std::string reach = key == "augment.dilation" ? "196874" : "200000";  // 63/64 of the starts are leaves
      CHECK_THAT(e.what(), Catch::Contains("2 hops reach about " + reach + " nodes per node (sampled from 64 nodes)") &&
                               Catch::Contains("mask edges, which take about") && Catch::Contains("use fewer hops"));
    }
  }
}

TEST_CASE("with several processes on the machine a hop mask gets each one's share of the memory", "[augment]") {
  // A star of 1,000 leaves: a 2-hop mask has about 1e6 edges, about 48 MB to build. It fits one
  // process; among enough processes that each has under twice that, it is refused.
  const int64_t leaves = 1000;
  const mesh::Graph g = star_graph(leaves);
  const std::vector<int32_t> types(leaves + 1, 0);
  mesh::AugmentOptions o;
  o.within_hops = 2;
  const int64_t memory = core::memory_limit_bytes();
  if (memory <= 0) {
    WARN("this machine's memory cannot be read: nothing to check");
    return;
  }
  REQUIRE(core::processes_on_this_machine() == 1);
  CHECK(core::memory_share_bytes() == memory);
  CHECK_NOTHROW(mesh::augmented_graphs(g, types, o));
  const double mask_bytes = 48.0 * double(leaves + 1) * double(leaves + 1);
  const int many = int(std::min<double>(double(memory) / mask_bytes * 4, 1e9));
  core::set_processes_on_this_machine(many);
  CHECK(core::memory_share_bytes() == memory / many);
  CHECK_THROWS_WITH(mesh::augmented_graphs(g, types, o),
                    Catch::Contains(cat("each of the ", many, " processes on this machine may use")));
  core::set_processes_on_this_machine(1);
  CHECK_THROWS_WITH(core::set_processes_on_this_machine(0), Catch::Contains(">= 1"));
}

TEST_CASE("random jump edges", "[augment]") {
  mesh::Graph g = mesh::mesh_graph(test::grid_mesh(6, 6));
  mesh::Graph j1 = mesh::random_jumps(g, 0.2, 7), j2 = mesh::random_jumps(g, 0.2, 7),
              j3 = mesh::random_jumps(g, 0.2, 8);
  check_csr(j1);
  CHECK(edges(j1) == edges(j2));  // deterministic for a seed
  CHECK(edges(j1) != edges(j3));
  const int64_t added = std::llround(0.2 * g.num_edges() / 2.0);
  CHECK(j1.num_edges() == g.num_edges() + 2 * added);
  CHECK(j1.is_symmetric());
  auto base = edges(g), aug = edges(j1);
  CHECK(std::includes(aug.begin(), aug.end(), base.begin(), base.end()));
  CHECK(edges(mesh::random_jumps(g, 0.0, 1)) == base);
  CHECK_THROWS_WITH(mesh::random_jumps(mesh::mesh_graph(test::grid_mesh(1, 1)), 10.0, 1),
                    Catch::Contains("unconnected pairs"));
  // A fraction that rounds to no edge is refused (it gave the mesh graph itself), at its key.
  CHECK_THROWS_WITH(mesh::random_jumps(g, 1e-4, 1), Catch::Contains("is no edge; at least"));
  mesh::AugmentOptions o;
  o.jump_fraction = 1e-4;
  try {
    mesh::augmented_graphs(g, std::vector<int32_t>(g.num_nodes, 0), o);
    FAIL("not refused");
  } catch (const Error& e) {
    CHECK(e.key() == "augment.random_jumps.fraction");
  }
}

TEST_CASE("global nodes connect to every node", "[augment]") {
  mesh::Mesh m = test::grid_mesh(3, 3);
  m.node_type[0] = mesh::kInflow;
  m.node_type[5] = mesh::kInflow;
  mesh::Graph g = mesh::mesh_graph(m);
  auto hubs = mesh::nodes_of_types(m.node_type, {mesh::kInflow});
  CHECK(hubs == std::vector<int64_t>{0, 5});
  mesh::Graph gl = mesh::global_nodes(g, hubs);
  check_csr(gl);
  Dense ref = dense_adjacency(g);
  for (int64_t h : hubs)
    for (int64_t j = 0; j < g.num_nodes; ++j) ref[h][j] = ref[j][h] = 1;
  CHECK(edges(gl) == pattern(ref));
  // Hub types that no node has: refused at the key (there was no global graph, without a word).
  mesh::AugmentOptions o;
  o.global_types = {mesh::kOutflow};
  try {
    mesh::augmented_graphs(g, m.node_type, o);
    FAIL("not refused");
  } catch (const Error& e) {
    CHECK(e.key() == "augment.global_nodes.types");
    CHECK_THAT(e.what(), Catch::Contains("no node of the mesh has type 5"));
  }
  o.global_types = {mesh::kInflow};
  CHECK(mesh::augmented_graphs(g, m.node_type, o).back().name == "global");
  auto r1 = mesh::random_nodes(100, 5, 3), r2 = mesh::random_nodes(100, 5, 3);
  CHECK(r1 == r2);
  CHECK(std::set<int64_t>(r1.begin(), r1.end()).size() == 5);
}

TEST_CASE("graph union", "[graph]") {
  mesh::Graph a = mesh::graph_from_pairs(3, {{0, 1}}, true), b = mesh::graph_from_pairs(3, {{1, 2}}, true);
  CHECK(mesh::graph_union(a, b).num_edges() == 4);
  CHECK_THROWS(mesh::graph_union(a, mesh::graph_from_pairs(4, {}, false)));
}

TEST_CASE("validation reports bad meshes", "[validation]") {
  CHECK_NOTHROW(mesh::validate(test::irregular_mesh(4, 4, 5)));
  mesh::Mesh m = test::grid_mesh(2, 2);
  SECTION("out-of-range index") {
    m.cells[4] = 99;
    CHECK_THROWS_WITH(mesh::validate(m, "t"), Catch::Contains("cell 1 references node 99, but the mesh has 9 nodes"));
    // orient_consistently, which the readers call before validate, leaves such a mesh alone
    // instead of reading coordinates out of bounds (a dataset's cells once crashed tessera-train).
    m.cells[4] = 1 << 30;
    CHECK_FALSE(mesh::orient_consistently(m));
    m.cells[4] = -1;
    CHECK_FALSE(mesh::orient_consistently(m));
    m.cell_type = mesh::CellType::Tetrahedron;  // 3D cells on 2D coordinates
    m.cells.resize(m.cells.size() / 4 * 4);
    CHECK_FALSE(mesh::orient_consistently(m));
  }
  SECTION("the same cell twice") {
    m.cells.insert(m.cells.end(), {m.cells[4], m.cells[3], m.cells[5]});  // cell 1, its nodes in another order
    CHECK_THROWS_WITH(mesh::validate(m, "t"), Catch::Contains("t: cells 1 and 8 are the same cell (the same nodes)"));
  }
  SECTION("inverted cell") {
    std::swap(m.cells[3], m.cells[4]);
    CHECK_THROWS_WITH(mesh::validate(m, "t"), Catch::Contains("cell 1 is inverted"));
  }
  SECTION("degenerate cell") {
    m.coords[2 * 4] = 0.5;  // node 4 onto the segment 0-1: cell 0 = (0,0) (1,0) (0.5,0)
    m.coords[2 * 4 + 1] = 0.0;
    CHECK_THROWS_WITH(mesh::validate(m, "t"), Catch::Contains("t: cell 0 is degenerate"));
  }
  SECTION("repeated node in a cell") {
    m.cells[1] = m.cells[0];
    CHECK_THROWS_WITH(mesh::validate(m, "t"), Catch::Contains("cell 0 is degenerate: node 0 appears twice"));
  }
  SECTION("duplicate nodes") {
    m.coords.insert(m.coords.end(), {1.0, 1.0});  // node 9: a copy of node 4
    m.cells[2] = 9;                               // cell 0 = (0, 1, 9)
    CHECK_THROWS_WITH(mesh::validate(m, "t"), Catch::Contains("nodes 4 and 9 are duplicates"));
  }
  SECTION("unreferenced node") {
    m.coords.insert(m.coords.end(), {5.0, 5.0});
    CHECK_THROWS_WITH(mesh::validate(m, "t"), Catch::Contains("node 9 is not referenced by any cell"));
  }
  SECTION("bad node type") {
    m.node_type[3] = 2;
    CHECK_THROWS_WITH(mesh::validate(m, "t"), Catch::Contains("node 3 has node type 2"));
  }
  SECTION("group out of range") {
    m.groups[0].facets.push_back(42);
    CHECK_THROWS_WITH(mesh::validate(m, "t"), Catch::Contains("'left' references node 42"));
  }
  SECTION("empty") {
    mesh::Mesh e;
    CHECK_THROWS_WITH(mesh::validate(e, "t"), Catch::Contains("mesh is empty"));
  }
}

TEST_CASE("consistent mis-orientation is flipped, mixed is not", "[validation]") {
  mesh::Mesh m = test::grid_mesh(2, 2);
  for (int64_t c = 0; c < m.num_cells(); ++c) std::swap(m.cells[3 * c + 1], m.cells[3 * c + 2]);
  CHECK(mesh::orient_consistently(m));
  CHECK_NOTHROW(mesh::validate(m));
  std::swap(m.cells[1], m.cells[2]);
  CHECK_FALSE(mesh::orient_consistently(m));
  CHECK_THROWS_WITH(mesh::validate(m), Catch::Contains("inverted"));
}

TEST_CASE("mean edge length: triangles and a tetrahedron against their side lengths", "[mesh]") {
  // Each triangle of the grid has the legs dx, dy and the diagonal.
  const mesh::Mesh g = mesh::rectangle_grid(12, 4, 2.0, 0.5);
  const double dx = 2.0 / 12, dy = 0.5 / 4;
  CHECK(mesh::mean_edge_length(g) == Approx((dx + dy + std::hypot(dx, dy)) / 3).epsilon(1e-14));
  mesh::Mesh scaled = g;  // the same mesh in millimetres
  for (double& x : scaled.coords) x *= 1000;
  CHECK(mesh::mean_edge_length(scaled) == Approx(1000 * mesh::mean_edge_length(g)).epsilon(1e-14));
  mesh::Mesh tet;
  tet.dim = 3;
  tet.cell_type = mesh::CellType::Tetrahedron;
  tet.coords = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  tet.cells = {0, 1, 2, 3};
  CHECK(mesh::mean_edge_length(tet) == Approx((3 + 3 * std::sqrt(2.0)) / 6).epsilon(1e-14));
}

TEST_CASE("node types from groups; highest code wins at corners", "[mesh]") {
  mesh::Mesh m = test::grid_mesh(2, 2);
  mesh::assign_node_types(m, {{"left", mesh::kInflow}, {"bottom", mesh::kWall}});
  CHECK(m.node_type[0] == mesh::kWall);  // corner: in both groups
  CHECK(m.node_type[3] == mesh::kInflow);
  CHECK(m.node_type[1] == mesh::kWall);
  CHECK(m.node_type[4] == mesh::kNormal);
  auto counts = mesh::node_type_counts(m);
  CHECK(counts[mesh::kWall] == 3);
  CHECK(counts[mesh::kInflow] == 2);
  CHECK_THROWS_WITH(mesh::assign_node_types(m, {{"nope", 4}}),
                    Catch::Contains("'nope' is not in the mesh (it has: left, right, bottom, top)"));
  m.domain_name = "fluid";
  CHECK_THROWS_WITH(mesh::assign_node_types(m, {{"fluid", mesh::kWall}}),
                    Catch::Contains("'fluid' is the mesh's cells (the domain), not a boundary group (boundary groups: "
                                    "left, right, bottom, top)"));
}

TEST_CASE("a mesh as bytes and back keeps every member; short bytes are refused", "[mesh]") {
  // read_msh hands its mesh from the reading child process this way: a member left out would come
  // back at its default without a word (the cells' group name "fluid" as "domain").
  mesh::Mesh m = test::grid_mesh(3, 2);
  mesh::assign_node_types(m, {{"left", mesh::kInflow}, {"bottom", mesh::kWall}});
  m.domain_name = "fluid";
  mesh::Mesh tet;  // 3D cells and an empty group
  tet.dim = 3;
  tet.cell_type = mesh::CellType::Tetrahedron;
  tet.coords = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1.5};
  tet.cells = {0, 1, 2, 3};
  tet.node_type = {0, 0, 0, 0};
  tet.groups = {{"faces", 2, {0, 1, 2}}, {"none", 2, {}}};
  for (const mesh::Mesh& original : {m, tet}) {
    const std::string bytes = mesh::mesh_bytes(original);
    const mesh::Mesh back = mesh::mesh_from_bytes(bytes);
    CHECK(back.dim == original.dim);
    CHECK(back.cell_type == original.cell_type);
    CHECK(back.coords == original.coords);
    CHECK(back.cells == original.cells);
    CHECK(back.node_type == original.node_type);
    CHECK(back.domain_name == original.domain_name);
    REQUIRE(back.groups.size() == original.groups.size());
    for (size_t g = 0; g < back.groups.size(); ++g) {
      CHECK(back.groups[g].name == original.groups[g].name);
      CHECK(back.groups[g].dim == original.groups[g].dim);
      CHECK(back.groups[g].facets == original.groups[g].facets);
    }
    CHECK_THROWS_WITH(mesh::mesh_from_bytes(bytes.substr(0, bytes.size() - 3)), Catch::Contains("truncated"));
  }
}

TEST_CASE("boundary nodes of quads and tetrahedra: on a facet of one cell", "[mesh]") {
  // 2 x 2 quads: the middle node is the only interior one.
  mesh::Mesh q;
  q.cell_type = mesh::CellType::Quad;
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 3; ++i) q.coords.insert(q.coords.end(), {double(i), double(j)});
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 2; ++i) {
      const int64_t a = j * 3 + i;
      q.cells.insert(q.cells.end(), {a, a + 1, a + 4, a + 3});
    }
  std::vector<char> on = mesh::boundary_nodes(q);
  for (int v = 0; v < 9; ++v) CHECK(on[v] == (v == 4 ? 0 : 1));
  // An octahedron of 8 tetrahedra around its centre (node 6): the centre is interior.
  mesh::Mesh t;
  t.dim = 3;
  t.cell_type = mesh::CellType::Tetrahedron;
  t.coords = {1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0};
  for (int64_t x : {0, 1})
    for (int64_t y : {2, 3})
      for (int64_t z : {4, 5}) t.cells.insert(t.cells.end(), {x, y, z, 6});
  on = mesh::boundary_nodes(t);
  for (int v = 0; v < 7; ++v) CHECK(on[v] == (v == 6 ? 0 : 1));
}
