// Node-classification datasets on one graph (docs/references.md, "Datasets": Cora): node
// features, labels, a directed edge list holding both directions of every undirected edge, and
// train/validation/test masks. read_planetoid reads the HDF5 layout of data/cora/cora.h5 (names
// after PyTorch Geometric's `Data`); io/csbm.hpp generates the same structure at any size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mesh/graph.hpp"

namespace tessera::io {

struct NodeDataset {
  std::string name;
  int64_t num_nodes = 0, num_features = 0, num_classes = 0;
  std::vector<float> x;                                  // [num_nodes, num_features], row-major
  std::vector<int64_t> y;                                // [num_nodes], 0 .. num_classes - 1
  mesh::Graph graph;                                     // directed, symmetric, no self loops
  std::vector<uint8_t> train_mask, val_mask, test_mask;  // [num_nodes], 0/1
};

// Reads `x`, `y`, `edge_index` (row 0 source, row 1 target), `train_mask`, `val_mask`,
// `test_mask`; checks shapes and ranges (Error naming the file and dataset otherwise).
NodeDataset read_planetoid(const std::string& path);

// Scales each row of x to sum 1 (the usual preprocessing of bag-of-words features); rows whose
// sum is not positive are left unchanged.
void normalize_rows(NodeDataset& data);

}  // namespace tessera::io
