// gnn kernels and message-passing ops on CPU against plain-torch references; gradients
// against central finite differences in double precision.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "gnn/edge_index.hpp"
#include "gnn/edge_latent_fan_out.hpp"
#include "gnn/kernels/segment_sum.hpp"
#include "gnn/message_passing.hpp"
#include "gnn/sparse_attention.hpp"
#include "mesh/augment.hpp"
#include "mesh/graph.hpp"
#include "tests/mesh_fixtures.hpp"

using namespace tessera;

static gnn::EdgeIndex test_graph() {
  mesh::Graph g = mesh::random_jumps(mesh::mesh_graph(test::irregular_mesh(6, 5, 3)), 0.3, 11);
  return gnn::EdgeIndex::from_graph(g);
}

TEST_CASE("segment_sum equals index_add", "[gnn][kernels]") {
  auto ei = test_graph();
  for (auto dtype : {at::kFloat, at::kDouble}) {
    at::Tensor v = at::randn({ei.num_edges(), 7}, at::TensorOptions().dtype(dtype));
    at::Tensor ref = at::zeros({ei.num_nodes, 7}, v.options()).index_add_(0, ei.dst, v);
    at::Tensor got = gnn::kernels::segment_sum(v, ei.dst_ptr, at::Tensor());
    CHECK(at::allclose(got, ref, 1e-5, 1e-6));
    // Source-grouped order through the permutation.
    at::Tensor ref_src = at::zeros({ei.num_nodes, 7}, v.options()).index_add_(0, ei.src, v);
    CHECK(at::allclose(gnn::kernels::segment_sum(v, ei.src_ptr, ei.src_perm), ref_src, 1e-5, 1e-6));
  }
  // Half types: summed in fp32, rounded once (a bf16 running sum would drift by far more).
  for (auto dtype : {at::kBFloat16, at::kHalf}) {
    at::Tensor v = at::randn({ei.num_edges(), 7}).to(dtype);
    at::Tensor got = gnn::kernels::segment_sum(v, ei.dst_ptr, at::Tensor());
    REQUIRE(got.scalar_type() == dtype);
    at::Tensor ref = at::zeros({ei.num_nodes, 7}).index_add_(0, ei.dst, v.to(at::kFloat)).to(dtype);
    CHECK(at::equal(got, ref));
  }
  // Isolated nodes (empty segments) give zero rows.
  at::Tensor ptr = at::tensor({0, 0, 2, 2}, at::kLong);
  at::Tensor out = gnn::kernels::segment_sum(at::ones({2, 3}), ptr, at::Tensor());
  CHECK(out.sum().item<float>() == 6.0f);
  CHECK(out[0].abs().sum().item<float>() == 0.0f);
  CHECK_THROWS(gnn::kernels::segment_sum(at::ones({3}), ptr, at::Tensor()));
}

TEST_CASE("weighted_gather_sum equals the dense matrix product", "[gnn][kernels]") {
  auto ei = test_graph();
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const auto o = at::TensorOptions().dtype(dtype);
    at::Tensor x = at::randn({ei.num_nodes, 9}, o), w = at::randn({ei.num_edges()}, o);
    // Independent reference: the dense [N, N] matrix with A[dst, src] += w, times x.
    at::Tensor a = at::zeros({ei.num_nodes, ei.num_nodes}, o);
    a.index_put_({ei.dst, ei.src}, w, /*accumulate=*/true);
    const double tol = dtype == at::kFloat ? 1e-5 : 1e-12;
    CHECK(at::allclose(gnn::kernels::weighted_gather_sum(x, ei.dst_ptr, ei.src, w), at::mm(a, x), tol, tol));
    // The transposed product through the source CSR: the backward of the forward above.
    at::Tensor g = at::randn({ei.num_nodes, 9}, o);
    const at::Tensor by_src = ei.dst.index_select(0, ei.src_perm), w_by_src = w.index_select(0, ei.src_perm);
    CHECK(at::allclose(gnn::kernels::weighted_gather_sum(g, ei.src_ptr, by_src, w_by_src), at::mm(a.t(), g), tol, tol));
    // The ATen composition (other devices and types) gives the same values.
    const at::Tensor composed =
        gnn::kernels::segment_sum(x.index_select(0, ei.src) * w.unsqueeze(1), ei.dst_ptr, at::Tensor());
    CHECK(at::allclose(gnn::kernels::weighted_gather_sum(x, ei.dst_ptr, ei.src, w), composed, tol, tol));
  }
  // Empty rows are zero; an index without one weight per entry is refused.
  at::Tensor ptr = at::tensor({0, 0, 2, 2}, at::kLong), idx = at::tensor({1, 0}, at::kLong);
  at::Tensor out = gnn::kernels::weighted_gather_sum(at::ones({2, 3}), ptr, idx, at::full({2}, 2.0f));
  CHECK(out[1].sum().item<float>() == 12.0f);
  CHECK(out[0].abs().sum().item<float>() == 0.0f);
  CHECK(out[2].abs().sum().item<float>() == 0.0f);
  CHECK_THROWS(gnn::kernels::weighted_gather_sum(at::ones({2, 3}), ptr, idx, at::ones({3})));
}

