// Graph-classification datasets in the TU text format (Morris et al., "TUDataset", 2020;
// docs/references.md, Datasets): <dir>/<NAME>_A.txt (one "i, j" line per directed edge, 1-based
// global node ids), <NAME>_graph_indicator.txt (graph id of each node, 1-based, ascending),
// <NAME>_graph_labels.txt (one per graph), and where present <NAME>_node_labels.txt,
// <NAME>_edge_labels.txt (one per line of _A) and <NAME>_node_attributes.txt (comma-separated
// numbers per node). Malformed files stop with one line: the file, its line number and what was
// expected.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mesh/ego_network.hpp"

namespace tessera::io {

struct LabelledGraph {
  mesh::SimpleGraph graph;
  std::vector<int64_t> node_labels;                            // dense 0..L-1 (empty: the file is absent)
  std::map<std::pair<int64_t, int64_t>, int64_t> edge_labels;  // both directions, dense 0..E-1
  std::vector<std::vector<double>> node_attributes;            // empty: absent
  int64_t label = 0;                                           // class, dense 0..C-1
};

struct TuDataset {
  std::string name;
  std::vector<LabelledGraph> graphs;
  std::vector<std::string> class_names;  // the file's label of class c (sorted numerically)
  int64_t num_node_labels = 0, num_edge_labels = 0, num_node_attributes = 0;
  // The files' label values of the dense ids (node label d is node_label_values[d]), ascending: how
  // another dataset's labels are matched to these (a trained model's one-hot inputs).
  std::vector<int64_t> node_label_values, edge_label_values;
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
};

// Reads <dir>/<name>_*.txt; `name` defaults to the directory's last component.
TuDataset read_tu_dataset(const std::string& dir, const std::string& name = "");

}  // namespace tessera::io
