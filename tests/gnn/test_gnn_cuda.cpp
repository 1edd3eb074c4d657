// CUDA kernels against their CPU twins. Exits with 77 (ctest: skipped) when no GPU is present.
#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>

#include "gnn/edge_index.hpp"
#include "gnn/edge_latent_fan_out.hpp"
#include "gnn/kernels/segment_sum.hpp"
#include "gnn/message_passing.hpp"
#include "gnn/sparse_attention.hpp"
#include "mesh/augment.hpp"
#include "mesh/graph.hpp"
#include "tests/mesh_fixtures.hpp"

using namespace tessera;

namespace {
struct SkipWithoutGpu {
  SkipWithoutGpu() {
    if (!at::hasCUDA()) {  // true only with a usable CUDA device
      std::cout << "no CUDA device: skipping GPU tests\n";
      std::exit(77);
    }
  }
} skip_without_gpu;

// t on `device` as a fresh leaf that requires grad. detach(): on the CPU, to() returns t itself,
// which must not become a leaf that requires grad (the CUDA run's to() would then be a non-leaf
// without .grad()).
at::Tensor leaf_on(const at::Tensor& t, const at::Device& device) { return t.to(device).detach().requires_grad_(); }
}  // namespace

TEST_CASE("CUDA segment_sum equals CPU", "[gnn][cuda]") {
  mesh::Graph g = mesh::random_jumps(mesh::mesh_graph(test::irregular_mesh(40, 30, 2)), 0.2, 5);
  auto ei = gnn::EdgeIndex::from_graph(g);
  auto eg = ei.to(at::kCUDA);
  for (int64_t f : {1, 7, 32, 100}) {
    at::Tensor v = at::randn({ei.num_edges(), f});
    at::Tensor cpu = gnn::kernels::segment_sum(v, ei.dst_ptr, at::Tensor());
    at::Tensor gpu = gnn::kernels::segment_sum(v.cuda(), eg.dst_ptr, at::Tensor()).cpu();
    CHECK(at::allclose(cpu, gpu, 1e-5, 1e-5));
    at::Tensor cpu_p = gnn::kernels::segment_sum(v, ei.src_ptr, ei.src_perm);
    at::Tensor gpu_p = gnn::kernels::segment_sum(v.cuda(), eg.src_ptr, eg.src_perm).cpu();
    CHECK(at::allclose(cpu_p, gpu_p, 1e-5, 1e-5));
  }
  at::Tensor v64 = at::randn({ei.num_edges(), 5}, at::kDouble);
  CHECK(at::allclose(gnn::kernels::segment_sum(v64, ei.dst_ptr, at::Tensor()),
                     gnn::kernels::segment_sum(v64.cuda(), eg.dst_ptr, at::Tensor()).cpu(), 1e-12, 1e-12));
  // Half precision inputs, fp32 accumulation: error of one final rounding.
  for (auto dt : {at::kHalf, at::kBFloat16}) {
    at::Tensor v = at::randn({ei.num_edges(), 16});
    at::Tensor ref = gnn::kernels::segment_sum(v.to(dt).to(at::kFloat), ei.dst_ptr, at::Tensor());
    at::Tensor got = gnn::kernels::segment_sum(v.to(dt).cuda(), eg.dst_ptr, at::Tensor()).cpu().to(at::kFloat);
    CHECK(at::allclose(got, ref, dt == at::kHalf ? 2e-3 : 1e-2, 1e-2));
  }
}

