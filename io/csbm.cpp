#include "io/csbm.hpp"

#include <cmath>
#include <random>

#include "core/error.hpp"

namespace tessera::io {
namespace {

// Uniform integer in [0, n) and uniform double in [0, 1): our own mappings, portable.
int64_t below(std::mt19937_64& r, int64_t n) { return static_cast<int64_t>(r() % static_cast<uint64_t>(n)); }
double unit(std::mt19937_64& r) { return static_cast<double>(r() >> 11) * 0x1.0p-53; }
double normal(std::mt19937_64& r) {
  const double u1 = 1.0 - unit(r), u2 = unit(r);  // Box-Muller
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace

NodeDataset make_csbm(const CsbmOptions& o) {
  if (o.classes < 2 || o.nodes < o.classes || o.features < 1 || o.average_degree <= 0)
    throw Error(cat("csbm: need classes >= 2, nodes >= classes, features >= 1 and average_degree > 0"));
  if (o.average_degree > static_cast<double>(o.nodes - 1))
    throw Error(cat("csbm: average_degree ", o.average_degree, " exceeds nodes - 1 = ", o.nodes - 1));
  if (o.classes * o.train_per_class + o.val + o.test > o.nodes)
    throw Error(cat("csbm: the split (", o.classes * o.train_per_class + o.val + o.test, " nodes) exceeds ", o.nodes,
                    " nodes"));
  std::mt19937_64 rng(o.seed);
  NodeDataset d;
  d.name = "csbm";
  d.num_nodes = o.nodes;
  d.num_features = o.features;
  d.num_classes = o.classes;
  d.y.resize(o.nodes);
  std::vector<std::vector<int64_t>> members(o.classes);
  for (int64_t i = 0; i < o.nodes; ++i) {
    d.y[i] = below(rng, o.classes);
    members[d.y[i]].push_back(i);
  }
  for (int64_t c = 0; c < o.classes; ++c) {
    if (members[c].empty()) throw Error("csbm: a class drew no nodes; use more nodes");
    // Fewer than train_per_class: the class trained on all its nodes and had none to validate or
    // test, without a word.
    if (static_cast<int64_t>(members[c].size()) <= o.train_per_class)
      throw Error(cat("class ", c, " drew ", members[c].size(), " of the ", o.nodes,
                      " nodes, not more than train_per_class = ", o.train_per_class,
                      "; use more nodes or fewer training nodes per class"),
                  "gnnpipe.data.csbm.train_per_class");
  }
  // Edges.
  const int64_t undirected = static_cast<int64_t>(std::llround(o.nodes * o.average_degree / 2));
  std::vector<std::pair<int64_t, int64_t>> pairs;
  pairs.reserve(undirected);
  for (int64_t k = 0; k < undirected; ++k) {
    const int64_t u = below(rng, o.nodes);
    int64_t c = d.y[u];
    if (unit(rng) >= o.homophily) c = (c + 1 + below(rng, o.classes - 1)) % o.classes;
    const auto& m = members[c];
    const int64_t v = m[below(rng, static_cast<int64_t>(m.size()))];
    if (u != v) pairs.emplace_back(u, v);
  }
  d.graph = mesh::graph_from_pairs(o.nodes, std::move(pairs), true);
  // Features: class means are random unit directions times `signal`, plus N(0, 1) noise.
  std::vector<double> means(o.classes * o.features);
  for (int64_t c = 0; c < o.classes; ++c) {
    double n2 = 0;
    for (int64_t f = 0; f < o.features; ++f) n2 += std::pow(means[c * o.features + f] = normal(rng), 2);
    for (int64_t f = 0; f < o.features; ++f) means[c * o.features + f] *= o.signal / std::sqrt(n2);
  }
  d.x.resize(o.nodes * o.features);
  for (int64_t i = 0; i < o.nodes; ++i)
    for (int64_t f = 0; f < o.features; ++f)
      d.x[i * o.features + f] = static_cast<float>(means[d.y[i] * o.features + f] + normal(rng));
  // Split: a random permutation; the first train_per_class of each class train, then val, test.
  std::vector<int64_t> perm(o.nodes);
  for (int64_t i = 0; i < o.nodes; ++i) perm[i] = i;
  for (int64_t i = o.nodes - 1; i > 0; --i) std::swap(perm[i], perm[below(rng, i + 1)]);
  d.train_mask.assign(o.nodes, 0);
  d.val_mask.assign(o.nodes, 0);
  d.test_mask.assign(o.nodes, 0);
  std::vector<int64_t> taken(o.classes, 0);
  std::vector<int64_t> rest;
  for (int64_t i : perm) {
    if (taken[d.y[i]] < o.train_per_class) {
      ++taken[d.y[i]];
      d.train_mask[i] = 1;
    } else {
      rest.push_back(i);
    }
  }
  for (int64_t k = 0; k < static_cast<int64_t>(rest.size()) && k < o.val + o.test; ++k)
    (k < o.val ? d.val_mask : d.test_mask)[rest[k]] = 1;
  return d;
}

}  // namespace tessera::io
