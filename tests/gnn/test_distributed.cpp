// Distributed message passing and attention on a METIS-partitioned graph, at np = 1, 2, 3:
// with a per-layer halo exchange, or a K-hop halo and no exchange, the owned rows and the
// gradients equal the single-process computation (every rank also computes that reference).
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <catch2/catch.hpp>

#include "gnn/edge_index.hpp"
#include "gnn/halo_exchange.hpp"
#include "gnn/message_passing.hpp"
#include "gnn/sparse_attention.hpp"
#include "mesh/augment.hpp"
#include "mesh/partition.hpp"
#include "tests/mesh_fixtures.hpp"

using namespace tessera;

namespace {

struct Setup {
  Comm comm;
  mesh::Graph g;
  std::vector<int32_t> part;
  gnn::EdgeIndex global;
  at::Tensor x, w;  // global features and loss weights, identical on every rank
};

Setup make_setup() {
  Setup s;
  s.g = mesh::random_jumps(mesh::mesh_graph(test::irregular_mesh(16, 11, 3)), 0.1, 4);
  s.part = mesh::partition_nodes(s.g, s.comm.size());
  s.global = gnn::EdgeIndex::from_graph(s.g);
  at::manual_seed(7);
  s.x = at::randn({s.g.num_nodes, 2, 4}, at::kDouble);
  s.w = at::randn({s.g.num_nodes, 2, 4}, at::kDouble);
  return s;
}

at::Tensor rows(const at::Tensor& t, const std::vector<int64_t>& ids) {
  return t.index_select(0, at::tensor(at::ArrayRef<int64_t>(ids), at::kLong));
}

// Two layers of attention (q = k = v = layer input, then tanh) on a graph.
at::Tensor two_layers(const at::Tensor& x, const gnn::EdgeIndex& ei, const gnn::HaloExchange* halo) {
  at::Tensor h = x;
  for (int l = 0; l < 2; ++l) {
    if (halo) h = (*halo)(h);
    h = at::tanh(gnn::sparse_attention(h, h * 0.5, h, ei));
  }
  return h;
}

}  // namespace

TEST_CASE("distributed attention equals single-process (per-layer exchange and K-hop halo)", "[mpi][distributed]") {
  Setup s = make_setup();
  // Reference: the whole graph in this process.
  at::Tensor xg = s.x.clone().requires_grad_(true);
  at::Tensor yg = two_layers(xg, s.global, nullptr);
  at::Tensor gg = torch::autograd::grad({(yg * s.w).sum()}, {xg})[0];

  for (int hops : {1, 2}) {
    INFO("halo hops " << hops << " on " << s.comm.size() << " ranks");
    auto l = mesh::local_graph(s.g, s.part, s.comm.size(), s.comm.rank(), hops);
    auto ei = gnn::EdgeIndex::from_graph(l.graph);
    gnn::HaloExchange halo(l, s.comm);
    at::Tensor xl = rows(s.x, l.global_ids).requires_grad_(true);
    // hops = 1: exchange before each layer; hops = 2 (= layers): exchange once, then none.
    at::Tensor yl = hops == 1 ? two_layers(xl, ei, &halo) : two_layers(halo(xl), ei, nullptr);
    std::vector<int64_t> owned(l.global_ids.begin(), l.global_ids.begin() + l.num_owned);
    at::Tensor y_owned = yl.narrow(0, 0, l.num_owned);
    CHECK(at::allclose(y_owned, rows(yg, owned), 1e-12, 1e-13));
    // Each rank's loss covers its owned rows; the gradient of the global loss on the owned
    // inputs arrives through the halo backward.
    at::Tensor gl = torch::autograd::grad({(y_owned * rows(s.w, owned)).sum()}, {xl})[0];
    CHECK(at::allclose(gl.narrow(0, 0, l.num_owned), rows(gg, owned), 1e-12, 1e-13));
  }
}

TEST_CASE("distributed message passing equals single-process", "[mpi][distributed]") {
  Setup s = make_setup();
  at::Tensor x2 = s.x.flatten(1);
  auto step = [](const at::Tensor& h, const gnn::EdgeIndex& ei) {
    return h + gnn::scatter_sum_dst(at::sin(gnn::gather_src(h, ei) - gnn::gather_dst(h, ei)), ei);
  };
  at::Tensor ref = step(step(x2, s.global), s.global);
  auto l = mesh::local_graph(s.g, s.part, s.comm.size(), s.comm.rank(), 1);
  auto ei = gnn::EdgeIndex::from_graph(l.graph);
  gnn::HaloExchange halo(l, s.comm);
  at::Tensor h = rows(x2, l.global_ids);
  h = step(halo(h), ei);
  h = step(halo(h), ei);
  std::vector<int64_t> owned(l.global_ids.begin(), l.global_ids.begin() + l.num_owned);
  CHECK(at::allclose(h.narrow(0, 0, l.num_owned), rows(ref, owned), 1e-12, 1e-13));
  CHECK_THROWS(halo(h.narrow(0, 0, 1)));
}

// One-way halos: rank 0 owns a row that every other rank holds as halo, and no rank sends
// anything to rank 0. Rank 0 receives nothing and the others send nothing, so the receive
// buffer's row width cannot come from what a rank sends (a chunk of GNNPipe's hybrid mode has
// this shape). Rows are [2, 3] so the width is 6 elements.
TEST_CASE("halo exchange with ranks that receive rows but send none", "[mpi][distributed]") {
  Comm comm;
  const int np = comm.size(), r = comm.rank();
  mesh::LocalGraph l;
  l.rank = r;
  l.parts = np;
  l.num_owned = 2;
  l.send.assign(np, {});
  l.recv.assign(np, {});
  l.global_ids = {2 * r, 2 * r + 1};
  if (r == 0) {
    for (int q = 1; q < np; ++q) l.send[q] = {1};  // local row 1 (global 1) to every peer
  } else {
    l.global_ids.push_back(1);  // halo row, owned by rank 0
    l.recv[0] = {2};
  }
  gnn::HaloExchange halo(l, comm);
  // Row v of the global field holds v + 0.01 * (feature index); halo rows start as -1.
  at::Tensor x = at::full({l.num_local(), 2, 3}, -1.0, at::kDouble);
  at::Tensor pattern = at::arange(6, at::kDouble).reshape({2, 3}) * 0.01;
  for (int64_t i = 0; i < l.num_owned; ++i) x[i] = pattern + static_cast<double>(l.global_ids[i]);
  x.requires_grad_(true);
  at::Tensor y = halo(x);
  for (int64_t i = 0; i < l.num_local(); ++i)
    CHECK(at::allclose(y[i], pattern + static_cast<double>(l.global_ids[i]), 0, 0));
  // Loss: each rank weights its halo row by (rank + 1); rank 0's row 1 collects the sum.
  at::Tensor w = at::zeros_like(x);
  if (r > 0) w[2].fill_(r + 1.0);
  at::Tensor g = torch::autograd::grad({(y * w).sum()}, {x})[0];
  const double expect = r == 0 ? np * (np + 1) / 2.0 - 1.0 : 0.0;
  CHECK(at::allclose(g[1], at::full({2, 3}, expect, at::kDouble), 0, 0));
  CHECK(g[0].abs().max().item<double>() == 0.0);
}