// scripts/test runs every test process on one OpenMP thread (ctest runs two at once on 2 cores):
// this case runs the CPU kernels' parallel loops on two threads and checks they give the bits of
// one thread (every output row is summed by one thread, in edge order).
// One OpenMP runtime serves torch and tessera's kernels: with two linked in the wrong order (a
// clang build linking LLVM's libomp after the wheel's libgomp), each thread of at::parallel_for
// saw itself as thread 0 and did the whole range, which the tests at one thread never showed.
TEST_CASE("at::parallel_for on 2 threads covers each element once", "[gnn][threads]") {
  const int threads_before = at::get_num_threads();
  at::set_num_threads(2);
  std::vector<std::atomic<int>> covered(4000);
  std::atomic<int> max_thread{0};
  at::parallel_for(0, 4000, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) covered[i].fetch_add(1);
    const int t = at::get_thread_num();
    for (int m = max_thread.load(); t > m && !max_thread.compare_exchange_weak(m, t);) {
    }
  });
  at::set_num_threads(threads_before);
  CHECK(std::all_of(covered.begin(), covered.end(), [](const std::atomic<int>& c) { return c.load() == 1; }));
  CHECK(max_thread.load() == 1);  // the second thread took part
}

TEST_CASE("CPU kernels give the same bits on 1 and 2 threads", "[gnn][kernels][threads]") {
  const auto ei = gnn::EdgeIndex::from_graph(
      mesh::random_jumps(mesh::mesh_graph(test::irregular_mesh(40, 30, 5)), 0.3, 7));  // > 1000 rows
  const int threads_before = at::get_num_threads();
  auto run = [&](int threads) {
    at::set_num_threads(threads);
    at::manual_seed(3);
    const int64_t n = ei.num_nodes, e = ei.num_edges();
    at::Tensor q = at::randn({n, 4, 8}).requires_grad_(), k = at::randn({n, 4, 8}).requires_grad_(),
               v = at::randn({n, 4, 8}).requires_grad_();
    at::Tensor qe = at::randn({e, 16}).requires_grad_(), ps = at::randn({n, 16}).requires_grad_(),
               pr = at::randn({n, 16}).requires_grad_();
    at::Tensor att = gnn::sparse_attention(q, k, v, ei);
    at::Tensor edges = gnn::gather_add(qe, ps, pr, ei, true);
    at::Tensor sums = gnn::kernels::segment_sum(edges.detach(), ei.dst_ptr, at::Tensor());
    at::Tensor lat = at::randn({e, 16}).requires_grad_(), w = at::randn({12, 16}).requires_grad_(),
               b = at::randn({12}).requires_grad_();
    const gnn::EdgeLatentFanOut u = gnn::edge_latent_fan_out(lat, w, b, ei, true);
    (att * at::randn_like(att)).sum().backward();
    (edges * at::randn_like(edges)).sum().backward();
    ((u.q * at::randn_like(u.q)).sum() + (u.residual * at::randn_like(u.residual)).sum() +
     (u.agg * at::randn_like(u.agg)).sum())
        .backward();
    return std::vector<at::Tensor>{att,       q.grad(),  k.grad(),   v.grad(), edges,    sums, qe.grad(),
                                   ps.grad(), pr.grad(), lat.grad(), w.grad(), b.grad(), u.q};
  };
  const auto one = run(1), two = run(2);
  at::set_num_threads(threads_before);
  REQUIRE(at::get_num_threads() == threads_before);
  for (size_t i = 0; i < one.size(); ++i) {
    INFO("output " << i);
    CHECK(at::equal(one[i], two[i]));
  }
}

