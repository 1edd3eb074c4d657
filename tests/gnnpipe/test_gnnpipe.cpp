// GNNPipe (docs/gnnpipe.md): the aggregation against a dense normalised-adjacency product; the
// engine in graph, pipeline and hybrid mode against an independent single-process full-graph
// training loop (losses and parameters, fp64); chunked pipelines against the same chunk layout on
// one rank; bytes handed to MPI against closed-form counts. Runs under mpiexec with any rank
// count (tests/gnnpipe/CMakeLists.txt: np 1, 2, 3, 4). The learner, its checkpoint files and
// early stopping: test_gnnpipe_learner.cpp, in the same program.
#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "core/comm.hpp"
#include "core/error.hpp"
#include "gnn/deep_gcn.hpp"
#include "io/csbm.hpp"
#include "mesh/partition.hpp"
#include "tests/gnnpipe/gnnpipe_fixtures.hpp"
#include "train/gnnpipe/engine.hpp"

using namespace tessera;
using test::gnnpipe::options;
using test::gnnpipe::small_csbm;
using test::gnnpipe::small_graph;
using train::gnnpipe::Engine;
using train::gnnpipe::EngineOptions;

namespace {

at::Tensor dense_adjacency(const gnn::NormalizedGraph& a) {
  at::Tensor m = at::zeros({a.num_nodes, a.num_nodes}, at::kDouble);
  for (int64_t e = 0; e < static_cast<int64_t>(a.src.size()); ++e) m[a.dst[e]][a.src[e]] = a.weight[e];
  return m;
}

struct Trace {
  std::vector<double> losses;
  std::map<std::string, at::Tensor> params;
};

// Independent reference: full-graph training in one process with the dense Â.
Trace reference(const io::NodeDataset& d, const EngineOptions& o, int epochs) {
  at::manual_seed(o.seed);
  auto model = std::make_shared<gnn::DeepGcnImpl>(o.model);
  model->to(at::kDouble);
  std::vector<at::Tensor> conv, dense;
  for (int64_t site = 0; site <= o.model.layers + 1; ++site)
    for (auto& t : model->site_parameters(site)) (site == 0 || site == o.model.layers + 1 ? dense : conv).push_back(t);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(conv, std::make_unique<torch::optim::AdamOptions>(
                                torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay_conv)));
  groups.emplace_back(dense, std::make_unique<torch::optim::AdamOptions>(
                                 torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay_dense)));
  torch::optim::Adam opt(std::move(groups), torch::optim::AdamOptions(o.lr));
  const at::Tensor A = dense_adjacency(gnn::normalized_adjacency(d.graph));
  const at::Tensor X =
      at::tensor(at::ArrayRef<float>(d.x), at::kFloat).reshape({d.num_nodes, d.num_features}).to(at::kDouble);
  std::vector<int64_t> all(d.num_nodes), train, y;
  for (int64_t i = 0; i < d.num_nodes; ++i) {
    all[i] = i;
    if (d.train_mask[i]) {
      train.push_back(i);
      y.push_back(d.y[i]);
    }
  }
  const at::Tensor ti = at::tensor(at::ArrayRef<int64_t>(train), at::kLong),
                   ty = at::tensor(at::ArrayRef<int64_t>(y), at::kLong);
  Trace tr;
  const double p = o.model.dropout;
  for (int e = 0; e < epochs; ++e) {
    auto mask = [&](int64_t site, int64_t cols) {
      return gnn::dropout_mask(gnn::dropout_key(o.seed, e, site), all, cols, p, at::kDouble);
    };
    const at::Tensor h0 = model->input(X * mask(0, d.num_features));
    at::Tensor h = h0;
    for (int64_t l = 1; l <= o.model.layers; ++l) {
      const at::Tensor z = model->pre(l, h, mask(l, o.model.hidden));
      h = model->post(l, at::mm(A, z), z, h, h0);
    }
    const at::Tensor logits = model->output(h * mask(o.model.layers + 1, o.model.hidden));
    const at::Tensor loss =
        at::nll_loss(at::log_softmax(logits, 1).index_select(0, ti), ty, {}, at::Reduction::Sum) / double(train.size());
    opt.zero_grad();
    loss.backward();
    opt.step();
    tr.losses.push_back(loss.item<double>());
  }
  for (const auto& n : model->named_parameters()) tr.params[n.key()] = n.value().detach().clone();
  return tr;
}

