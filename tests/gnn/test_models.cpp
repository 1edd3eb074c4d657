// Mesh models: permutation equivariance (relabelling nodes permutes outputs), the attention
// layer against a dense computation from its own weights, rotary embedding translation
// invariance, head-group masks, and that both models can fit a small target.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <numeric>
#include <random>

#include "gnn/edge_index.hpp"
#include "gnn/mesh_transformer.hpp"
#include "gnn/meshgraphnet.hpp"
#include "gnn/sparse_attention.hpp"
#include "linalg/bf16_products.hpp"
#include "mesh/augment.hpp"
#include "mesh/graph.hpp"
#include "tests/mesh_fixtures.hpp"

using namespace tessera;

struct Relabelled {
  mesh::Graph graph;
  at::Tensor perm;  // new node i is old node perm[i]
};

static Relabelled relabel(const mesh::Graph& g, unsigned seed) {
  std::vector<int64_t> p(g.num_nodes), inv(g.num_nodes);
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), std::mt19937(seed));
  for (int64_t i = 0; i < g.num_nodes; ++i) inv[p[i]] = i;
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t e = 0; e < g.num_edges(); ++e) pairs.emplace_back(inv[g.src[e]], inv[g.dst[e]]);
  return {mesh::graph_from_pairs(g.num_nodes, pairs, false), at::tensor(at::ArrayRef<int64_t>(p), at::kLong)};
}

static at::Tensor edge_feats(const gnn::EdgeIndex& ei, const at::Tensor& pos) {
  at::Tensor rel = pos.index_select(0, ei.src) - pos.index_select(0, ei.dst);
  return at::cat({rel, rel.norm(2, 1, true)}, 1);
}

// A 4-head transformer with rotary embedding: 5 inputs, 3 outputs.
static gnn::TransformerConfig rope_transformer(int64_t latent, int64_t layers) {
  gnn::TransformerConfig tc;
  tc.in_dim = 5;
  tc.out_dim = 3;
  tc.latent = latent;
  tc.layers = layers;
  tc.heads = 4;
  tc.rope = true;
  return tc;
}

TEST_CASE("transformer and MeshGraphNet are permutation equivariant", "[models]") {
  at::manual_seed(0);
  mesh::Mesh m = test::irregular_mesh(5, 4, 2);
  mesh::Graph g = mesh::mesh_graph(m), dil = mesh::dilated(g, 2);
  auto r = relabel(g, 5);
  auto rd = relabel(dil, 5);  // same seed: same permutation
  REQUIRE(at::equal(r.perm, rd.perm));
  auto e1 = gnn::EdgeIndex::from_graph(g), e2 = gnn::EdgeIndex::from_graph(r.graph);
  auto d1 = gnn::EdgeIndex::from_graph(dil), d2 = gnn::EdgeIndex::from_graph(rd.graph);
  auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor x = at::randn({g.num_nodes, 5}, opts);
  at::Tensor pos = at::tensor(at::ArrayRef<double>(m.coords), opts).view({-1, 2});

  const gnn::TransformerConfig tc = rope_transformer(16, 3);
  gnn::MeshTransformer tr(tc);
  tr->to(at::kDouble);
  at::Tensor y1 = tr->forward(x, gnn::mask_plan(tc, e1, &d1, 2), pos);
  at::Tensor y2 = tr->forward(x.index_select(0, r.perm), gnn::mask_plan(tc, e2, &d2, 2), pos.index_select(0, r.perm));
  CHECK(at::allclose(y2, y1.index_select(0, r.perm), 1e-10, 1e-12));

  gnn::MeshGraphNetConfig mc;
  mc.node_in = 5;
  mc.edge_in = 3;
  mc.out_dim = 2;
  mc.latent = 16;
  mc.steps = 3;
  gnn::MeshGraphNet mgn(mc);
  mgn->to(at::kDouble);
  at::Tensor z1 = mgn->forward(x, edge_feats(e1, pos), e1);
  at::Tensor p2 = pos.index_select(0, r.perm);
  at::Tensor z2 = mgn->forward(x.index_select(0, r.perm), edge_feats(e2, p2), e2);
  CHECK(at::allclose(z2, z1.index_select(0, r.perm), 1e-10, 1e-12));
  CHECK_THROWS(mgn->forward(x, edge_feats(e1, pos).slice(0, 1), e1));
}