TEST_CASE("CUDA weighted_gather_sum equals the dense matrix product", "[gnn][cuda]") {
  mesh::Graph g = mesh::random_jumps(mesh::mesh_graph(test::irregular_mesh(30, 20, 3)), 0.2, 5);
  auto ei = gnn::EdgeIndex::from_graph(g);
  auto eg = ei.to(at::kCUDA);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const auto o = at::TensorOptions().dtype(dtype);
    at::Tensor x = at::randn({ei.num_nodes, 33}, o), w = at::randn({ei.num_edges()}, o);
    // Independent reference: the dense [N, N] matrix with A[dst, src] += w, times x (on the host).
    at::Tensor a = at::zeros({ei.num_nodes, ei.num_nodes}, o);
    a.index_put_({ei.dst, ei.src}, w, /*accumulate=*/true);
    const double tol = dtype == at::kFloat ? 1e-5 : 1e-12;
    const at::Tensor got = gnn::kernels::weighted_gather_sum(x.cuda(), eg.dst_ptr, eg.src, w.cuda());
    CHECK(got.is_cuda());
    CHECK(at::allclose(got.cpu(), at::mm(a, x), tol, tol));
    // The transposed product through the source CSR (the backward of the forward above).
    at::Tensor gr = at::randn({ei.num_nodes, 33}, o);
    const at::Tensor by_src = eg.dst.index_select(0, eg.src_perm), w_by_src = w.cuda().index_select(0, eg.src_perm);
    CHECK(at::allclose(gnn::kernels::weighted_gather_sum(gr.cuda(), eg.src_ptr, by_src, w_by_src).cpu(),
                       at::mm(a.t(), gr), tol, tol));
  }
  // Half precision x, fp32 accumulation: the error of one final rounding of the fp32 result.
  for (auto dt : {at::kHalf, at::kBFloat16}) {
    at::Tensor x = at::randn({ei.num_nodes, 16}).to(dt), w = at::randn({ei.num_edges()}).to(dt);
    const at::Tensor ref = gnn::kernels::weighted_gather_sum(x.to(at::kFloat), ei.dst_ptr, ei.src, w.to(at::kFloat));
    const at::Tensor got = gnn::kernels::weighted_gather_sum(x.cuda(), eg.dst_ptr, eg.src, w.cuda());
    CHECK(got.scalar_type() == dt);
    CHECK(at::allclose(got.cpu().to(at::kFloat), ref, dt == at::kHalf ? 2e-3 : 1e-2, 1e-2));
  }
  // Weights as [E, 1] and in another type than x (cast to x's): the same product.
  {
    at::Tensor x = at::randn({ei.num_nodes, 8}), w = at::randn({ei.num_edges()}, at::kDouble);
    const at::Tensor ref = gnn::kernels::weighted_gather_sum(x, ei.dst_ptr, ei.src, w.to(at::kFloat));
    CHECK(at::allclose(gnn::kernels::weighted_gather_sum(x.cuda(), eg.dst_ptr, eg.src, w.cuda().unsqueeze(1)).cpu(),
                       ref, 1e-5, 1e-5));
    // No entries at all: every row is zero.
    const at::Tensor none = at::zeros({ei.num_nodes + 1}, at::kLong).cuda();
    const at::Tensor empty =
        gnn::kernels::weighted_gather_sum(x.cuda(), none, at::empty({0}, at::kLong).cuda(), at::empty({0}).cuda());
    CHECK(empty.size(0) == ei.num_nodes);
    CHECK(empty.abs().sum().item<float>() == 0.0f);
  }
  // A ptr that is not int64 is refused before any kernel runs.
  CHECK_THROWS(gnn::kernels::weighted_gather_sum(at::ones({2, 3}).cuda(), at::tensor({0, 2}, at::kInt).cuda(),
                                                 at::tensor({1, 0}, at::kLong).cuda(), at::ones({2}).cuda()));
  // Empty rows are zero.
  at::Tensor ptr = at::tensor({0, 0, 2, 2}, at::kLong).cuda(), idx = at::tensor({1, 0}, at::kLong).cuda();
  at::Tensor out =
      gnn::kernels::weighted_gather_sum(at::ones({2, 3}).cuda(), ptr, idx, at::full({2}, 2.0f).cuda()).cpu();
  CHECK(out[1].sum().item<float>() == 12.0f);
  CHECK(out[0].abs().sum().item<float>() == 0.0f);
  CHECK(out[2].abs().sum().item<float>() == 0.0f);
}

TEST_CASE("CUDA message passing gradients equal CPU", "[gnn][cuda]") {
  auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(test::irregular_mesh(10, 8, 4)));
  auto eg = ei.to(at::kCUDA);
  at::Tensor x = at::randn({ei.num_nodes, 4}, at::kDouble);
  auto run = [](const at::Tensor& x0, const gnn::EdgeIndex& e) {
    at::Tensor x1 = x0.clone().requires_grad_(true);
    at::Tensor y = gnn::scatter_sum_dst(gnn::gather_src(x1, e).sin(), e).pow(2).sum();
    y.backward();
    return std::make_pair(y.item<double>(), x1.grad().cpu());
  };
  auto [yc, gc] = run(x, ei);
  auto [yg, gg] = run(x.cuda(), eg);
  CHECK(yc == Approx(yg).epsilon(1e-12));
  CHECK(at::allclose(gc, gg, 1e-10, 1e-12));
}