Trace run(const io::NodeDataset& d, const EngineOptions& o, int epochs, const Comm& comm) {
  Engine engine(d, o, comm);
  Trace tr;
  for (int e = 0; e < epochs; ++e) tr.losses.push_back(engine.epoch());
  tr.params = engine.parameters();
  return tr;
}

void require_equal(const Trace& a, const Trace& b, double tol) {
  REQUIRE(a.losses.size() == b.losses.size());
  for (size_t k = 0; k < a.losses.size(); ++k) CHECK(std::abs(a.losses[k] - b.losses[k]) <= tol);
  REQUIRE(a.params.size() == b.params.size());
  for (const auto& [name, t] : a.params) {
    INFO(name);
    REQUIRE(b.params.count(name));
    CHECK((t - b.params.at(name)).abs().max().item<double>() <= tol);
  }
}

}  // namespace

TEST_CASE("CSBM: a class with no more nodes than train_per_class is refused at the key", "[gnnpipe]") {
  // 22 nodes in 2 classes, 10 training nodes per class: the split's sum fits, but a class that
  // draws 10 or fewer nodes trained on all of them and had none to validate or test.
  io::CsbmOptions o = small_csbm(22);
  o.classes = 2;
  o.val = 1;
  o.test = 1;
  try {
    io::make_csbm(o);
    FAIL("not refused");
  } catch (const Error& e) {
    CHECK(e.key() == "gnnpipe.data.csbm.train_per_class");
    CHECK_THAT(e.what(), Catch::Contains("of the 22 nodes, not more than train_per_class = 10"));
  }
  o.average_degree = 30;  // above nodes - 1: the generator would cut it down
  CHECK_THROWS_WITH(io::make_csbm(o), Catch::Contains("average_degree 30 exceeds nodes - 1 = 21"));
}

TEST_CASE("aggregate equals the dense normalised-adjacency product, forward and backward", "[gnnpipe]") {
  const io::NodeDataset d = small_graph();
  const gnn::NormalizedGraph a = gnn::normalized_adjacency(d.graph);
  // Â against D^-1/2 (A + I) D^-1/2 built densely from the graph's edges, D the row sums of A + I.
  REQUIRE(d.graph.is_symmetric());
  at::Tensor A_plus_I = at::eye(d.num_nodes, at::kDouble);
  for (int64_t e = 0; e < d.graph.num_edges(); ++e) A_plus_I[d.graph.dst[e]][d.graph.src[e]] = 1.0;
  const at::Tensor inv_sqrt_deg = A_plus_I.sum(1).rsqrt();
  const at::Tensor reference = inv_sqrt_deg.unsqueeze(1) * A_plus_I * inv_sqrt_deg.unsqueeze(0);
  const at::Tensor A = dense_adjacency(a);
  CHECK((A - reference).abs().max().item<double>() < 1e-15);
  CHECK(A_plus_I.sum().item<double>() > 2.0 * d.num_nodes);  // the graph has edges besides the loops
  const gnn::WeightedEdges w = gnn::weighted_edges(a.num_nodes, a.num_nodes, a.dst, a.src, a.weight, at::kDouble);
  const at::Tensor x = at::randn({a.num_nodes, 5}, at::kDouble).requires_grad_(true);
  const at::Tensor g = at::randn({a.num_nodes, 5}, at::kDouble);
  const at::Tensor out = gnn::aggregate(x, w);
  CHECK((out - at::mm(A, x)).abs().max().item<double>() < 1e-12);
  out.backward(g);
  CHECK((x.grad() - at::mm(A.t(), g)).abs().max().item<double>() < 1e-12);
}

TEST_CASE("dropout masks depend on the node, not on the row order", "[gnnpipe]") {
  const uint64_t key = gnn::dropout_key(1, 2, 3);
  const at::Tensor m = gnn::dropout_mask(key, {0, 1, 2, 3, 4, 5}, 50, 0.5, at::kDouble);
  const at::Tensor r = gnn::dropout_mask(key, {5, 3}, 50, 0.5, at::kDouble);
  CHECK(at::equal(m[5], r[0]));
  CHECK(at::equal(m[3], r[1]));
  const double kept = m.gt(0).to(at::kDouble).mean().item<double>();
  CHECK(kept > 0.4);
  CHECK(kept < 0.6);
  // p is the probability of dropping: at p = 0.2 about 80% of 30,000 entries are kept, each scaled
  // by 1 / (1 − p) = 1.25 so that the mask's mean is 1 (p = 0.5 cannot tell dropping from keeping).
  const at::Tensor q = gnn::dropout_mask(key, std::vector<int64_t>{0, 1, 2, 3, 4, 5}, 5000, 0.2, at::kDouble);
  const double kept_q = q.gt(0).to(at::kDouble).mean().item<double>();
  CHECK(kept_q == Approx(0.8).margin(0.015));
  CHECK(q.mean().item<double>() == Approx(1.0).margin(0.02));
  CHECK(at::logical_or(q.eq(0), q.eq(1.25)).all().item<bool>());
  CHECK(!at::equal(m, gnn::dropout_mask(gnn::dropout_key(1, 3, 3), {0, 1, 2, 3, 4, 5}, 50, 0.5, at::kDouble)));
}