TEST_CASE("transformer inference (fused RMSNorm, SiLU and gated MLP kernels) equals its training forward", "[models]") {
  // Inference runs gnn/kernels/pointwise.hpp in place of the differentiable ATen ops: the same
  // model, in fp32 and fp64, must give the training forward's outputs up to rounding.
  at::manual_seed(6);
  mesh::Mesh m = test::irregular_mesh(6, 5, 3);
  mesh::Graph g = mesh::mesh_graph(m), dil = mesh::dilated(g, 2);
  auto e = gnn::EdgeIndex::from_graph(g), d = gnn::EdgeIndex::from_graph(dil);
  const gnn::TransformerConfig tc = rope_transformer(32, 2);
  for (auto t : {at::kFloat, at::kDouble}) {
    gnn::MeshTransformer tr(tc);
    tr->to(t);
    auto opts = at::TensorOptions().dtype(t);
    at::Tensor x = at::randn({g.num_nodes, 5}, opts);
    at::Tensor pos = at::tensor(at::ArrayRef<double>(m.coords), opts.dtype(at::kDouble)).view({-1, 2}).to(t);
    const auto plan = gnn::mask_plan(tc, e, &d, 1);
    const at::Tensor trained = tr->forward(x, plan, pos);
    REQUIRE(trained.requires_grad());
    at::Tensor inferred;
    {
      c10::InferenceMode inference;
      inferred = tr->forward(x, plan, pos);
    }
    const double tol = t == at::kFloat ? 1e-5 : 1e-12;
    INFO("dtype " << t << " max diff " << (inferred - trained.detach()).abs().max().item<double>());
    CHECK(at::allclose(inferred, trained.detach(), tol, tol));
  }
}

TEST_CASE("transformer inference with bf16 products stays within bf16 rounding of fp32", "[models][bf16]") {
  // rollout.precision: bf16 (linalg::Bf16Products): every Linear weight in bf16, the rest fp32.
  // Independent reference: the same model's fp32 inference. bf16 keeps 8 bits of mantissa
  // (relative rounding 2^-9 per operand), so outputs move by ~1e-3 of their scale, not more.
  if (!linalg::bf16_products_available()) {
    std::printf("SKIPPED: no bf16 matrix kernels on this machine\n");
    return;
  }
  at::manual_seed(8);
  mesh::Mesh m = test::irregular_mesh(6, 5, 3);
  mesh::Graph g = mesh::mesh_graph(m), dil = mesh::dilated(g, 2);
  auto e = gnn::EdgeIndex::from_graph(g), d = gnn::EdgeIndex::from_graph(dil);
  const gnn::TransformerConfig tc = rope_transformer(32, 2);
  gnn::MeshTransformer tr(tc);
  at::Tensor x = at::randn({g.num_nodes, 5});
  at::Tensor pos = at::tensor(at::ArrayRef<double>(m.coords)).view({-1, 2}).to(at::kFloat);
  const auto plan = gnn::mask_plan(tc, e, &d, 1);
  c10::InferenceMode inference;
  const at::Tensor fp32 = tr->forward(x, plan, pos);
  at::Tensor bf16;
  {
    linalg::Bf16Products products(linalg::matrix_weights(*tr));
    bf16 = tr->forward(x, plan, pos);
  }
  const double scale = fp32.abs().max().item<double>(), diff = (bf16 - fp32).abs().max().item<double>();
  INFO("max |fp32| " << scale << ", max diff " << diff);
  CHECK(diff > 0);  // the products really ran in bf16
  CHECK(diff < 2e-2 * scale);
  CHECK(at::equal(tr->forward(x, plan, pos), fp32));  // the scope is gone: fp32 again
}

