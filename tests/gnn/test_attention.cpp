// Sparse (adjacency-masked) attention on CPU: forward against dense masked attention and the
// plain-torch edge implementation, gradients against dense autograd and finite differences.
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <catch2/catch.hpp>

#include "gnn/edge_index.hpp"
#include "gnn/sparse_attention.hpp"
#include "mesh/augment.hpp"
#include "mesh/graph.hpp"
#include "tests/mesh_fixtures.hpp"

using namespace tessera;

// A mesh graph with random jumps and two global nodes: degrees from 3 to N-1.
static gnn::EdgeIndex attention_graph() {
  mesh::Graph g = mesh::mesh_graph(test::irregular_mesh(6, 5, 7));
  g = mesh::global_nodes(mesh::random_jumps(g, 0.2, 3), {0, 17});
  return gnn::EdgeIndex::from_graph(g);
}

static at::Tensor rand3(int64_t n, int64_t h, int64_t d, at::ScalarType t) {
  return at::randn({n, h, d}, at::TensorOptions().dtype(t));
}

TEST_CASE("sparse attention forward equals dense masked attention", "[attention]") {
  at::manual_seed(1);
  auto ei = attention_graph();
  for (int64_t d : {8, 16, 32, 33}) {  // 8, 16, 32: forward_rows's fixed-size builds
    for (auto t : {at::kFloat, at::kDouble}) {
      at::Tensor q = rand3(ei.num_nodes, 4, d, t), k = rand3(ei.num_nodes, 4, d, t), v = rand3(ei.num_nodes, 4, d, t);
      at::Tensor ref = gnn::dense_masked_attention(q, k, v, ei);
      at::Tensor got = gnn::sparse_attention(q, k, v, ei);
      const double tol = t == at::kFloat ? 1e-5 : 1e-12;
      INFO("d " << d << " dtype " << t << " max diff " << (got - ref).abs().max().item<double>());
      CHECK(at::allclose(got, ref, tol, tol));
      CHECK(at::allclose(gnn::edge_attention_torch(q, k, v, ei), ref, tol, tol));
    }
  }
  // Large scores: the max-subtraction keeps the softmax finite where a naive exp overflows.
  at::Tensor q = rand3(ei.num_nodes, 2, 8, at::kFloat) * 60, k = rand3(ei.num_nodes, 2, 8, at::kFloat) * 60;
  at::Tensor v = rand3(ei.num_nodes, 2, 8, at::kFloat);
  at::Tensor got = gnn::sparse_attention(q, k, v, ei);
  CHECK(at::isfinite(got).all().item<bool>());
  CHECK(at::allclose(got, gnn::dense_masked_attention(q, k, v, ei), 1e-4, 1e-4));
}

TEST_CASE("sparse attention gradients equal dense autograd gradients", "[attention][grad]") {
  at::manual_seed(2);
  auto ei = attention_graph();
  auto opts = at::TensorOptions().dtype(at::kDouble);
  // Head dims 8, 16 and 32: the kernels' fixed-size builds; 5: the run-time one.
  for (int64_t d : {8, 16, 32, 5}) {
    at::Tensor q0 = at::randn({ei.num_nodes, 3, d}, opts), k0 = at::randn({ei.num_nodes, 3, d}, opts);
    at::Tensor v0 = at::randn({ei.num_nodes, 3, d}, opts), w = at::randn({ei.num_nodes, 3, d}, opts);
    auto grads = [&](bool sparse) {
      at::Tensor q = q0.clone().requires_grad_(true), k = k0.clone().requires_grad_(true),
                 v = v0.clone().requires_grad_(true);
      at::Tensor o = sparse ? gnn::sparse_attention(q, k, v, ei, 0.7) : gnn::dense_masked_attention(q, k, v, ei, 0.7);
      return torch::autograd::grad({(o * w).sum()}, {q, k, v});
    };
    auto gs = grads(true), gd = grads(false);
    for (int i = 0; i < 3; ++i) {
      INFO("head dim " << d << " input " << i << " max diff " << (gs[i] - gd[i]).abs().max().item<double>());
      CHECK(at::allclose(gs[i], gd[i], 1e-11, 1e-12));
    }
  }
  at::Tensor q0 = at::randn({ei.num_nodes, 3, 5}, opts), k0 = at::randn({ei.num_nodes, 3, 5}, opts);
  at::Tensor v0 = at::randn({ei.num_nodes, 3, 5}, opts);
  // Without gradients (the inference path: the kernel alone) the output is the same, and carries
  // no autograd history.
  at::Tensor q = q0.clone().requires_grad_(true);
  const at::Tensor with_graph = gnn::sparse_attention(q, k0, v0, ei, 0.7);
  at::Tensor plain;
  {
    c10::InferenceMode inference;
    plain = gnn::sparse_attention(q0, k0, v0, ei, 0.7);
  }
  CHECK(with_graph.grad_fn() != nullptr);
  CHECK(plain.grad_fn() == nullptr);
  CHECK(at::equal(plain, with_graph.detach()));
}