// The documented draw, written out here: element (row r, feature f) is dropped when
// u = (splitmix(splitmix(key ^ r * C) + f) >> 11) * 2^-53 < p. The kernel compares integers
// (k < ceil(p * 2^53)) and writes float or double directly; the masks must be these bits.
TEST_CASE("dropout masks are the documented hash draw, in every type", "[gnnpipe]") {
  const auto splitmix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  const uint64_t key = gnn::dropout_key(7, 1, 2);
  const std::vector<int64_t> rows = {0, 3, 17, 1000003};
  const int64_t features = 37;
  for (const double p : {0.2, 0.5, 0.6, 1.0 / 3.0}) {
    at::Tensor ref = at::empty({4, features}, at::kDouble);
    for (int64_t i = 0; i < 4; ++i) {
      const uint64_t base = splitmix(key ^ (static_cast<uint64_t>(rows[i]) * 0x632be59bd9b4e019ULL));
      for (int64_t f = 0; f < features; ++f) {
        const double u = static_cast<double>(splitmix(base + static_cast<uint64_t>(f)) >> 11) * 0x1.0p-53;
        ref[i][f] = u < p ? 0.0 : 1.0 / (1.0 - p);
      }
    }
    CHECK(at::equal(gnn::dropout_mask(key, rows, features, p, at::kDouble), ref));
    CHECK(at::equal(gnn::dropout_mask(key, rows, features, p, at::kFloat), ref.to(at::kFloat)));
  }
}

TEST_CASE("one chunk: pipeline and graph mode equal single-process training (fp64)", "[gnnpipe][mpi]") {
  const Comm world;
  const int W = world.size();
  const io::NodeDataset d = small_graph();
  for (auto kind :
       {gnn::DeepGcnKind::Gcnii, gnn::DeepGcnKind::ResGcnPlus, gnn::DeepGcnKind::Sage, gnn::DeepGcnKind::Gcn}) {
    INFO(gnn::deep_gcn_name(kind));
    EngineOptions o = options(kind, 4);
    const Trace ref = reference(d, o, 3);
    // Training moves: the losses differ between epochs.
    CHECK(std::abs(ref.losses[0] - ref.losses[2]) > 1e-6);
    o.stages = W;  // pipeline
    require_equal(run(d, o, 3, world), ref, 1e-6);
    o.stages = 1;  // graph: W parts
    require_equal(run(d, o, 3, world), ref, 1e-6);
  }
}

TEST_CASE("chunked pipeline and hybrid equal the same chunk layout on one rank", "[gnnpipe][mpi]") {
  const Comm world;
  const int W = world.size();
  const io::NodeDataset d = small_graph();
  for (bool fresh : {true, false}) {
    EngineOptions o = options(gnn::DeepGcnKind::Gcnii, 4);
    o.chunks = 4;
    o.fresh = fresh;
    o.layout_parts = W == 4 ? 2 : 1;
    o.stages = 1;
    const Trace one = run(d, o, 3, Comm::self());
    // Staleness changes training: the chunked run differs from full-graph training.
    const Trace ref = reference(d, o, 3);
    CHECK(std::abs(one.losses[2] - ref.losses[2]) > 1e-9);
    o.stages = W == 4 ? 2 : W;  // np 4: 2 parts x 2 stages (hybrid); otherwise a pure pipeline
    require_equal(run(d, o, 3, world), one, 1e-6);
  }
  // Hybrid with one chunk is full-graph training again.
  if (W == 4) {
    EngineOptions o = options(gnn::DeepGcnKind::Gcnii, 4);
    o.stages = 2;
    require_equal(run(d, o, 2, world), reference(d, o, 2), 1e-6);
  }
}

