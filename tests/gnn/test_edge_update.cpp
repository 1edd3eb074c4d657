// gnn::edge_update (a MeshGraphNet edge update as one node, its first layer made in the rest's
// blocks) against the operations it replaces one by one: edge_latent_fan_out with q stored,
// gather_add and linalg::mlp (themselves tested against plain torch in test_gnn and test_linalg).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "core/error.hpp"
#include "gnn/edge_index.hpp"
#include "gnn/edge_latent_fan_out.hpp"
#include "gnn/edge_update.hpp"
#include "gnn/message_passing.hpp"
#include "linalg/small_products.hpp"
#include "mesh/graph.hpp"
#include "tests/mesh_fixtures.hpp"

using namespace tessera;

namespace {

// The parameters of one edge update: the first layer's block on g (w, b) and a rest of `hidden`
// hidden layers, an output layer and (with `norm`) its LayerNorm.
struct Update {
  at::Tensor w, b;
  linalg::MlpLayers rest;
  std::vector<at::Tensor> leaves() const {
    std::vector<at::Tensor> out{w};
    if (b.defined()) out.push_back(b);
    for (size_t k = 0; k < rest.weights.size(); ++k) {
      out.push_back(rest.weights[k]);
      if (rest.biases[k].defined()) out.push_back(rest.biases[k]);
    }
    if (rest.gamma.defined()) out.insert(out.end(), {rest.gamma, rest.beta});
    return out;
  }
};

Update make_update(int64_t f, int64_t p, int hidden, bool bias, bool norm, at::TensorOptions o) {
  Update u;
  u.w = (at::randn({p, f}, o) / std::sqrt(double(f))).requires_grad_();
  if (bias) u.b = at::randn({p}, o).requires_grad_();
  int64_t in = p;
  for (int k = 0; k <= hidden; ++k) {
    const int64_t out = k == hidden ? f : p;
    u.rest.weights.push_back((at::randn({out, in}, o) / std::sqrt(double(in))).requires_grad_());
    u.rest.biases.push_back(bias ? (at::randn({out}, o) * 0.1).requires_grad_() : at::Tensor());
    in = out;
  }
  if (norm) u.rest.gamma = at::randn({f}, o).requires_grad_(), u.rest.beta = at::randn({f}, o).requires_grad_();
  return u;
}

enum class Path { Fused, OneByOne, PlainTorch };

// g' for edge latent g and node tables ps, pr (then the node sums of g', as MeshGraphNet's node
// update takes them): by edge_update, by the operations it replaces, or in plain torch.
std::pair<at::Tensor, at::Tensor> run(Path path, const Update& u, const at::Tensor& g, const at::Tensor& ps,
                                      const at::Tensor& pr, const gnn::EdgeIndex& ei) {
  if (path == Path::PlainTorch) {
    at::Tensor x = at::relu(at::linear(g, u.w, u.b) + ps.index_select(0, ei.src) + pr.index_select(0, ei.dst));
    const auto& l = u.rest;
    for (size_t k = 0; k < l.weights.size(); ++k) {
      x = at::linear(x, l.weights[k], l.biases[k]);
      if (k + 1 < l.weights.size()) x = at::relu(x);
    }
    if (l.gamma.defined()) x = at::layer_norm(x, {x.size(1)}, l.gamma, l.beta, l.eps);
    return {x + g, at::zeros({ei.num_nodes, g.size(1)}, g.options()).index_add(0, ei.dst, g)};
  }
  const bool fused = path == Path::Fused;
  const gnn::EdgeLatentFanOut uses = gnn::edge_latent_fan_out(g, u.w, u.b, ei, true, fused);
  CHECK(uses.q_deferred == fused);
  const at::Tensor next = fused ? gnn::edge_update(uses, u.w, u.b, ps, pr, u.rest, ei)
                                : linalg::mlp(gnn::gather_add(uses.q, ps, pr, ei, true), u.rest, uses.residual);
  return {next, uses.agg};
}

}  // namespace

