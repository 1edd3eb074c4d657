#include "io/planetoid.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "core/error.hpp"
#include "io/h5.hpp"

namespace tessera::io {

NodeDataset read_planetoid(const std::string& path) {
  H5File f = H5File::open_read(path);
  for (const char* name : {"x", "y", "edge_index", "train_mask", "val_mask", "test_mask"})
    if (!f.exists(name)) throw Error(cat(path, ": dataset '", name, "' missing (planetoid layout)"));
  NodeDataset d;
  d.name = std::filesystem::path(path).stem().string();
  std::vector<hsize_t> dims;
  d.x = f.read<float>("x", &dims);
  if (dims.size() != 2) throw Error(cat(path, ": x must be [nodes, features]"));
  d.num_nodes = static_cast<int64_t>(dims[0]);
  d.num_features = static_cast<int64_t>(dims[1]);
  if (d.num_nodes < 1 || d.num_features < 1)
    throw Error(
        cat(path, ": x is [", d.num_nodes, ", ", d.num_features, "]; expected at least one node and one feature"));
  // A non-finite feature would surface only as a diverged loss, naming neither file nor node.
  for (size_t i = 0; i < d.x.size(); ++i)
    if (!std::isfinite(d.x[i]))
      throw Error(cat(path, ": x holds ", d.x[i], " at node ", int64_t(i) / d.num_features, ", feature ",
                      int64_t(i) % d.num_features, "; expected finite features"));  // x has values: features > 0
  // Read as numbers, whatever their stored type: HDF5's conversion of a float y to integers
  // truncated 3.5 to 3 without a word (a review found it, 2026-12-07).
  const std::vector<double> y = f.read<double>("y", &dims);
  if (dims.size() != 1 || static_cast<int64_t>(dims[0]) != d.num_nodes)
    throw Error(cat(path, ": y must be [", d.num_nodes, "]"));
  for (size_t i = 0; i < y.size(); ++i)
    if (!(std::floor(y[i]) == y[i]) || std::abs(y[i]) > 9.0e15)
      throw Error(cat(path, ": y holds ", y[i], " at node ", i, "; expected whole class indices (or -1)"));
  d.y.assign(y.begin(), y.end());
  // Labels are class indices: at most one class per node (a damaged file held 2^63 - 1, found by
  // fuzz_planetoid, and the class count label + 1 overflowed); -1 marks an unlabelled node, which
  // no mask may select (checked below).
  for (int64_t v : d.y)
    if (v < -1 || v >= std::max<int64_t>(d.num_nodes, 1))
      throw Error(cat(path, ": y holds label ", v, "; expected class indices 0 to ", d.num_nodes - 1,
                      ", or -1 for an unlabelled node"));
  d.num_classes = d.y.empty() ? 0 : *std::max_element(d.y.begin(), d.y.end()) + 1;
  // The file's own class count, where it has one (PyTorch Geometric's exports, ../shared's Cora):
  // a class no node is labelled with still gets its output (the count from y alone drops it).
  if (const auto names = f.attr_names("/"); std::find(names.begin(), names.end(), "num_classes") != names.end()) {
    const std::string text = f.read_attr("/", "num_classes");
    char* end = nullptr;
    const double k = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(k >= 1) || std::floor(k) != k || k > double(d.num_nodes))
      throw Error(cat(path, ": attribute num_classes is '", text, "'; expected a whole number from 1 to ", d.num_nodes,
                      " (the nodes)"));
    if (int64_t(k) < d.num_classes)
      throw Error(cat(path, ": attribute num_classes is ", int64_t(k), ", but y holds label ", d.num_classes - 1,
                      "; expected labels 0 to ", int64_t(k) - 1));
    d.num_classes = int64_t(k);
  }
  const std::vector<int64_t> ei = f.read<int64_t>("edge_index", &dims);
  if (dims.size() != 2 || dims[0] != 2) throw Error(cat(path, ": edge_index must be [2, edges]"));
  const int64_t e = static_cast<int64_t>(dims[1]);
  std::vector<std::pair<int64_t, int64_t>> pairs;
  pairs.reserve(e);
  for (int64_t k = 0; k < e; ++k) {
    const int64_t s = ei[k], t = ei[e + k];
    if (s < 0 || t < 0 || s >= d.num_nodes || t >= d.num_nodes) {
      const int64_t bad = (s < 0 || s >= d.num_nodes) ? s : t;
      throw Error(
          cat(path, ": edge_index column ", k, " holds node ", bad, "; expected node indices 0 to ", d.num_nodes - 1));
    }
    if (s != t) pairs.emplace_back(s, t);
  }
  d.graph = mesh::graph_from_pairs(d.num_nodes, std::move(pairs), true);
  for (auto [name, mask] : {std::pair{"train_mask", &d.train_mask}, std::pair{"val_mask", &d.val_mask},
                            std::pair{"test_mask", &d.test_mask}}) {
    *mask = f.read<uint8_t>(name, &dims);
    if (dims.size() != 1 || static_cast<int64_t>(dims[0]) != d.num_nodes)
      throw Error(cat(path, ": ", name, " must be [", d.num_nodes, "]"));
    // An empty split scored accuracy 0 and loss 0 (the best validation loss, for an empty one).
    if (std::none_of(mask->begin(), mask->end(), [](uint8_t m) { return m != 0; }))
      throw Error(cat(path, ": ", name, " selects no node; training needs training, validation and test nodes"));
    for (int64_t i = 0; i < d.num_nodes; ++i)
      if ((*mask)[i] && d.y[i] < 0)
        throw Error(cat(path, ": ", name, " selects node ", i, ", which is unlabelled (y = -1)"));
  }
  return d;
}

void normalize_rows(NodeDataset& d) {
  for (int64_t i = 0; i < d.num_nodes; ++i) {
    float* row = d.x.data() + i * d.num_features;
    double sum = 0;
    for (int64_t f = 0; f < d.num_features; ++f) sum += row[f];
    if (sum > 0)
      for (int64_t f = 0; f < d.num_features; ++f) row[f] = static_cast<float>(row[f] / sum);
  }
}

}  // namespace tessera::io
