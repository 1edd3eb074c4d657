// SPEN's 2-IGN layers and models against independent references (the graph side is in
// test_spen_graphs.cpp): every 2-IGN basis element against a dense per-subgraph loop, equivariance of each basis under
// an explicit permutation of every subgraph, invariance of the graph-level output under a global node permutation, SPEN
// with k >= diameter against the global 2-IGN, 1-WL limits on CSL, batch independence and the fused IgnLayer.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>

#include "core/error.hpp"
#include "gnn/gin.hpp"
#include "gnn/ign_layers.hpp"
#include "gnn/spen.hpp"
#include "io/graph_generators.hpp"
#include "io/tu_dataset.hpp"
#include "mesh/ego_network.hpp"
#include "tests/spen/spen_test_graphs.hpp"
#include "train/spen/data.hpp"

using namespace tessera;
using namespace tessera::spen_test;
namespace fs = std::filesystem;

namespace {

// Dense loop references of each basis element (1-based b), one subgraph, fp64, identity channels.
at::Tensor ref_2to2(const at::Tensor& X, int b) {  // X [m, m, C]
  const int64_t m = X.size(0), C = X.size(2);
  auto x = X.accessor<double, 3>();
  at::Tensor Y = at::zeros({m, m, C}, at::kDouble);
  auto y = Y.accessor<double, 3>();
  for (int64_t c = 0; c < C; ++c) {
    double all = 0, trace = 0;
    std::vector<double> row(m, 0), col(m, 0);
    for (int64_t i = 0; i < m; ++i) {
      trace += x[i][i][c];
      for (int64_t j = 0; j < m; ++j) {
        all += x[i][j][c];
        row[i] += x[i][j][c];
        col[j] += x[i][j][c];
      }
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j) {
        double v = 0;
        const bool d = i == j;
        switch (b) {
          case 1:
            v = d ? x[i][i][c] : 0;
            break;
          case 2:
            v = d ? trace / m : 0;
            break;
          case 3:
            v = d ? row[i] / m : 0;
            break;
          case 4:
            v = d ? col[i] / m : 0;
            break;
          case 5:
            v = d ? all / (m * m) : 0;
            break;
          case 6:
            v = col[j] / m;
            break;
          case 7:
            v = row[j] / m;
            break;
          case 8:
            v = col[i] / m;
            break;
          case 9:
            v = row[i] / m;
            break;
          case 10:
            v = all / (m * m);
            break;
          case 11:
            v = x[j][j][c];
            break;
          case 12:
            v = x[i][i][c];
            break;
          case 13:
            v = trace / m;
            break;
          case 14:
            v = x[i][j][c];
            break;
          case 15:
            v = x[j][i][c];
            break;
        }
        y[i][j][c] = v;
      }
  }
  return Y;
}

at::Tensor ref_2to1(const at::Tensor& X, int b) {
  const int64_t m = X.size(0), C = X.size(2);
  auto x = X.accessor<double, 3>();
  at::Tensor Y = at::zeros({m, C}, at::kDouble);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < m; ++i) {
      double v = 0;
      for (int64_t k = 0; k < m; ++k) {
        if (b == 2) v += x[k][k][c] / m;
        if (b == 3) v += x[i][k][c] / m;
        if (b == 4) v += x[k][i][c] / m;
        if (b == 5)
          for (int64_t l = 0; l < m; ++l) v += x[k][l][c] / (m * m);
      }
      if (b == 1) v = x[i][i][c];
      Y[i][c] = v;
    }
  return Y;
}

at::Tensor ref_1to2(const at::Tensor& X, int b) {  // X [m, C]
  const int64_t m = X.size(0), C = X.size(1);
  auto x = X.accessor<double, 2>();
  at::Tensor Y = at::zeros({m, m, C}, at::kDouble);
  for (int64_t c = 0; c < C; ++c) {
    double mean = 0;
    for (int64_t k = 0; k < m; ++k) mean += x[k][c] / m;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j) {
        const bool d = i == j;
        const double v = b == 1   ? (d ? x[i][c] : 0)
                         : b == 2 ? (d ? mean : 0)
                         : b == 3 ? x[i][c]
                         : b == 4 ? x[j][c]
                                  : mean;
        Y[i][j][c] = v;
      }
  }
  return Y;
}