// gather_add against index_select + add (+ ReLU) under autograd: values and all three gradients,
// on a graph with a node that has no edges (an empty segment in both CSR orders). With the ReLU the
// CPU backward is one fused pass (ReLU backward and the destination sums); a second-order gradient
// (create_graph) takes the differentiable path.
TEST_CASE("gather_add's gradients equal plain torch's, with and without its ReLU", "[gnn][grad]") {
  const auto ei = gnn::EdgeIndex::from_graph(
      mesh::graph_from_pairs(6, {{0, 1}, {1, 2}, {2, 0}, {3, 4}, {1, 3}, {4, 0}}, true));  // node 5: no edges
  for (auto dtype : {at::kFloat, at::kDouble})
    for (bool relu : {true, false}) {
      INFO((dtype == at::kFloat ? "fp32" : "fp64") << (relu ? ", ReLU" : ""));
      const at::TensorOptions o = at::TensorOptions().dtype(dtype);
      const int64_t n = ei.num_nodes, e = ei.num_edges(), f = 9;
      at::manual_seed(5);
      const at::Tensor q0 = at::randn({e, f}, o), ps0 = at::randn({n, f}, o), pr0 = at::randn({n, f}, o),
                       w = at::randn({e, f}, o);
      auto grads = [&](bool ours) {
        at::Tensor q = q0.clone().requires_grad_(), ps = ps0.clone().requires_grad_(),
                   pr = pr0.clone().requires_grad_();
        at::Tensor y =
            ours ? gnn::gather_add(q, ps, pr, ei, relu) : q + ps.index_select(0, ei.src) + pr.index_select(0, ei.dst);
        if (!ours && relu) y = at::relu(y);
        (y * w).sum().backward();
        return std::vector<at::Tensor>{y.detach(), q.grad(), ps.grad(), pr.grad()};
      };
      const auto got = grads(true), expected = grads(false);
      const double tol = dtype == at::kFloat ? 1e-5 : 1e-12;
      for (size_t i = 0; i < got.size(); ++i) {
        INFO("output " << i);
        CHECK(at::allclose(got[i], expected[i], tol, tol));
      }
      CHECK(got[2][5].abs().sum().item<double>() == 0.0);  // the edgeless node
      CHECK(got[3][5].abs().sum().item<double>() == 0.0);
    }
  // Second order, with and without the ReLU (create_graph: the differentiable backward, not the
  // fused pass).
  const int64_t n = ei.num_nodes, e = ei.num_edges();
  for (const bool relu : {true, false}) {
    INFO("relu " << relu);
    auto second = [&](bool ours) {
      at::Tensor q = at::randn({e, 4}, at::kDouble).requires_grad_(),
                 ps = at::randn({n, 4}, at::kDouble).requires_grad_(),
                 pr = at::randn({n, 4}, at::kDouble).requires_grad_();
      const at::Tensor sum = q + ps.index_select(0, ei.src) + pr.index_select(0, ei.dst);
      at::Tensor y = ours ? gnn::gather_add(q, ps, pr, ei, relu) : relu ? at::relu(sum) : sum;
      at::Tensor gq = torch::autograd::grad({(y * y).sum()}, {q}, {}, true, true)[0];
      return torch::autograd::grad({(gq * gq).sum()}, {ps})[0];
    };
    at::manual_seed(6);
    const at::Tensor ours = second(true);
    at::manual_seed(6);
    CHECK(at::allclose(ours, second(false), 1e-12, 1e-12));
  }
}

