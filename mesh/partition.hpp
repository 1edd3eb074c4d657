// Graph partitioning for distributed models (docs/references.md §5): METIS k-way partitions of the
// graph nodes, and each rank's local view: its owned nodes plus a halo, with local numbering and
// the send/receive lists a halo exchange needs. Partitioning with a halo keeps every edge, so
// distributed message passing and attention equal the single-process result (without a halo,
// Cluster-GCN style, cross-partition edges would be dropped).
#pragma once
#include <cstdint>
#include <vector>

#include "mesh/graph.hpp"

namespace tessera::mesh {

// Part id (0..parts-1) of every node: METIS k-way (edge-cut minimising), deterministic for a
// seed; optional node weights balance work instead of node counts. parts == 1: all zeros.
std::vector<int32_t> partition_nodes(const Graph& g, int parts, const std::vector<int64_t>& node_weights = {},
                                     int seed = 0);

struct PartitionStats {
  int64_t edge_cut = 0;              // undirected edges whose ends are in different parts
  double imbalance = 0;              // max part size / mean part size
  double halo_fraction = 0;          // 1-hop halo nodes / owned nodes, summed over parts
  std::vector<int64_t> owned, halo;  // per part
};
PartitionStats partition_stats(const Graph& g, const std::vector<int32_t>& part, int parts);

// One rank's part of the graph. Local node ids: owned nodes first (ascending global id), then
// halo nodes (ascending hop distance, then global id). `graph` holds the edges, in local ids,
// that the rank evaluates: all incoming edges of nodes within halo_hops - 1 hops of the owned
// set, so that after k rounds of message passing (k <= halo_hops) without exchange the nodes
// within halo_hops - k hops, owned ones included, are exact.
struct LocalGraph {
  int rank = 0, parts = 1, halo_hops = 1;
  std::vector<int64_t> global_ids;  // local -> global
  std::vector<int> hops;            // local -> hop distance from the owned set (0: owned)
  int64_t num_owned = 0;
  Graph graph;
  // Halo exchange lists, indexed by peer rank: send[p] are owned local ids whose values rank p
  // holds as halo, in the order p expects them (ascending global id); recv[p] are this rank's
  // halo local ids owned by p, in the same order.
  std::vector<std::vector<int64_t>> send, recv;
  int64_t num_local() const { return static_cast<int64_t>(global_ids.size()); }
};
LocalGraph local_graph(const Graph& g, const std::vector<int32_t>& part, int parts, int rank, int halo_hops = 1);

// The edges of `sub` (a graph over the same global nodes as the partitioned one, e.g. one of
// several attention masks whose union was partitioned) that `local` evaluates, in local ids:
// edges whose destination lies within local.halo_hops - 1 hops and whose source is local.
Graph restrict_to_local(const Graph& sub, const LocalGraph& local);

}  // namespace tessera::mesh