// gather_add and edge_latent_fan_out take ATen's operations on the GPU (and the CPU kernels here):
// values and gradients of every input agree.
TEST_CASE("CUDA gather_add and edge_latent_fan_out equal CPU", "[gnn][cuda]") {
  auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(test::irregular_mesh(10, 8, 4)));
  auto eg = ei.to(at::kCUDA);
  const int64_t e = ei.num_edges(), n = ei.num_nodes;
  const at::Tensor q0 = at::randn({e, 6}, at::kDouble), ps0 = at::randn({n, 6}, at::kDouble),
                   pr0 = at::randn({n, 6}, at::kDouble), w0 = at::randn({5, 6}, at::kDouble),
                   b0 = at::randn({5}, at::kDouble);
  auto run = [&](const gnn::EdgeIndex& ix, at::Device d) {
    at::Tensor q = leaf_on(q0, d), ps = leaf_on(ps0, d), pr = leaf_on(pr0, d), w = leaf_on(w0, d), b = leaf_on(b0, d);
    at::Tensor a = gnn::gather_add(q, ps, pr, ix, true);
    const gnn::EdgeLatentFanOut u = gnn::edge_latent_fan_out(a, w, b, ix, true);
    (u.q.sin().sum() + u.residual.pow(2).sum() + u.agg.cos().sum()).backward();
    std::vector<at::Tensor> out{a, u.q, u.agg, q.grad(), ps.grad(), pr.grad(), w.grad(), b.grad()};
    for (auto& t : out) t = t.detach().cpu();
    return out;
  };
  const auto cpu = run(ei, at::kCPU), gpu = run(eg, at::kCUDA);
  for (size_t i = 0; i < cpu.size(); ++i) {
    INFO("output " << i);
    CHECK(at::allclose(cpu[i], gpu[i], 1e-10, 1e-12));
  }
}

TEST_CASE("CUDA sparse attention equals CPU, forward and backward", "[attention][cuda]") {
  mesh::Graph g =
      mesh::global_nodes(mesh::random_jumps(mesh::mesh_graph(test::irregular_mesh(30, 20, 5)), 0.2, 9), {3});
  auto ei = gnn::EdgeIndex::from_graph(g);
  auto eg = ei.to(at::kCUDA);
  for (int64_t d : {16, 33, 64, 128, 200}) {
    for (auto t : {at::kFloat, at::kDouble}) {
      auto opts = at::TensorOptions().dtype(t);
      at::Tensor q = at::randn({ei.num_nodes, 4, d}, opts), k = at::randn({ei.num_nodes, 4, d}, opts);
      at::Tensor v = at::randn({ei.num_nodes, 4, d}, opts), w = at::randn({ei.num_nodes, 4, d}, opts);
      auto run = [&](const gnn::EdgeIndex& e, const at::Device& dev) {
        at::Tensor qq = leaf_on(q, dev), kk = leaf_on(k, dev), vv = leaf_on(v, dev);
        at::Tensor o = gnn::sparse_attention(qq, kk, vv, e);
        (o * w.to(dev)).sum().backward();
        return std::vector<at::Tensor>{o.cpu(), qq.grad().cpu(), kk.grad().cpu(), vv.grad().cpu()};
      };
      auto c = run(ei, at::kCPU), gp = run(eg, at::kCUDA);
      const double tol = t == at::kFloat ? 1e-4 : 1e-11;
      for (int i = 0; i < 4; ++i) {
        INFO("d " << d << " dtype " << t << " tensor " << i);
        CHECK(at::allclose(c[i], gp[i], tol, tol));
      }
    }
  }
  // Half and bfloat16 inputs with fp32 accumulation, against the fp32 CPU result of the rounded inputs.
  for (auto t : {at::kHalf, at::kBFloat16}) {
    at::Tensor q = at::randn({ei.num_nodes, 4, 32}).to(t), k = at::randn({ei.num_nodes, 4, 32}).to(t);
    at::Tensor v = at::randn({ei.num_nodes, 4, 32}).to(t);
    at::Tensor ref = gnn::sparse_attention(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), ei);
    at::Tensor got = gnn::sparse_attention(q.cuda(), k.cuda(), v.cuda(), eg).cpu().to(at::kFloat);
    CHECK(at::allclose(got, ref, t == at::kHalf ? 5e-3 : 3e-2, 1e-2));
  }
}