// edge_latent_fan_out against its three consumers one by one (linalg::linear on a column block of a
// larger weight, the residual, scatter_sum_dst) under autograd: values and the gradients of g, the
// weight and the bias, with and without the scatter and the bias, with some outputs unused, on a
// graph with an edgeless node; and a second-order gradient (create_graph: the differentiable path).
// The fan-out's outputs q, residual and agg (undefined without `scatter`): by edge_latent_fan_out
// (ours) or by its consumers one by one (linear with the bias if given, g itself, scatter_sum_dst).
static gnn::EdgeLatentFanOut fan_out_outputs(bool ours, const at::Tensor& g, const at::Tensor& w, const at::Tensor& b,
                                             const gnn::EdgeIndex& ei, bool scatter) {
  if (ours) {
    gnn::EdgeLatentFanOut u = gnn::edge_latent_fan_out(g, w, b, ei, scatter);
    CHECK(u.agg.defined() == scatter);
    return u;
  }
  return {b.defined() ? at::addmm(b, g, w.t()) : at::mm(g, w.t()), g,
          scatter ? gnn::scatter_sum_dst(g, ei) : at::Tensor(), false};
}

// On a graph of 6,000 edges the backward's weight-gradient pass has six chunks, each followed by
// its rows of g's gradient (linalg::weight_and_bias_grads_then), on two threads: the same values
// as the consumers one by one, and the same bits on 1 and 2 threads.
TEST_CASE("edge_latent_fan_out's chunked backward on a graph of several chunks", "[gnn][grad]") {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  const int64_t nodes = 1000;
  for (int64_t i = 0; i < nodes; ++i)
    for (int64_t d : {1, 7, 31}) pairs.push_back({i, (i + d) % nodes});
  const auto ei = gnn::EdgeIndex::from_graph(mesh::graph_from_pairs(nodes, pairs, true));
  REQUIRE(ei.num_edges() == 6000);
  const int64_t e = ei.num_edges(), f = 16, p = 12;
  for (auto dtype : {at::kFloat, at::kDouble}) {
    INFO((dtype == at::kFloat ? "fp32" : "fp64"));
    const at::TensorOptions o = at::TensorOptions().dtype(dtype);
    at::manual_seed(4);
    const at::Tensor g0 = at::randn({e, f}, o), w0 = at::randn({p, f}, o), b0 = at::randn({p}, o),
                     wq = at::randn({e, p}, o), wr = at::randn({e, f}, o), wa = at::randn({nodes, f}, o);
    auto run = [&](bool ours, int threads) {
      const int before = at::get_num_threads();
      at::set_num_threads(threads);
      at::Tensor g = g0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
      const auto [q, res, agg, deferred] = fan_out_outputs(ours, g, w, b, ei, true);
      ((q * wq).sum() + (res * res * wr).sum() + (agg * wa).sum()).backward();
      at::set_num_threads(before);
      return std::vector<at::Tensor>{g.grad(), w.grad(), b.grad()};
    };
    const auto one = run(true, 1), two = run(true, 2), expected = run(false, 2);
    const double tol = dtype == at::kFloat ? 2e-5 : 1e-12;
    for (size_t i = 0; i < one.size(); ++i) {
      INFO("gradient " << i);
      CHECK(at::allclose(two[i], expected[i], tol, tol * std::max(1.0, expected[i].abs().max().item<double>())));
      CHECK(at::equal(one[i], two[i]));
    }
  }
}

