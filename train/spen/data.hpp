// The graphs of a classification run, prepared once for every fold: subgraphs (k-hop
// ego-networks for spen, the whole graph for ign, none for gin), node and pair input features,
// edges; stratified folds; and batches of them as gnn::GraphBatch.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "gnn/graph_classifier.hpp"
#include "io/tu_dataset.hpp"
#include "mesh/ego_network.hpp"
#include "train/spen/options.hpp"

namespace tessera::train::spen {

struct PreparedGraph {
  mesh::SubgraphSet subgraphs;
  at::Tensor node_x, pair_x;                       // [n, Cn], [P, Cp] (fp32)
  std::vector<std::pair<int64_t, int64_t>> edges;  // both directions
  int64_t label = 0;
};

struct PreparedData {
  std::string name;
  std::vector<PreparedGraph> graphs;
  int64_t num_classes = 0, node_in = 0, pair_in = 0;
  std::vector<int64_t> own_sizes;  // subgraph sizes with their own weights
};

// The dataset the options name (TU folder or CSL).
io::TuDataset load_dataset(const GraphClassifierOptions& options);
// Features and subgraphs for the options' family. Pair features: adjacency, one-hot edge label,
// diagonal indicator, one-hot node label on the diagonal; node features: one-hot node label, or
// a constant 1 (options.constant_features or no labels).
PreparedData prepare(const io::TuDataset& data, const GraphClassifierOptions& options);

// A fingerprint of the prepared graphs ("188 graphs, fingerprint 0123abcd..."): their sizes,
// edges, labels and input features, in order. Fold checkpoints store it, so that a resume or an
// evaluation on a dataset that changed since (graphs added, reordered, relabelled), whose folds
// would deal training graphs into the test set, is refused.
std::string data_fingerprint(const PreparedData& data);

// Stratified k-fold split: each class's graphs shuffled with `seed` and dealt round-robin to the
// folds. Returns the test indices of every fold (k = 1: one fold holding every graph).
std::vector<std::vector<int64_t>> stratified_folds(const std::vector<int64_t>& labels, int64_t k, uint64_t seed);

// The batch of `graphs` (indices into data.graphs), in the given order, as tensors of `dtype`.
gnn::GraphBatch make_batch(const PreparedData& data, const std::vector<int64_t>& graphs,
                           at::ScalarType dtype = at::kFloat);

}  // namespace tessera::train::spen
