// Contextual stochastic block model (Deshpande et al., NeurIPS 2018; docs/references.md,
// "Datasets": CSBM): a node-classification graph of any size. Labels are uniform over the
// classes; each undirected edge joins a uniformly drawn node to a node of its own class with
// probability `homophily`, else to a node of another class; features are Gaussian around a class
// mean (unit-norm random directions scaled by `signal`) with unit variance per feature. Split:
// `train_per_class` training nodes per class, then `val` and `test` nodes, drawn at random.
// Deterministic for a seed (std::mt19937_64 with our own bounded mappings).
#pragma once
#include <cstdint>

#include "io/planetoid.hpp"

namespace tessera::io {

struct CsbmOptions {
  int64_t classes = 4, nodes = 1000, features = 32;
  double average_degree = 10;  // directed edges per node (both directions of each undirected one)
  double homophily = 0.8;      // probability that an edge joins two nodes of one class
  double signal = 1.0;         // distance of the class means from the origin
  int64_t train_per_class = 20, val = 500, test = 1000;
  uint64_t seed = 0;
};

NodeDataset make_csbm(const CsbmOptions& options);

}  // namespace tessera::io