TEST_CASE("edge_latent_fan_out equals its consumers one by one", "[gnn][grad]") {
  const auto ei = gnn::EdgeIndex::from_graph(
      mesh::graph_from_pairs(6, {{0, 1}, {1, 2}, {2, 0}, {3, 4}, {1, 3}, {4, 0}}, true));  // node 5: no edges
  const int64_t e = ei.num_edges(), f = 9, p = 7;
  for (auto dtype : {at::kFloat, at::kDouble})
    for (int variant = 0; variant < 8; ++variant) {
      const bool scatter = variant & 1, bias = variant & 2, all_used = variant & 4;
      INFO((dtype == at::kFloat ? "fp32" : "fp64")
           << (scatter ? ", scatter" : "") << (bias ? ", bias" : "") << (all_used ? "" : ", q and agg only"));
      const at::TensorOptions o = at::TensorOptions().dtype(dtype);
      at::manual_seed(variant);
      const at::Tensor g0 = at::randn({e, f}, o), w0 = at::randn({p, 3 * f}, o), b0 = at::randn({p}, o),
                       wq = at::randn({e, p}, o), wr = at::randn({e, f}, o), wa = at::randn({ei.num_nodes, f}, o);
      auto run = [&](bool ours) {
        at::Tensor g = g0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
        const at::Tensor block = w.narrow(1, f, f), bb = bias ? b : at::Tensor();
        const auto [q, res, agg, deferred] = fan_out_outputs(ours, g, block, bb, ei, scatter);
        at::Tensor loss = (q * wq).sum();
        if (all_used) loss = loss + (res * res * wr).sum();
        if (scatter) loss = loss + (agg * wa).sum();
        loss.backward();
        std::vector<at::Tensor> out{q.detach(), g.grad(), w.grad()};
        if (bias) out.push_back(b.grad());
        if (scatter) out.push_back(agg.detach());
        return out;
      };
      const auto got = run(true), expected = run(false);
      const double tol = dtype == at::kFloat ? 1e-5 : 1e-12;
      for (size_t i = 0; i < got.size(); ++i) {
        INFO("output " << i);
        REQUIRE(got[i].defined());
        CHECK(at::allclose(got[i], expected[i], tol, tol));
      }
      CHECK(got[2].narrow(1, 0, f).abs().sum().item<double>() == 0.0);  // only the block has a gradient
    }
  // Second order (create_graph): d/dw of |dL/dg|² with L using all three outputs.
  auto second = [&](bool ours) {
    at::manual_seed(9);
    at::Tensor g = at::randn({e, 4}, at::kDouble).requires_grad_(), w = at::randn({3, 4}, at::kDouble).requires_grad_(),
               b = at::randn({3}, at::kDouble).requires_grad_();
    const auto [q, res, agg, deferred] = fan_out_outputs(ours, g, w, b, ei, true);
    at::Tensor gg =
        torch::autograd::grad({(q * q).sum() + (res * res).sum() + (agg * agg).sum()}, {g}, {}, true, true)[0];
    return torch::autograd::grad({(gg * gg).sum()}, {w, b});
  };
  const auto ours = second(true), theirs = second(false);
  CHECK(at::allclose(ours[0], theirs[0], 1e-12, 1e-12));
  CHECK(at::allclose(ours[1], theirs[1], 1e-12, 1e-12));
  CHECK_THROWS_AS(gnn::edge_latent_fan_out(at::randn({e + 1, 4}), at::randn({3, 4}), {}, ei, true), tessera::Error);
}

TEST_CASE("EdgeIndex orders", "[gnn]") {
  auto ei = test_graph();
  const int64_t e = ei.num_edges();
  // The edges as (dst, src) and (src, dst) pairs, sorted here by std::sort.
  std::vector<std::pair<int64_t, int64_t>> by_dst, by_src;
  for (int64_t i = 0; i < e; ++i) {
    const int64_t s = ei.src[i].item<int64_t>(), d = ei.dst[i].item<int64_t>();
    by_dst.push_back({d, s});
    by_src.push_back({s, d});
  }
  auto sorted_dst = by_dst, sorted_src = by_src;
  std::sort(sorted_dst.begin(), sorted_dst.end());
  std::sort(sorted_src.begin(), sorted_src.end());
  // src, dst themselves are sorted by (dst, src); src_perm orders them by (src, dst).
  CHECK(by_dst == sorted_dst);
  std::vector<std::pair<int64_t, int64_t>> permuted;
  for (int64_t i = 0; i < e; ++i) permuted.push_back(by_src[ei.src_perm[i].item<int64_t>()]);
  CHECK(permuted == sorted_src);
  // Both pointer arrays: the edges per node, as counted here.
  std::vector<int64_t> out_degree(ei.num_nodes, 0), in_degree(ei.num_nodes, 0);
  for (const auto& [s, d] : by_src) ++out_degree[s], ++in_degree[d];
  for (int64_t v = 0; v < ei.num_nodes; ++v) {
    INFO("node " << v);
    CHECK(ei.src_ptr[v + 1].item<int64_t>() - ei.src_ptr[v].item<int64_t>() == out_degree[v]);
    CHECK(ei.dst_ptr[v + 1].item<int64_t>() - ei.dst_ptr[v].item<int64_t>() == in_degree[v]);
  }
  CHECK(ei.src_ptr[0].item<int64_t>() == 0);
  CHECK(ei.dst_ptr[0].item<int64_t>() == 0);
}