TEST_CASE("attention layer equals a dense computation from its weights", "[models]") {
  at::manual_seed(1);
  mesh::Graph g = mesh::mesh_graph(test::irregular_mesh(4, 4, 3));
  auto ei = gnn::EdgeIndex::from_graph(g), e2 = gnn::EdgeIndex::from_graph(mesh::khop(g, 2));
  gnn::GraphAttention attn(12, 3, false, 1.0);
  attn->to(at::kDouble);
  at::Tensor x = at::randn({g.num_nodes, 12}, at::kDouble);
  // Two heads on the mesh graph, one on the 2-hop graph.
  at::Tensor got = attn->forward(x, {{&ei, 2}, {&e2, 1}}, {});
  auto params = attn->named_parameters();
  at::Tensor qkv = at::linear(x, params["qkv.weight"], params["qkv.bias"]).view({-1, 3, 3, 4});
  at::Tensor q = qkv.select(1, 0), k = qkv.select(1, 1), v = qkv.select(1, 2);
  at::Tensor o = at::cat({gnn::dense_masked_attention(q.narrow(1, 0, 2), k.narrow(1, 0, 2), v.narrow(1, 0, 2), ei),
                          gnn::dense_masked_attention(q.narrow(1, 2, 1), k.narrow(1, 2, 1), v.narrow(1, 2, 1), e2)},
                         1);
  at::Tensor ref = at::linear(o.reshape({-1, 12}), params["proj.weight"], params["proj.bias"]);
  CHECK(at::allclose(got, ref, 1e-12, 1e-12));
  CHECK_THROWS_WITH(attn->forward(x, {{&ei, 2}}, {}), Catch::Contains("covers 2 heads of 3"));
  // With the rotary embedding: q and k each turned by their node's coordinates (apply_rope, tested
  // below) before the same dense attention.
  gnn::GraphAttention rot(12, 3, true, 50.0);
  rot->to(at::kDouble);
  const at::Tensor pos = at::rand({g.num_nodes, 2}, at::kDouble);
  at::Tensor got_rot = rot->forward(x, {{&ei, 3}}, pos);
  auto rp = rot->named_parameters();
  at::Tensor rqkv = at::linear(x, rp["qkv.weight"], rp["qkv.bias"]).view({-1, 3, 3, 4});
  at::Tensor rq = gnn::apply_rope(rqkv.select(1, 0), pos, 50.0), rk = gnn::apply_rope(rqkv.select(1, 1), pos, 50.0);
  at::Tensor ro = gnn::dense_masked_attention(rq, rk, rqkv.select(1, 2), ei);
  CHECK(at::allclose(got_rot, at::linear(ro.reshape({-1, 12}), rp["proj.weight"], rp["proj.bias"]), 1e-12, 1e-12));
}

TEST_CASE("rotary embedding: relative positions only", "[models]") {
  at::manual_seed(2);
  at::Tensor q = at::randn({6, 2, 8}, at::kDouble), k = at::randn({6, 2, 8}, at::kDouble);
  at::Tensor pos = at::rand({6, 2}, at::kDouble), shift = at::tensor({0.37, -1.2}, at::kDouble);
  auto scores = [&](const at::Tensor& p) {
    return at::einsum("ihd,jhd->hij", {gnn::apply_rope(q, p, 50.0), gnn::apply_rope(k, p, 50.0)});
  };
  CHECK(at::allclose(scores(pos), scores(pos + shift), 1e-10, 1e-10));
  CHECK_FALSE(at::allclose(scores(pos), at::einsum("ihd,jhd->hij", {q, k}), 1e-3, 1e-3));
  CHECK(at::allclose(gnn::apply_rope(q, pos, 50.0).norm(2, 2), q.norm(2, 2), 1e-12, 1e-12));  // rotations
  // The complex-product form equals the real-arithmetic one, values and gradients, also with
  // unrotated trailing features (head dim 10 = 2 axes x 2 pairs x 2 + 2) and a strided input.
  at::Tensor wide = at::randn({6, 3, 2, 10}, at::kDouble).requires_grad_(true);
  at::Tensor x = wide.select(1, 1);
  at::Tensor a = gnn::apply_rope(x, pos, 50.0), b = gnn::apply_rope_real(x, pos, 50.0);
  CHECK(at::allclose(a, b, 1e-13, 1e-13));
  at::Tensor w = at::randn_like(a);
  at::Tensor ga = torch::autograd::grad({(a * w).sum()}, {wide})[0],
             gb = torch::autograd::grad({(b * w).sum()}, {wide})[0];
  CHECK(at::allclose(ga, gb, 1e-13, 1e-13));
  CHECK(at::allclose(gnn::apply_rope(x.to(at::kFloat), pos.to(at::kFloat), 50.0).to(at::kDouble), b, 1e-5, 1e-5));
}