TEST_CASE("bytes handed to MPI equal the closed-form count", "[gnnpipe][mpi]") {
  const Comm world;
  const int W = world.size();
  const io::NodeDataset d = small_graph();
  const mesh::Graph& g = d.graph;
  const int64_t F = 8, L = 4, width = 2 * F, B = 8;  // GCNII ships h and h0; fp64
  // Halo rows of part r of `part`: sends (owned node, other part it neighbours) and receives
  // (nodes of other parts adjacent to r), counted from the edge list.
  auto halo_rows = [&](const std::vector<int32_t>& part, int r) {
    std::set<std::pair<int64_t, int>> sends;
    std::set<int64_t> recvs;
    for (int64_t e = 0; e < g.num_edges(); ++e) {
      const int64_t u = g.src[e], v = g.dst[e];
      if (part[v] == r && part[u] != r) recvs.insert(u);
      if (part[u] == r && part[v] != r) sends.insert({u, part[v]});
    }
    return static_cast<int64_t>(sends.size() + recvs.size());
  };
  EngineOptions o = options(gnn::DeepGcnKind::Gcnii, L);
  int64_t params = 0;
  {
    at::manual_seed(0);
    gnn::DeepGcnImpl m(o.model);
    for (auto& t : m.parameters()) params += t.numel();
  }
  const int64_t loss_bytes = W > 1 ? 8 : 0;
  SECTION("graph mode") {
    o.stages = 1;
    Engine e(d, o, world);
    e.epoch();
    const auto part = W > 1 ? mesh::partition_nodes(g, W) : std::vector<int32_t>(g.num_nodes, 0);
    CHECK(e.last_bytes().halo == L * F * B * halo_rows(part, world.rank()));
    CHECK(e.last_bytes().pipeline == 0);
    CHECK(e.last_bytes().allreduce == (W > 1 ? params * B : 0) + loss_bytes);
    if (W > 1) CHECK(e.last_bytes().halo > 0);
  }
  SECTION("pipeline mode, chunked") {
    o.stages = W;
    o.chunks = 3;
    Engine e(d, o, world);
    e.epoch();
    const int s = world.rank();
    const int64_t per_direction = d.num_nodes * width * B;
    CHECK(e.last_bytes().halo == 0);
    CHECK(e.last_bytes().pipeline == (s < W - 1 ? per_direction : 0) + (s > 0 ? per_direction : 0));
    CHECK(e.last_bytes().allreduce == loss_bytes);
  }
  if (W == 4) {
    SECTION("hybrid: 2 parts x 2 stages, chunked") {
      o.stages = 2;
      o.chunks = 3;
      Engine e(d, o, world);
      e.epoch();
      const int s = world.rank() / 2, p = world.rank() % 2;
      const auto part = mesh::partition_nodes(g, 2);
      int64_t owned = 0;
      for (int32_t q : part) owned += q == p;
      int64_t stage_params = 0;  // stage 0: fc0 + conv 1, 2; stage 1: conv 3, 4 + fc1
      {
        at::manual_seed(0);
        gnn::DeepGcnImpl m(o.model);
        for (int64_t site = 0; site <= L + 1; ++site)
          if ((s == 0) == (site <= 2))
            for (auto& t : m.site_parameters(site)) stage_params += t.numel();
      }
      CHECK(e.last_bytes().halo == (L / 2) * F * B * halo_rows(part, p));
      CHECK(e.last_bytes().pipeline == owned * width * B);
      CHECK(e.last_bytes().allreduce == stage_params * B + loss_bytes);
    }
  }
}

TEST_CASE("a checkpoint resumes exactly in another mode and on another rank count", "[gnnpipe][mpi]") {
  const Comm world;
  const int W = world.size();
  const io::NodeDataset d = small_graph();
  EngineOptions o = options(gnn::DeepGcnKind::Gcnii, 4);
  o.chunks = 4;
  o.layout_parts = 2;
  // Reference: four epochs in one process.
  o.stages = 1;
  const Trace straight = run(d, o, 4, Comm::self());
  // Two epochs on all ranks (hybrid at np 4, else a pipeline), then two in one process.
  o.stages = W == 4 ? 2 : W;
  train::Checkpoint c;
  double first = 0, second = 0;  // the losses of the epochs before the checkpoint, on all ranks
  {
    Engine e(d, o, world);
    first = e.epoch();
    second = e.epoch();
    c = e.state();
  }
  o.stages = 1;
  Engine e(d, o, Comm::self());
  e.load(c, "memory");
  CHECK(e.epochs_done() == 2);
  Trace resumed;
  resumed.losses = {first, second, e.epoch(), e.epoch()};  // a braced list runs left to right
  resumed.params = e.parameters();
  require_equal(resumed, straight, 1e-6);
}