// Its own ctest entry (test_edge_update.fused), reported as skipped where there is nothing to fuse.
TEST_CASE("edge_update equals the fan-out, gather_add and linalg::mlp one by one", "[gnn][grad][fused]") {
  if (!linalg::small_products_have_jit()) {
    std::printf("SKIPPED: edge_update fuses only where linalg's products use libxsmm, which this build lacks\n");
    return;
  }
  // 3,000+ edges: several forward blocks and backward chunks.
  const auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(test::irregular_mesh(28, 20, 5)));
  REQUIRE(ei.num_edges() > 2048);
  const int64_t f = 12, p = 10, e = ei.num_edges(), n = ei.num_nodes;
  for (auto dtype : {at::kFloat, at::kDouble})
    for (int variant = 0; variant < 6; ++variant) {
      const int hidden = variant % 3;  // 0, 1 or 2 hidden layers after the first layer's ReLU
      const bool bias = variant < 3, norm = variant != 4;
      INFO((dtype == at::kFloat ? "fp32" : "fp64") << ", " << hidden << " hidden, bias " << bias << ", norm " << norm);
      const at::TensorOptions o = at::TensorOptions().dtype(dtype);
      at::manual_seed(variant);
      const Update u = make_update(f, p, hidden, bias, norm, o);
      REQUIRE(gnn::edge_update_fuses(at::empty({1, f}, o), u.rest));
      const at::Tensor g0 = at::randn({e, f}, o), ps0 = at::randn({n, p}, o), pr0 = at::randn({n, p}, o),
                       wy = at::randn({e, f}, o), wa = at::randn({n, f}, o);
      auto grads = [&](Path path, int threads) {
        const int before = at::get_num_threads();
        at::set_num_threads(threads);
        at::Tensor g = g0.clone().requires_grad_(), ps = ps0.clone().requires_grad_(),
                   pr = pr0.clone().requires_grad_();
        const auto [y, agg] = run(path, u, g, ps, pr, ei);
        std::vector<at::Tensor> leaves = u.leaves();
        leaves.insert(leaves.end(), {g, ps, pr});
        std::vector<at::Tensor> out =
            torch::autograd::grad({(y * wy).sum() + (y * y).sum() * 0.01 + (agg * wa).sum()}, leaves);
        out.push_back(y.detach());
        at::set_num_threads(before);
        return out;
      };
      const auto one = grads(Path::Fused, 1), two = grads(Path::Fused, 2), expected = grads(Path::OneByOne, 2);
      const double tol = dtype == at::kFloat ? 2e-5 : 1e-12;
      for (size_t i = 0; i < one.size(); ++i) {
        INFO("tensor " << i << " of " << one.size() << " (parameters, g, ps, pr, then g')");
        REQUIRE(one[i].defined());
        CHECK(at::allclose(two[i], expected[i], tol, tol * std::max(1.0, expected[i].abs().max().item<double>())));
        CHECK(at::equal(one[i], two[i]));  // no sum depends on the threads
      }
    }
}

TEST_CASE("edge_update's double backward and its errors", "[gnn][grad]") {
  // The operations one by one against plain torch on every build; the fused node where the build
  // has it (libxsmm).
  const bool fuses = linalg::small_products_have_jit();
  const auto ei = gnn::EdgeIndex::from_graph(
      mesh::graph_from_pairs(6, {{0, 1}, {1, 2}, {2, 0}, {3, 4}, {1, 3}, {4, 0}}, true));  // node 5: no edges
  const at::TensorOptions o = at::TensorOptions().dtype(at::kDouble);
  at::manual_seed(3);
  const Update u = make_update(5, 4, 1, true, true, o);
  const at::Tensor g0 = at::randn({ei.num_edges(), 5}, o), ps0 = at::randn({ei.num_nodes, 4}, o),
                   pr0 = at::randn({ei.num_nodes, 4}, o);
  // d/dθ of |dL/dg|² (create_graph), L using g' and the node sums.
  auto second = [&](Path path) {
    at::Tensor g = g0.clone().requires_grad_(), ps = ps0.clone().requires_grad_(), pr = pr0.clone().requires_grad_();
    const auto [y, agg] = run(path, u, g, ps, pr, ei);
    const auto d = torch::autograd::grad({(y * y).sum() + (agg * agg).sum()}, {g, ps}, {}, true, true);
    std::vector<at::Tensor> leaves = u.leaves();
    leaves.push_back(pr);
    return torch::autograd::grad({(d[0] * d[0]).sum() + (d[1] * d[1]).sum()}, leaves, {}, false, false, true);
  };
  const auto theirs = second(Path::PlainTorch), composed = second(Path::OneByOne);
  REQUIRE(composed.size() == theirs.size());
  for (size_t i = 0; i < theirs.size(); ++i) {
    INFO("tensor " << i);
    REQUIRE(composed[i].defined() == theirs[i].defined());
    if (theirs[i].defined()) CHECK(at::allclose(composed[i], theirs[i], 1e-10, 1e-10));
  }
  if (!fuses) return;
  const auto ours = second(Path::Fused);
  REQUIRE(ours.size() == theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    INFO("tensor " << i);
    REQUIRE(ours[i].defined() == theirs[i].defined());
    if (ours[i].defined()) CHECK(at::allclose(ours[i], theirs[i], 1e-10, 1e-10));
  }
  // A fan-out that did not defer q, and node tables of the wrong size: one error each.
  const gnn::EdgeLatentFanOut stored = gnn::edge_latent_fan_out(g0, u.w, u.b, ei, true);
  CHECK_THROWS_AS(gnn::edge_update(stored, u.w, u.b, ps0, pr0, u.rest, ei), Error);
  const gnn::EdgeLatentFanOut deferred = gnn::edge_latent_fan_out(g0, u.w, u.b, ei, true, true);
  CHECK_THROWS_AS(gnn::edge_update(deferred, u.w, u.b, ps0.narrow(0, 0, 5), pr0, u.rest, ei), Error);
}
