// Partitioning: METIS parts, statistics, and every rank's local graph and exchange lists,
// checked against the global graph for all ranks in one process.
#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <set>
#include <vector>

#include "core/error.hpp"
#include "mesh/graph.hpp"
#include "mesh/partition.hpp"
#include "tests/mesh_fixtures.hpp"

using namespace tessera;

TEST_CASE("METIS partitions are complete, balanced and deterministic", "[partition]") {
  mesh::Graph g = mesh::mesh_graph(test::irregular_mesh(30, 20, 1));
  for (int parts : {1, 2, 3, 5}) {
    auto part = mesh::partition_nodes(g, parts);
    CHECK(part == mesh::partition_nodes(g, parts));
    auto s = mesh::partition_stats(g, part, parts);
    int64_t total = 0;
    for (auto n : s.owned) {
      total += n;
      CHECK(n > 0);
    }
    CHECK(total == g.num_nodes);
    CHECK(s.imbalance < 1.1);
    int64_t cut = 0;  // independent count over directed edges
    for (int64_t e = 0; e < g.num_edges(); ++e) cut += part[g.src[e]] != part[g.dst[e]];
    CHECK(s.edge_cut * 2 == cut);
    if (parts == 1)
      CHECK(s.edge_cut == 0);
    else
      CHECK(s.edge_cut < g.num_edges() / 2 / 5);  // a real partitioner cuts few edges of a mesh
  }
  CHECK_THROWS_WITH(mesh::partition_nodes(g, 0), Catch::Contains("at least 1 part"));
}

namespace {
extern "C" void ignore_with_info(int, siginfo_t*, void*) {}
}  // namespace

TEST_CASE("a METIS call leaves the SIGTERM and SIGABRT handlers as they were", "[partition]") {
  // GKlib traps both during a call and put the previous handlers back with signal(), dropping
  // SA_SIGINFO: tessera's interrupt handler then read a garbage sender (found under mpirun).
  struct sigaction mine {
  }, before[2]{}, after{};
  mine.sa_sigaction = ignore_with_info;
  mine.sa_flags = SA_SIGINFO;
  sigemptyset(&mine.sa_mask);
  const int signals[2] = {SIGTERM, SIGABRT};
  for (int k = 0; k < 2; ++k) REQUIRE(sigaction(signals[k], &mine, &before[k]) == 0);
  mesh::Graph g = mesh::mesh_graph(test::irregular_mesh(12, 9, 1));
  (void)mesh::partition_nodes(g, 3);
  for (int k = 0; k < 2; ++k) {
    REQUIRE(sigaction(signals[k], &before[k], &after) == 0);  // and put the test's own back
    CHECK((after.sa_flags & SA_SIGINFO) != 0);
    CHECK((after.sa_flags & SA_RESETHAND) == 0);
    CHECK(after.sa_sigaction == ignore_with_info);
  }
}

TEST_CASE("local graphs hold every incoming edge of the nodes they evaluate", "[partition]") {
  mesh::Graph g = mesh::mesh_graph(test::irregular_mesh(12, 9, 2));
  const int parts = 3;
  auto part = mesh::partition_nodes(g, parts);
  for (int hops : {1, 2, 3}) {
    std::vector<mesh::LocalGraph> ls;
    for (int r = 0; r < parts; ++r) ls.push_back(mesh::local_graph(g, part, parts, r, hops));
    std::set<int64_t> owned_all;
    for (const auto& l : ls) {
      INFO("rank " << l.rank << " hops " << hops);
      for (int64_t k = 0; k < l.num_owned; ++k) {
        CHECK(part[l.global_ids[k]] == l.rank);
        owned_all.insert(l.global_ids[k]);
      }
      for (int64_t k = l.num_owned; k < l.num_local(); ++k) CHECK(part[l.global_ids[k]] != l.rank);
      // The local nodes are those within `hops` of the owned set, each with its distance from a
      // breadth-first search over the global graph (symmetric: in-edges reach the neighbours).
      std::vector<int> dist(g.num_nodes, -1);
      std::vector<int64_t> frontier;
      for (int64_t v = 0; v < g.num_nodes; ++v)
        if (part[v] == l.rank) dist[v] = 0, frontier.push_back(v);
      for (int h = 1; h <= hops; ++h) {
        std::vector<int64_t> next;
        for (int64_t v : frontier)
          for (int64_t e = g.row_ptr[v]; e < g.row_ptr[v + 1]; ++e)
            if (dist[g.src[e]] < 0) dist[g.src[e]] = h, next.push_back(g.src[e]);
        frontier = std::move(next);
      }
      REQUIRE(l.hops.size() == l.global_ids.size());
      CHECK(l.num_local() == std::count_if(dist.begin(), dist.end(), [](int d) { return d >= 0; }));
      for (int64_t k = 0; k < l.num_local(); ++k) CHECK(l.hops[k] == dist[l.global_ids[k]]);
      // Every node within hops - 1 of the owned set has all its incoming edges, mapped to the
      // right global pairs.
      for (int64_t k = 0; k < l.num_local(); ++k) {
        if (l.hops[k] >= hops) continue;
        const int64_t v = l.global_ids[k];
        REQUIRE(l.graph.in_degree(k) == g.in_degree(v));
        for (int64_t e = l.graph.row_ptr[k]; e < l.graph.row_ptr[k + 1]; ++e)
          CHECK(g.has_edge(l.global_ids[l.graph.src[e]], v));
      }
      // Exchange lists match the peer's, in global ids and order.
      for (int p = 0; p < parts; ++p) {
        if (p == l.rank) continue;
        std::vector<int64_t> sent, got;
        for (int64_t k : l.send[p]) sent.push_back(l.global_ids[k]);
        for (int64_t k : ls[p].recv[l.rank]) got.push_back(ls[p].global_ids[k]);
        CHECK(sent == got);
      }
    }
    CHECK(int64_t(owned_all.size()) == g.num_nodes);
  }
}