TEST_CASE("sparse attention gradients match finite differences", "[attention][grad]") {
  at::manual_seed(3);
  auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(test::irregular_mesh(3, 2, 1)));
  auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor q = at::randn({ei.num_nodes, 2, 3}, opts), k = at::randn({ei.num_nodes, 2, 3}, opts);
  at::Tensor v = at::randn({ei.num_nodes, 2, 3}, opts), w = at::randn({ei.num_nodes, 2, 3}, opts);
  std::vector<at::Tensor> in{q, k, v};
  auto f = [&] { return (gnn::sparse_attention(in[0], in[1], in[2], ei) * w).sum().item<double>(); };
  std::vector<at::Tensor> leaf;
  for (auto& t : in) leaf.push_back(t.clone().requires_grad_(true));
  auto g = torch::autograd::grad({(gnn::sparse_attention(leaf[0], leaf[1], leaf[2], ei) * w).sum()}, leaf);
  double max_err = 0;
  for (int which = 0; which < 3; ++which) {
    auto flat = in[which].view({-1});
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double x = flat[i].item<double>(), h = 1e-6;
      flat[i] = x + h;
      const double fp = f();
      flat[i] = x - h;
      const double fm = f();
      flat[i] = x;
      max_err = std::max(max_err, std::abs((fp - fm) / (2 * h) - g[which].view({-1})[i].item<double>()));
    }
  }
  CHECK(max_err < 1e-8);
}

TEST_CASE("sparse_attention_into: head ranges of one qkv tensor, two graphs, one output", "[attention]") {
  // A layer's head groups: heads [0, 2) on one graph, [2, 5) on another, q, k, v read in place
  // from a [N, 3, H, D] tensor and written into a garbage-filled output (views, no copies),
  // against dense masked attention of contiguous copies; also a contiguous output of odd shape.
  at::manual_seed(7);
  auto ei = attention_graph();
  mesh::Graph g = mesh::mesh_graph(test::irregular_mesh(6, 5, 7));
  auto ei2 = gnn::EdgeIndex::from_graph(mesh::khop(g, 2));
  REQUIRE(ei2.num_nodes == ei.num_nodes);
  // d = 9: the run-time head dimension; 16: a fixed-size build reading strided views.
  for (const auto& [t, d] :
       {std::pair(at::kFloat, int64_t(9)), std::pair(at::kDouble, int64_t(9)), std::pair(at::kFloat, int64_t(16))}) {
    const int64_t n = ei.num_nodes, heads = 5;
    const at::Tensor qkv = at::randn({n, 3, heads, d}, at::TensorOptions().dtype(t));
    const at::Tensor q = qkv.select(1, 0), k = qkv.select(1, 1), v = qkv.select(1, 2);
    const at::Tensor out = at::full({n, heads, d}, 123.0, q.options());
    const std::vector<std::pair<const gnn::EdgeIndex*, int64_t>> groups = {{&ei, 2}, {&ei2, 3}};
    int64_t h0 = 0;
    for (const auto& [graph, h] : groups) {
      {
        c10::InferenceMode inference;
        gnn::sparse_attention_into(q.narrow(1, h0, h), k.narrow(1, h0, h), v.narrow(1, h0, h), *graph,
                                   out.narrow(1, h0, h), 0.6);
      }
      const at::Tensor ref =
          gnn::dense_masked_attention(q.narrow(1, h0, h).contiguous(), k.narrow(1, h0, h).contiguous(),
                                      v.narrow(1, h0, h).contiguous(), *graph, 0.6);
      const double tol = t == at::kFloat ? 1e-5 : 1e-12;
      INFO("dtype " << t << " d " << d << " heads from " << h0 << " max diff "
                    << (out.narrow(1, h0, h) - ref).abs().max().item<double>());
      CHECK(at::allclose(out.narrow(1, h0, h), ref, tol, tol));
      h0 += h;
    }
  }
  // Autograd is refused, not silently dropped.
  at::Tensor q = rand3(ei.num_nodes, 2, 4, at::kDouble).requires_grad_(true);
  const at::Tensor k = rand3(ei.num_nodes, 2, 4, at::kDouble), out = at::empty_like(k);
  CHECK_THROWS_WITH(gnn::sparse_attention_into(q, k, k, ei, out), Catch::Contains("inference only"));
  CHECK_THROWS_WITH(gnn::sparse_attention_into(k, k, k, ei, out.narrow(1, 0, 1)), Catch::Contains("must be q's shape"));
}