TEST_CASE("mask plans put dilation on half of the heads of the last layers", "[models]") {
  gnn::TransformerConfig c;
  c.layers = 4;
  c.heads = 4;
  gnn::EdgeIndex a, b;
  auto plan = gnn::mask_plan(c, a, &b, 2);
  REQUIRE(plan.size() == 4);
  CHECK(plan[1].size() == 1);
  REQUIRE(plan[2].size() == 2);
  CHECK((plan[2][0].graph == &a && plan[2][0].heads == 2 && plan[2][1].graph == &b && plan[2][1].heads == 2));
  CHECK_THROWS(gnn::mask_plan(c, a, &b, 5));
}

TEST_CASE("both models fit a smooth target on a mesh", "[models][train]") {
  at::manual_seed(3);
  mesh::Mesh m = test::irregular_mesh(8, 8, 4);
  auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(m));
  at::Tensor pos = at::tensor(at::ArrayRef<double>(m.coords)).to(at::kFloat).view({-1, 2}) / 8.0;
  at::Tensor x = at::cat({pos, at::sin(3 * pos)}, 1);
  // Target: a neighbourhood average of a nonlinear function of position (needs message passing).
  at::Tensor f = at::cos(4 * pos.select(1, 0)) * pos.select(1, 1);
  at::Tensor deg = (ei.dst_ptr.slice(0, 1) - ei.dst_ptr.slice(0, 0, -1)).to(at::kFloat);
  at::Tensor target = (at::zeros_like(f).index_add_(0, ei.dst, f.index_select(0, ei.src)) / deg).unsqueeze(1);
  auto fit = [&](auto& model, auto forward) {
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(3e-3));
    double first = 0, last = 0;
    for (int it = 0; it < 150; ++it) {
      opt.zero_grad();
      at::Tensor loss = (forward() - target).pow(2).mean();
      loss.backward();
      opt.step();
      if (it == 0) first = loss.item<double>();
      last = loss.item<double>();
    }
    return first / last;
  };
  gnn::TransformerConfig tc;
  tc.in_dim = 4;
  tc.out_dim = 1;
  tc.latent = 32;
  tc.layers = 2;
  gnn::MeshTransformer tr(tc);
  auto plan = gnn::mask_plan(tc, ei);
  CHECK(fit(tr, [&] { return tr->forward(x, plan, pos); }) > 20);
  gnn::MeshGraphNetConfig mc;
  mc.node_in = 4;
  mc.edge_in = 3;
  mc.out_dim = 1;
  mc.latent = 32;
  mc.steps = 2;
  gnn::MeshGraphNet mgn(mc);
  at::Tensor ef = edge_feats(ei, pos);
  CHECK(fit(mgn, [&] { return mgn->forward(x, ef, ei); }) > 20);
}