TEST_CASE("gather/scatter forward equals plain torch", "[gnn]") {
  auto ei = test_graph();
  at::Tensor x = at::randn({ei.num_nodes, 5});
  CHECK(at::equal(gnn::gather_src(x, ei), x.index_select(0, ei.src)));
  CHECK(at::equal(gnn::gather_dst(x, ei), x.index_select(0, ei.dst)));
  at::Tensor m = at::randn({ei.num_edges(), 5});
  CHECK(at::allclose(gnn::scatter_sum_dst(m, ei), at::zeros({ei.num_nodes, 5}).index_add_(0, ei.dst, m), 1e-5, 1e-6));
}

// A scalar function of x through every op: messages from sources, weighted, summed at
// destinations, then gathered back by destination.
static at::Tensor composite(const at::Tensor& x, const at::Tensor& w, const gnn::EdgeIndex& ei) {
  at::Tensor msg = gnn::gather_src(x, ei) * w;
  at::Tensor agg = gnn::scatter_sum_dst(at::tanh(msg), ei);
  return (gnn::gather_dst(agg, ei) * gnn::gather_src(x, ei)).sum();
}

TEST_CASE("gradients match central finite differences (double)", "[gnn][grad]") {
  auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(test::irregular_mesh(3, 3, 1)));
  at::Tensor x = at::randn({ei.num_nodes, 3}, at::kDouble).requires_grad_(true);
  at::Tensor w = at::randn({ei.num_edges(), 3}, at::kDouble);
  at::Tensor y = composite(x, w, ei);
  at::Tensor g = torch::autograd::grad({y}, {x})[0];
  const double h = 1e-6;
  at::Tensor xd = x.detach().clone();
  double max_err = 0;
  for (int64_t i = 0; i < xd.numel(); ++i) {
    auto flat = xd.view({-1});
    const double orig = flat[i].item<double>();
    flat[i] = orig + h;
    double fp = composite(xd, w, ei).item<double>();
    flat[i] = orig - h;
    double fm = composite(xd, w, ei).item<double>();
    flat[i] = orig;
    max_err = std::max(max_err, std::abs((fp - fm) / (2 * h) - g.view({-1})[i].item<double>()));
  }
  CHECK(max_err < 1e-7);
}

TEST_CASE("double backward through scatter", "[gnn][grad]") {
  auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(test::grid_mesh(2, 2)));
  at::Tensor m = at::randn({ei.num_edges(), 2}, at::kDouble).requires_grad_(true);
  // y = sum(scatter(m)^2): dy/dm = 2 * scatter(m)[dst]; d/dm of sum(dy/dm) = 2 * deg(dst) per edge.
  at::Tensor y = gnn::scatter_sum_dst(m, ei).pow(2).sum();
  at::Tensor g = torch::autograd::grad({y}, {m}, {}, true, true)[0];
  at::Tensor gg = torch::autograd::grad({g.sum()}, {m})[0];
  at::Tensor deg = (ei.dst_ptr.slice(0, 1) - ei.dst_ptr.slice(0, 0, -1)).to(at::kDouble);
  at::Tensor expect = (2 * deg.index_select(0, ei.dst)).unsqueeze(1).expand({-1, 2});
  CHECK(at::allclose(gg, expect));
}
