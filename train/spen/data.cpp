#include "train/spen/data.hpp"

#include <ATen/ATen.h>

#include <cstdio>
#include <map>
#include <random>

#include "core/error.hpp"
#include "io/graph_generators.hpp"

namespace tessera::train::spen {

io::TuDataset load_dataset(const GraphClassifierOptions& o) {
  if (o.source == "csl") return io::make_csl(o.csl_per_class, static_cast<uint64_t>(o.csl_seed));
  // A file of the folder that is missing or damaged: the folder's key.
  return with_key("spen.data.tu_dir", [&] { return io::read_tu_dataset(o.tu_dir); });
}

PreparedData prepare(const io::TuDataset& ds, const GraphClassifierOptions& o) {
  PreparedData p;
  p.name = ds.name;
  p.num_classes = ds.num_classes();
  // A TU folder without its node labels, read with node_features: labels, trained on constant
  // features without a word while its checkpoint said labels (a review found it, 2026-12-07).
  if (!o.constant_features && o.source == "tu" && ds.num_node_labels == 0)
    throw Error(cat(o.tu_dir, ": has no node labels (", ds.name,
                    "_node_labels.txt), and spen.data.node_features is labels; train on the graphs' structure alone "
                    "with spen.data.node_features: constant"),
                "spen.data.node_features");
  const bool labels = !o.constant_features && ds.num_node_labels > 0;
  const bool edge_labels = !o.constant_features && ds.num_edge_labels > 0;
  const int64_t L = labels ? ds.num_node_labels : 0, E = edge_labels ? ds.num_edge_labels : 0;
  p.node_in = labels ? L : 1;
  p.pair_in = 1 + E + 1 + L;
  std::map<int64_t, int64_t> size_count;
  for (const io::LabelledGraph& lg : ds.graphs) {
    PreparedGraph g;
    g.label = lg.label;
    const mesh::SimpleGraph& sg = lg.graph;
    const int64_t n = sg.num_nodes;
    if (o.family == "spen")
      g.subgraphs = mesh::ego_networks(sg, static_cast<int>(o.hops));
    else if (o.family == "ign")
      g.subgraphs = mesh::whole_graph(sg);
    else
      g.subgraphs.num_nodes = n;  // GIN: no subgraphs
    for (const auto& nodes : g.subgraphs.nodes) ++size_count[static_cast<int64_t>(nodes.size())];
    g.node_x = labels ? at::zeros({n, L}) : at::ones({n, 1});
    if (labels)
      for (int64_t v = 0; v < n; ++v) g.node_x[v][lg.node_labels[v]] = 1.0;
    const int64_t P = static_cast<int64_t>(g.subgraphs.pairs.size());
    std::vector<float> px(P * p.pair_in, 0.0f);
    for (int64_t k = 0; k < P; ++k) {
      const auto [u, v] = g.subgraphs.pairs[k];
      float* row = px.data() + k * p.pair_in;
      if (u == v) {
        row[1 + E] = 1.0f;
        if (labels) row[2 + E + lg.node_labels[u]] = 1.0f;
      } else if (sg.has_edge(u, v)) {
        row[0] = 1.0f;
        if (edge_labels) row[1 + lg.edge_labels.at({u, v})] = 1.0f;
      }
    }
    g.pair_x = at::tensor(px, at::kFloat).view({P, p.pair_in});
    for (int64_t u = 0; u < n; ++u)
      for (int64_t v : sg.neighbours[u]) g.edges.emplace_back(u, v);
    p.graphs.push_back(std::move(g));
  }
  for (const auto& [m, count] : size_count)
    if (count >= o.rare_threshold) p.own_sizes.push_back(m);
  return p;
}

std::string data_fingerprint(const PreparedData& data) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bits
  auto mix = [&](const void* bytes, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const unsigned char*>(bytes)[i]) * 1099511628211ull;
  };
  auto mix_value = [&](int64_t v) { mix(&v, sizeof v); };
  for (const PreparedGraph& g : data.graphs) {
    mix_value(g.subgraphs.num_nodes);
    mix_value(g.label);
    mix_value(static_cast<int64_t>(g.edges.size()));
    for (const auto& [u, v] : g.edges) mix_value(u * (g.subgraphs.num_nodes + 1) + v);
    const at::Tensor x = g.node_x.to(at::kFloat).contiguous();
    mix(x.data_ptr<float>(), static_cast<size_t>(x.numel()) * sizeof(float));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return cat(data.graphs.size(), " graphs, fingerprint ", hex);
}

std::vector<std::vector<int64_t>> stratified_folds(const std::vector<int64_t>& labels, int64_t k, uint64_t seed) {
  if (k < 1) throw Error(cat("folds: expected k >= 1, got ", k));
  std::map<int64_t, std::vector<int64_t>> by_class;
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(static_cast<int64_t>(i));
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int64_t>> folds(k);
  int64_t next = 0;  // continue dealing where the previous class stopped, so fold sizes stay even
  for (auto& [label, idx] : by_class) {
    for (int64_t i = static_cast<int64_t>(idx.size()) - 1; i > 0; --i)
      std::swap(idx[i], idx[io::bounded(rng(), static_cast<uint64_t>(i + 1))]);
    for (int64_t i : idx) folds[next++ % k].push_back(i);
  }
  for (auto& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

gnn::GraphBatch make_batch(const PreparedData& data, const std::vector<int64_t>& graphs, at::ScalarType dtype) {
  std::vector<const mesh::SubgraphSet*> sets;
  std::vector<at::Tensor> nx, px;
  std::vector<std::pair<int64_t, int64_t>> edges;
  int64_t offset = 0;
  for (int64_t i : graphs) {
    const PreparedGraph& g = data.graphs.at(i);
    sets.push_back(&g.subgraphs);
    nx.push_back(g.node_x);
    px.push_back(g.pair_x);
    for (const auto& [u, v] : g.edges) edges.emplace_back(u + offset, v + offset);
    offset += g.subgraphs.num_nodes;
  }
  const mesh::SubgraphBatch b = mesh::group_by_size(sets);
  return gnn::make_graph_batch(b, at::cat(nx).to(dtype), at::cat(px).to(dtype), edges);
}

}  // namespace tessera::train::spen