at::Tensor ref_1to1(const at::Tensor& X, int b) {
  const int64_t m = X.size(0), C = X.size(1);
  at::Tensor Y = at::zeros({m, C}, at::kDouble);
  for (int64_t c = 0; c < C; ++c) {
    double mean = 0;
    for (int64_t k = 0; k < m; ++k) mean += X[k][c].item<double>() / m;
    for (int64_t i = 0; i < m; ++i) Y[i][c] = b == 1 ? X[i][c].item<double>() : mean;
  }
  return Y;
}

at::Tensor ref_2to0(const at::Tensor& X, int b) {
  const int64_t m = X.size(0), C = X.size(2);
  at::Tensor Y = at::zeros({C}, at::kDouble);
  for (int64_t c = 0; c < C; ++c) {
    double v = 0;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j)
        if (b == 2 || i == j) v += X[i][j][c].item<double>() / (b == 2 ? m * m : m);
    Y[c] = v;
  }
  return Y;
}

at::Tensor ref_1to0(const at::Tensor& X, int) { return X.mean(0); }

// Weights selecting basis element b (0-based) with identity channels.
at::Tensor select_basis(int64_t count, int64_t b, int64_t C) {
  at::Tensor w = at::zeros({count, C, C}, at::kDouble);
  w[b] = at::eye(C, at::kDouble);
  return w;
}

// Applies a different random permutation to every subgraph of x ([B, m, ...], order 1 or 2).
at::Tensor permute_each(const at::Tensor& x, const at::Tensor& perms, int order) {
  std::vector<at::Tensor> out;
  for (int64_t s = 0; s < x.size(0); ++s) {
    at::Tensor y = x[s].index_select(0, perms[s]);
    if (order == 2) y = y.index_select(1, perms[s]);
    out.push_back(y);
  }
  return at::stack(out);
}

bool close(const at::Tensor& a, const at::Tensor& b, double tol) {
  return a.sizes() == b.sizes() && (a - b).abs().max().item<double>() <= tol;
}

}  // namespace

TEST_CASE("basis counts of the 2-IGN maps", "[spen][gnn]") {
  using gnn::IgnMap;
  CHECK(gnn::ign_basis_count(IgnMap::k2to2) == 15);
  CHECK(gnn::ign_basis_count(IgnMap::k2to1) == 5);
  CHECK(gnn::ign_basis_count(IgnMap::k1to2) == 5);
  CHECK(gnn::ign_basis_count(IgnMap::k1to1) == 2);
  CHECK(gnn::ign_basis_count(IgnMap::k2to0) == 2);
  CHECK(gnn::ign_basis_count(IgnMap::k1to0) == 1);
  gnn::IgnLayer layer(3, 4, 5);
  CHECK(layer->w22.sizes() == at::IntArrayRef({15, 3, 5}));
  CHECK(layer->w12.sizes() == at::IntArrayRef({5, 4, 5}));
  CHECK(layer->w21.sizes() == at::IntArrayRef({5, 3, 5}));
  CHECK(layer->w11.sizes() == at::IntArrayRef({2, 4, 5}));
  CHECK_THROWS_AS(gnn::ign_2to2(at::zeros({1, 3, 3, 2}), at::zeros({14, 2, 2})), Error);
}

