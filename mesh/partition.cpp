#include "mesh/partition.hpp"

#include <algorithm>
#include <map>

#include "core/error.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_METIS
#include <metis.h>

#include "core/kept_signal_dispositions.hpp"
#endif

namespace tessera::mesh {

std::vector<int32_t> partition_nodes(const Graph& g, int parts, const std::vector<int64_t>& weights, int seed) {
  if (parts < 1) throw Error(cat("partition: need at least 1 part, got ", parts));
  if (parts > g.num_nodes) throw Error(cat("partition: ", parts, " parts for ", g.num_nodes, " nodes"));
  if (!weights.empty() && static_cast<int64_t>(weights.size()) != g.num_nodes)
    throw Error(cat("partition: ", weights.size(), " node weights for ", g.num_nodes, " nodes"));
  std::vector<int32_t> part(g.num_nodes, 0);
  if (parts == 1) return part;
#if TESSERA_HAVE_METIS
  if (!g.is_symmetric()) throw Error("partition: METIS needs a symmetric graph");
  // METIS wants CSR adjacency; the graph's CSR by destination of a symmetric graph is one.
  std::vector<idx_t> xadj(g.row_ptr.begin(), g.row_ptr.end()), adjncy(g.src.begin(), g.src.end());
  std::vector<idx_t> vwgt(weights.begin(), weights.end()), out(g.num_nodes);
  idx_t n = static_cast<idx_t>(g.num_nodes), ncon = 1, np = parts, objval = 0;
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = seed;
  options[METIS_OPTION_NUMBERING] = 0;
  const core::KeptSignalDispositions keep;  // GKlib replaces the SIGTERM and SIGABRT handlers
  int rc = METIS_PartGraphKway(&n, &ncon, xadj.data(), adjncy.data(), vwgt.empty() ? nullptr : vwgt.data(), nullptr,
                               nullptr, &np, nullptr, nullptr, options, &objval, out.data());
  // METIS takes SIGTERM for its own error handling while it runs: a signal then ends the call
  // with METIS_ERROR, not the interrupt line.
  if (rc != METIS_OK)
    throw Error(
        cat("partition: METIS failed (code ", rc, ")",
            rc == METIS_ERROR ? " (or a SIGTERM arrived while it ran, which METIS takes as its own error)" : ""));
  for (int64_t i = 0; i < g.num_nodes; ++i) part[i] = static_cast<int32_t>(out[i]);
  return part;
#else
  (void)seed;
  throw Error("partition: this build has no METIS (TESSERA_WITH_METIS=OFF)");
#endif
}

PartitionStats partition_stats(const Graph& g, const std::vector<int32_t>& part, int parts) {
  PartitionStats s;
  s.owned.assign(parts, 0);
  s.halo.assign(parts, 0);
  for (int32_t p : part) ++s.owned[p];
  for (int64_t e = 0; e < g.num_edges(); ++e)
    if (part[g.src[e]] != part[g.dst[e]] && g.src[e] < g.dst[e]) ++s.edge_cut;
  // 1-hop halo of part p: nodes of other parts with an edge into p.
  std::vector<int32_t> seen(g.num_nodes, -1);
  for (int p = 0; p < parts; ++p)
    for (int64_t e = 0; e < g.num_edges(); ++e)
      if (part[g.dst[e]] == p && part[g.src[e]] != p && seen[g.src[e]] != p) seen[g.src[e]] = p, ++s.halo[p];
  int64_t total_halo = 0;
  for (int p = 0; p < parts; ++p) total_halo += s.halo[p];
  s.imbalance = double(*std::max_element(s.owned.begin(), s.owned.end())) * parts / double(g.num_nodes);
  s.halo_fraction = double(total_halo) / double(g.num_nodes);
  return s;
}

namespace {

// Hop distance of every node from the nodes of part p, along incoming edges (a node's value
// depends on the sources of its incoming edges), up to max_hops; -1 beyond.
std::vector<int> hops_from_part(const Graph& g, const std::vector<int32_t>& part, int p, int max_hops) {
  std::vector<int> dist(g.num_nodes, -1);
  std::vector<int64_t> frontier;
  for (int64_t i = 0; i < g.num_nodes; ++i)
    if (part[i] == p) dist[i] = 0, frontier.push_back(i);
  for (int d = 1; d <= max_hops; ++d) {
    std::vector<int64_t> next;
    for (int64_t u : frontier)
      for (int64_t e = g.row_ptr[u]; e < g.row_ptr[u + 1]; ++e)
        if (dist[g.src[e]] < 0) dist[g.src[e]] = d, next.push_back(g.src[e]);
    frontier.swap(next);
  }
  return dist;
}

}  // namespace

LocalGraph local_graph(const Graph& g, const std::vector<int32_t>& part, int parts, int rank, int halo_hops) {
  if (halo_hops < 1) throw Error(cat("local_graph: halo hops must be >= 1, got ", halo_hops));
  if (static_cast<int64_t>(part.size()) != g.num_nodes)
    throw Error("local_graph: partition size differs from the graph");
  LocalGraph l;
  l.rank = rank;
  l.parts = parts;
  l.halo_hops = halo_hops;
  // Local numbering: by (hop distance, global id), so owned nodes come first.
  const std::vector<int> dist = hops_from_part(g, part, rank, halo_hops);
  std::vector<std::pair<int, int64_t>> order;
  for (int64_t i = 0; i < g.num_nodes; ++i)
    if (dist[i] >= 0) order.emplace_back(dist[i], i);
  std::sort(order.begin(), order.end());
  std::map<int64_t, int64_t> local;
  for (auto [d, v] : order) {
    local[v] = l.num_local();
    l.global_ids.push_back(v);
    l.hops.push_back(d);
    l.num_owned += d == 0;
  }
  l.graph = restrict_to_local(g, l);
  // Exchange lists: halo node h (owned by p) is received from p; p sends it. Both sides order
  // by (hop distance from the receiver's part, global id), so the lists match without
  // communication.
  l.send.assign(parts, {});
  l.recv.assign(parts, {});
  for (int64_t k = l.num_owned; k < l.num_local(); ++k) l.recv[part[l.global_ids[k]]].push_back(k);
  for (int p = 0; p < parts; ++p) {
    if (p == rank) continue;
    // Nodes of this rank that p holds as halo: those within halo_hops of p's owned set.
    const std::vector<int> dp = hops_from_part(g, part, p, halo_hops);
    std::vector<std::pair<int, int64_t>> theirs;
    for (int64_t k = 0; k < l.num_owned; ++k)
      if (dp[l.global_ids[k]] > 0) theirs.emplace_back(dp[l.global_ids[k]], l.global_ids[k]);
    std::sort(theirs.begin(), theirs.end());
    for (auto [d, v] : theirs) l.send[p].push_back(local.at(v));
  }
  return l;
}

Graph restrict_to_local(const Graph& sub, const LocalGraph& l) {
  std::map<int64_t, int64_t> local;
  for (int64_t k = 0; k < l.num_local(); ++k) local[l.global_ids[k]] = k;
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t k = 0; k < l.num_local(); ++k) {
    if (l.hops[k] >= l.halo_hops) continue;
    const int64_t v = l.global_ids[k];
    for (int64_t e = sub.row_ptr[v]; e < sub.row_ptr[v + 1]; ++e) {
      auto it = local.find(sub.src[e]);
      if (it == local.end())
        throw Error(
            cat("restrict_to_local: edge ", sub.src[e], " -> ", v, " leaves the halo; partition the union graph"));
      pairs.emplace_back(it->second, k);
    }
  }
  return graph_from_pairs(l.num_local(), std::move(pairs), false);
}

}  // namespace tessera::mesh
