// The graph of the GNNPipe benches (bench_gnnpipe, bench_gnnpipe_peers): a planetoid HDF5 file,
// or without one a CSBM graph with 8 classes and 64 features (seed 1), so that both benches
// time the same graph for the same options.
#pragma once
#include <cstdint>
#include <string>

#include "io/csbm.hpp"
#include "io/planetoid.hpp"

namespace tessera::bench {

inline io::NodeDataset node_graph(const std::string& file, int64_t csbm_nodes, double csbm_degree) {
  if (!file.empty()) return io::read_planetoid(file);
  io::CsbmOptions c;
  c.nodes = csbm_nodes;
  c.average_degree = csbm_degree;
  c.classes = 8;
  c.features = 64;
  c.seed = 1;
  return io::make_csbm(c);
}

}  // namespace tessera::bench