TEST_CASE("MeshGraphNet's split first layers equal the concatenation form, values and gradients", "[models]") {
  at::manual_seed(4);
  mesh::Mesh m = test::irregular_mesh(6, 5, 7);
  auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(m));
  auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor pos = at::tensor(at::ArrayRef<double>(m.coords), opts).view({-1, 2});
  for (int hidden : {2, 1, 0}) {
    gnn::MeshGraphNetConfig mc;
    mc.node_in = 5;
    mc.edge_in = 3;
    mc.out_dim = 2;
    mc.latent = 16;
    mc.steps = 3;
    mc.hidden_layers = hidden;
    gnn::MeshGraphNet mgn(mc);
    mgn->to(at::kDouble);
    // Checkpoint layout: full first-layer weights under the names the concatenation form uses.
    auto named = mgn->named_parameters();
    CHECK(named["edge_mlp_0.0.weight"].sizes() == at::IntArrayRef({16, 48}));
    CHECK(named["node_mlp_2.0.weight"].sizes() == at::IntArrayRef({16, 32}));
    // Gradients through the inputs too (x and e are leaves that require grad here).
    at::Tensor x = at::randn({ei.num_nodes, 5}, opts).requires_grad_(), e = edge_feats(ei, pos).requires_grad_();
    at::Tensor w = at::randn({ei.num_nodes, 2}, opts);
    auto grads = [&](at::Tensor y) {
      mgn->zero_grad();
      x.mutable_grad() = at::Tensor();
      e.mutable_grad() = at::Tensor();
      (y * w).sum().backward();
      std::vector<at::Tensor> out{y.detach(), x.grad().clone(), e.grad().clone()};
      for (const auto& p : mgn->parameters()) out.push_back(p.grad().clone());
      return out;
    };
    auto fast = grads(mgn->forward(x, e, ei)), ref = grads(mgn->reference_forward(x, e, ei));
    REQUIRE(fast.size() == ref.size());
    for (size_t i = 0; i < fast.size(); ++i) {
      INFO("hidden_layers " << hidden << ", tensor " << i);
      CHECK((fast[i] - ref[i]).abs().max().item<double>() <= 1e-10 * std::max(1.0, ref[i].abs().max().item<double>()));
    }
  }
  // The benchmark's size keeps the parameter count of the concatenation layout.
  gnn::MeshGraphNetConfig big;
  big.node_in = 11;
  big.edge_in = 3;
  big.out_dim = 2;
  gnn::MeshGraphNet mgn(big);
  int64_t count = 0;
  for (const auto& p : mgn->parameters()) count += p.numel();
  // MeshGraphNets' MLPs (Pfaff et al. 2021): two hidden layers of the latent width, LayerNorm
  // after all but the decoder; the processor's edge MLP reads [e, h_s, h_r], its node MLP [h, Σe].
  const int64_t L = big.latent;
  const auto linear = [](int64_t in, int64_t out) { return in * out + out; };
  const auto mlp = [&](int64_t in, int64_t out, bool norm) {
    return linear(in, L) + linear(L, L) + linear(L, out) + (norm ? 2 * out : 0);
  };
  const int64_t expected = mlp(big.node_in, L, true) + mlp(big.edge_in, L, true) +
                           big.steps * (mlp(3 * L, L, true) + mlp(2 * L, L, true)) + mlp(L, big.out_dim, false);
  CHECK(expected == 2332930);  // the count docs/benchmarks.md quotes for every peer
  CHECK(count == expected);
}

TEST_CASE("MeshGraphNet's output and gradients are the same bits on 1 and 2 threads", "[models][threads]") {
  // The MLPs' row blocks follow the thread count; their bounds fall on the products' 16-row panels
  // so that each row meets the same kernel call. Unaligned, the decoder's output differed at 1,426
  // and 2,201 nodes on an AVX-512 Xeon (libxsmm's short-panel kernel) and a training run's loss
  // from its eighth step on. Mesh sizes around those, float32 as in training.
  const int before = at::get_num_threads();
  for (int nx : {20, 45, 57, 70}) {
    at::manual_seed(4);
    mesh::Mesh m = test::irregular_mesh(nx, 30, 7);
    auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(m));
    const at::TensorOptions f32 = at::TensorOptions().dtype(at::kFloat);
    const at::Tensor pos = at::tensor(at::ArrayRef<double>(m.coords), at::kDouble).view({-1, 2}).to(at::kFloat);
    gnn::MeshGraphNetConfig mc;
    mc.node_in = 11;
    mc.edge_in = 3;
    mc.out_dim = 2;
    mc.steps = 3;
    gnn::MeshGraphNet mgn(mc);
    const at::Tensor x = at::randn({ei.num_nodes, 11}, f32), e = edge_feats(ei, pos);
    const auto run = [&](int threads) {
      at::set_num_threads(threads);
      mgn->zero_grad();
      const at::Tensor y = mgn->forward(x, e, ei);
      y.square().sum().backward();  // every gradient depends on the output's bits
      std::vector<at::Tensor> out{y.detach()};
      for (const auto& p : mgn->parameters()) out.push_back(p.grad().clone());
      return out;
    };
    const auto one = run(1), two = run(2);
    for (size_t i = 0; i < one.size(); ++i) {
      INFO(ei.num_nodes << " nodes, tensor " << i << " (0: the output)");
      CHECK(at::equal(one[i], two[i]));
    }
  }
  at::set_num_threads(before);
}