TEST_CASE("every 2-IGN basis element equals the dense loop and is equivariant", "[spen][gnn]") {
  at::manual_seed(3);
  const int64_t B = 4, m = 6, C = 3;
  const at::Tensor x2 = at::randn({B, m, m, C}, at::kDouble), x1 = at::randn({B, m, C}, at::kDouble);
  std::vector<at::Tensor> p;
  for (int64_t s = 0; s < B; ++s) p.push_back(at::randperm(m, at::kLong));
  const at::Tensor perms = at::stack(p);
  const at::Tensor px2 = permute_each(x2, perms, 2), px1 = permute_each(x1, perms, 1);
  using F = at::Tensor (*)(const at::Tensor&, const at::Tensor&);
  using R = at::Tensor (*)(const at::Tensor&, int);
  struct Map {
    const char* name;
    F f;
    R ref;
    int64_t count;
    int in, out;
  };
  const Map maps[] = {{"2->2", gnn::ign_2to2, ref_2to2, 15, 2, 2}, {"2->1", gnn::ign_2to1, ref_2to1, 5, 2, 1},
                      {"1->2", gnn::ign_1to2, ref_1to2, 5, 1, 2},  {"1->1", gnn::ign_1to1, ref_1to1, 2, 1, 1},
                      {"2->0", gnn::ign_2to0, ref_2to0, 2, 2, 0},  {"1->0", gnn::ign_1to0, ref_1to0, 1, 1, 0}};
  int64_t checked = 0;
  for (const Map& map : maps) {
    const at::Tensor& x = map.in == 2 ? x2 : x1;
    const at::Tensor& px = map.in == 2 ? px2 : px1;
    for (int64_t b = 0; b < map.count; ++b) {
      INFO(map.name << " basis " << b + 1);
      const at::Tensor w = select_basis(map.count, b, C);
      const at::Tensor y = map.f(x, w);
      for (int64_t s = 0; s < B; ++s) REQUIRE(close(y[s], map.ref(x[s], static_cast<int>(b + 1)), 1e-12));
      // Equivariance: f(P x) = P f(x) (invariance for the maps to order 0).
      const at::Tensor lhs = map.f(px, w);
      const at::Tensor rhs = map.out == 0 ? y : permute_each(y, perms, map.out);
      REQUIRE(close(lhs, rhs, 1e-6));
      ++checked;
    }
  }
  CHECK(checked == 15 + 5 + 5 + 2 + 2 + 1);
  // The comparison can fail: the identity basis of 2->2 on permuted input is not the unpermuted output.
  CHECK_FALSE(close(gnn::ign_2to2(px2, select_basis(15, 13, C)), x2, 1e-3));
  // Random weights: the sum over the basis with channel mixing.
  const at::Tensor w = at::randn({15, C, 5}, at::kDouble);
  at::Tensor want = at::zeros({m, m, 5}, at::kDouble);
  for (int b = 0; b < 15; ++b) want = want + at::matmul(ref_2to2(x2[1], b + 1), w[b]);
  CHECK(close(gnn::ign_2to2(x2, w)[1], want, 1e-12));
}