TEST_CASE("nodes without incoming edges get zero output and zero gradient", "[attention]") {
  // Edges 0 -> 1, 2 -> 1 only: nodes 0 and 2 have no incoming edges.
  auto ei = gnn::EdgeIndex::from_graph(mesh::graph_from_pairs(3, {{0, 1}, {2, 1}}, false));
  at::Tensor q = at::randn({3, 1, 4}, at::kDouble).requires_grad_(true);
  at::Tensor k = at::randn({3, 1, 4}, at::kDouble).requires_grad_(true);
  at::Tensor v = at::randn({3, 1, 4}, at::kDouble).requires_grad_(true);
  at::Tensor o = gnn::sparse_attention(q, k, v, ei);
  CHECK(o[0].abs().sum().item<double>() == 0.0);
  CHECK(o[2].abs().sum().item<double>() == 0.0);
  CHECK(at::allclose(o, gnn::dense_masked_attention(q, k, v, ei)));
  o.sum().backward();
  CHECK(q.grad()[0].abs().sum().item<double>() == 0.0);
  CHECK(k.grad()[1].abs().sum().item<double>() == 0.0);  // node 1 is no source
  CHECK_THROWS(gnn::sparse_attention(q.detach(), k.detach().slice(0, 0, 2), v.detach(), ei));
}

TEST_CASE("half-precision inputs on CPU: fp32 accumulation, one rounding, autocast dtype", "[attention][amp]") {
  at::manual_seed(5);
  auto ei = attention_graph();
  for (auto dt : {at::kBFloat16, at::kHalf}) {
    INFO("dtype " << dt);
    // Reference: fp32 attention of the rounded inputs; the kernel may differ by the output rounding.
    at::Tensor q0 = rand3(ei.num_nodes, 4, 16, at::kFloat).to(dt), k0 = rand3(ei.num_nodes, 4, 16, at::kFloat).to(dt);
    at::Tensor v0 = rand3(ei.num_nodes, 4, 16, at::kFloat).to(dt), w = rand3(ei.num_nodes, 4, 16, at::kFloat);
    const double eps = dt == at::kBFloat16 ? 1.0 / 128 : 1.0 / 1024;  // twice the unit roundoff
    auto run = [&](at::ScalarType t) {
      at::Tensor q = q0.to(t).requires_grad_(true), k = k0.to(t).requires_grad_(true),
                 v = v0.to(t).requires_grad_(true);
      at::Tensor o = gnn::sparse_attention(q, k, v, ei);
      auto g = torch::autograd::grad({(o.to(at::kFloat) * w).sum()}, {q, k, v});
      return std::vector<at::Tensor>{o, g[0], g[1], g[2]};
    };
    auto half = run(dt), ref = run(at::kFloat);
    for (int i = 0; i < 4; ++i) {
      INFO("output " << i << " (0: attention, 1-3: dq, dk, dv)");
      CHECK(half[i].scalar_type() == dt);
      at::Tensor a = half[i].to(at::kFloat), b = ref[i];
      const double scale = b.abs().max().item<double>();
      INFO("max diff " << (a - b).abs().max().item<double>() << " of max " << scale);
      CHECK((a - b).abs().max().item<double>() <= eps * scale);
    }
  }
  // Mixed dtypes: promoted without autocast; the autocast dtype under CPU autocast.
  at::Tensor q = rand3(ei.num_nodes, 2, 8, at::kFloat), k = rand3(ei.num_nodes, 2, 8, at::kBFloat16);
  at::Tensor v = rand3(ei.num_nodes, 2, 8, at::kFloat);
  at::Tensor promoted = gnn::sparse_attention(q, k, v, ei);
  CHECK(promoted.scalar_type() == at::kFloat);
  CHECK(at::allclose(promoted, gnn::dense_masked_attention(q, k.to(at::kFloat), v, ei), 1e-5, 1e-5));
  at::autocast::set_autocast_enabled(at::kCPU, true);
  at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
  at::Tensor autocast = gnn::sparse_attention(q, k, v, ei);
  at::autocast::set_autocast_enabled(at::kCPU, false);
  CHECK(autocast.scalar_type() == at::kBFloat16);
  CHECK((autocast.to(at::kFloat) - promoted).abs().max().item<double>() < 0.05);
}
