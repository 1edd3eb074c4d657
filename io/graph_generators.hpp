// Synthetic graph datasets with exact published definitions (docs/references.md, Datasets):
// CSL, circular skip links (Murphy et al., ICML 2019), and random graphs with exact triangle and
// 4-cycle counts (substructure counting, Chen et al., NeurIPS 2020). Reproducible from a seed on
// every platform (std::mt19937_64 with our own bounded mapping).
#pragma once
#include <cstdint>
#include <vector>

#include "io/tu_dataset.hpp"

namespace tessera::io {

// The 10 skip lengths of CSL.
const std::vector<int64_t>& csl_skips();
// CSL: for each skip R (class c = its index in csl_skips()), `per_class` graphs: the 41-cycle plus
// the skip edges i <-> i + R (mod 41), nodes randomly relabelled. No node labels (constant
// features). Graphs are ordered class by class.
TuDataset make_csl(int64_t per_class, uint64_t seed);

// Exact counts of triangles and of 4-cycles (cycles of length 4 as subgraphs, not necessarily
// induced).
int64_t count_triangles(const mesh::SimpleGraph& g);
int64_t count_four_cycles(const mesh::SimpleGraph& g);

struct CountingGraph {
  mesh::SimpleGraph graph;
  int64_t triangles = 0, four_cycles = 0;
};
// `count` Erdős–Rényi graphs with n uniform in [min_nodes, max_nodes] and edge probability p,
// with their exact counts (regression targets).
std::vector<CountingGraph> make_counting_graphs(int64_t count, int64_t min_nodes, int64_t max_nodes, double p,
                                                uint64_t seed);

// A uniform integer in [0, n) from a 64-bit generator output (Lemire's multiply-shift; the same
// on every platform, unlike std::uniform_int_distribution).
uint64_t bounded(uint64_t random64, uint64_t n);

}  // namespace tessera::io