namespace {

io::TuDataset small_dataset() {
  io::TuDataset ds;
  ds.name = "small";
  ds.class_names = {"0", "1"};
  ds.num_node_labels = 3;
  for (int i = 0; i < 4; ++i) {
    io::LabelledGraph g;
    g.graph = connected_graph(7 + i, 0.35, 11 + i);
    for (int64_t v = 0; v < g.graph.num_nodes; ++v) g.node_labels.push_back((v * 7 + i) % 3);
    g.label = i % 2;
    ds.graphs.push_back(std::move(g));
  }
  return ds;
}

// The dataset with every graph's nodes relabelled by a random permutation.
io::TuDataset permuted(const io::TuDataset& ds, uint64_t seed) {
  io::TuDataset out = ds;
  std::mt19937_64 rng(seed);
  for (auto& g : out.graphs) {
    const int64_t n = g.graph.num_nodes;
    std::vector<int64_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<std::pair<int64_t, int64_t>> e;
    for (int64_t u = 0; u < n; ++u)
      for (int64_t v : g.graph.neighbours[u]) e.emplace_back(perm[u], perm[v]);
    g.graph = mesh::SimpleGraph::from_edges(n, e);
    std::vector<int64_t> labels(n);
    for (int64_t v = 0; v < n; ++v) labels[perm[v]] = g.node_labels[v];
    g.node_labels = labels;
  }
  return out;
}

std::shared_ptr<gnn::Spen> spen_model(const train::spen::PreparedData& d, std::vector<int64_t> own) {
  gnn::SpenConfig c;
  c.pair_in = d.pair_in;
  c.node_in = d.node_in;
  c.channels = 6;
  c.layers = 2;
  c.classes = 2;
  c.own_sizes = std::move(own);
  auto m = std::make_shared<gnn::Spen>(c);
  m->to(at::kDouble);
  m->eval();
  return m;
}

std::vector<int64_t> all_graphs(size_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

}  // namespace

TEST_CASE("graph-level outputs are invariant under a global node permutation", "[spen][gnn]") {
  const io::TuDataset ds = small_dataset(), pds = permuted(ds, 5);
  for (const std::string family : {"spen", "ign", "gin"})
    for (int hops : {1, 2}) {
      INFO(family << " hops " << hops);
      train::spen::GraphClassifierOptions o;
      o.family = family;
      o.hops = hops;
      o.rare_threshold = 3;
      const auto d = train::spen::prepare(ds, o), pd = train::spen::prepare(pds, o);
      at::manual_seed(1);
      std::shared_ptr<gnn::GraphClassifier> model;
      if (family == "gin") {
        gnn::GinConfig c;
        c.node_in = d.node_in;
        c.channels = 8;
        c.layers = 3;
        model = std::make_shared<gnn::Gin>(c);
        model->to(at::kDouble);
        model->eval();
      } else {
        model = spen_model(d, d.own_sizes);
      }
      const auto idx = all_graphs(ds.graphs.size());
      const at::Tensor y = model->forward(train::spen::make_batch(d, idx, at::kDouble), {});
      const at::Tensor py = model->forward(train::spen::make_batch(pd, idx, at::kDouble), {});
      CHECK(close(y, py, 1e-10));
      CHECK(y.std().item<double>() > 1e-6);  // not a constant output
    }
}

TEST_CASE("a TU folder without node labels is refused with node_features: labels", "[spen]") {
  // It trained on constant features without a word, its checkpoint saying labels.
  io::TuDataset ds = small_dataset();
  REQUIRE(ds.num_node_labels > 0);
  ds.num_node_labels = 0;
  for (auto& g : ds.graphs) g.node_labels.clear();
  train::spen::GraphClassifierOptions o;
  o.tu_dir = "data/NOLABELS";
  CHECK_THROWS_WITH(train::spen::prepare(ds, o), Catch::Contains("data/NOLABELS: has no node labels") &&
                                                     Catch::Contains("spen.data.node_features: constant"));
  try {
    train::spen::prepare(ds, o);
  } catch (const Error& e) {
    CHECK(e.key() == "spen.data.node_features");
  }
  o.constant_features = true;
  CHECK(train::spen::prepare(ds, o).node_in == 1);
}

TEST_CASE("SPEN with k >= diameter equals the global 2-IGN", "[spen][gnn]") {
  const io::TuDataset ds = small_dataset();
  train::spen::GraphClassifierOptions so, io;
  so.family = "spen";
  so.hops = 12;  // more than any diameter here (graphs are connected or not, either way whole components)
  io.family = "ign";
  const auto sd = train::spen::prepare(ds, so), id = train::spen::prepare(ds, io);
  // Every graph must be connected for the ego-network to be the whole graph.
  for (const auto& g : ds.graphs)
    for (int64_t v : mesh::bfs_distances(g.graph, 0)) REQUIRE(v >= 0);
  at::manual_seed(2);
  auto spen = spen_model(sd, {}), ign = spen_model(id, {});
  {
    at::NoGradGuard ng;
    auto dst = ign->named_parameters();
    for (const auto& p : spen->named_parameters()) dst[p.key()].copy_(p.value());
  }
  const auto idx = all_graphs(ds.graphs.size());
  const at::Tensor a = spen->forward(train::spen::make_batch(sd, idx, at::kDouble), {});
  const at::Tensor b = ign->forward(train::spen::make_batch(id, idx, at::kDouble), {});
  CHECK(close(a, b, 1e-10));
  // With 1-hop ego-networks the outputs differ (the test can fail).
  train::spen::GraphClassifierOptions o1 = so;
  o1.hops = 1;
  const auto d1 = train::spen::prepare(ds, o1);
  CHECK_FALSE(close(spen->forward(train::spen::make_batch(d1, idx, at::kDouble), {}), a, 1e-6));
}

TEST_CASE("1-WL limits: GIN cannot separate CSL classes, 2-hop SPEN can", "[spen][gnn]") {
  train::spen::GraphClassifierOptions o;
  o.source = "csl";
  o.constant_features = true;
  const io::TuDataset csl = io::make_csl(2, 4);
  const std::vector<int64_t> idx = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18};  // one graph per class
  at::manual_seed(4);
  o.family = "gin";
  const auto gd = train::spen::prepare(csl, o);
  gnn::GinConfig gc;
  gc.channels = 8;
  gnn::Gin gin(gc);
  gin.to(at::kDouble);
  gin.eval();
  const at::Tensor ge = gin.embed(train::spen::make_batch(gd, idx, at::kDouble));
  CHECK((ge - ge[0]).abs().max().item<double>() < 1e-8);
  o.family = "spen";
  o.hops = 2;
  const auto sd = train::spen::prepare(csl, o);
  auto spen = spen_model(sd, {});
  const at::Tensor se = spen->embed(train::spen::make_batch(sd, idx, at::kDouble));
  const at::Tensor gap = (se.unsqueeze(0) - se.unsqueeze(1)).abs().amax(-1);  // [10, 10]
  CHECK((gap + at::eye(10, at::kDouble)).min().item<double>() > 1e-6);        // every pair of classes differs
}

TEST_CASE("a graph's output does not depend on the other graphs of its batch", "[spen][gnn]") {
  const io::TuDataset ds = small_dataset();
  for (const std::string family : {"spen", "ign", "gin"}) {
    INFO(family);
    train::spen::GraphClassifierOptions o;
    o.family = family;
    o.rare_threshold = 1;
    const auto d = train::spen::prepare(ds, o);
    at::manual_seed(6);
    std::shared_ptr<gnn::GraphClassifier> model;
    if (family == "gin") {
      model = std::make_shared<gnn::Gin>(gnn::GinConfig{d.node_in, 8, 3, 2});
      model->to(at::kDouble);
      model->eval();
    } else {
      model = spen_model(d, d.own_sizes);
    }
    const at::Tensor all = model->forward(train::spen::make_batch(d, {0, 1, 2, 3}, at::kDouble), {});
    for (int64_t i = 0; i < 4; ++i)
      CHECK(close(model->forward(train::spen::make_batch(d, {i}, at::kDouble), {})[0], all[i], 1e-10));
    const at::Tensor pair = model->forward(train::spen::make_batch(d, {3, 1}, at::kDouble), {});
    CHECK(close(pair[0], all[3], 1e-10));
  }
}

TEST_CASE("the fused IgnLayer equals the sum of its four maps, values and gradients", "[spen][gnn]") {
  at::manual_seed(5);
  const int64_t B = 3, m = 5, Cp = 4, Cn = 3, D = 6;
  gnn::IgnLayer layer(Cp, Cn, D);
  layer->to(at::kDouble);
  for (at::Tensor b : {layer->bias2, layer->bias_diag, layer->bias1}) b.data().normal_();
  const at::Tensor x2 = at::randn({B, m, m, Cp}, at::kDouble).requires_grad_(true);
  const at::Tensor x1 = at::randn({B, m, Cn}, at::kDouble).requires_grad_(true);
  const at::Tensor g2 = at::randn({B, m, m, D}, at::kDouble), g1 = at::randn({B, m, D}, at::kDouble);
  auto [y2, y1] = layer->forward(x2, x1);
  const at::Tensor eye = at::eye(m, at::kDouble).unsqueeze(-1);
  const at::Tensor r2 =
      gnn::ign_2to2(x2, layer->w22) + gnn::ign_1to2(x1, layer->w12) + layer->bias2 + eye * layer->bias_diag;
  const at::Tensor r1 = gnn::ign_2to1(x2, layer->w21) + gnn::ign_1to1(x1, layer->w11) + layer->bias1;
  CHECK(at::allclose(y2, r2, 1e-12, 1e-12));
  CHECK(at::allclose(y1, r1, 1e-12, 1e-12));
  const std::vector<at::Tensor> wrt = {x2, x1, layer->w22, layer->w12, layer->w21, layer->w11, layer->bias_diag};
  const auto got = torch::autograd::grad({(y2 * g2).sum() + (y1 * g1).sum()}, wrt);
  const auto want = torch::autograd::grad({(r2 * g2).sum() + (r1 * g1).sum()}, wrt);
  for (size_t i = 0; i < wrt.size(); ++i) {
    INFO("gradient " << i);
    CHECK(at::allclose(got[i], want[i], 1e-12, 1e-12));
  }
}
