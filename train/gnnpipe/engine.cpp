#include "train/gnnpipe/engine.hpp"

#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.hpp"
#include "gnn/halo_exchange.hpp"
#include "mesh/partition.hpp"
#include "train/gnnpipe/engine_impl.hpp"

namespace tessera::train::gnnpipe {
namespace {

// The sub-graph of `g` induced by `nodes` (sorted), relabelled 0..n-1.
mesh::Graph induced(const mesh::Graph& g, const std::vector<int64_t>& nodes) {
  std::vector<int64_t> local(g.num_nodes, -1);
  for (size_t i = 0; i < nodes.size(); ++i) local[nodes[i]] = static_cast<int64_t>(i);
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t v : nodes)
    for (int64_t e = g.row_ptr[v]; e < g.row_ptr[v + 1]; ++e)
      if (local[g.src[e]] >= 0) pairs.emplace_back(local[g.src[e]], local[v]);
  return mesh::graph_from_pairs(static_cast<int64_t>(nodes.size()), std::move(pairs), false);
}

}  // namespace

ChunkPlan Engine::Impl::plan(const io::NodeDataset& d, const std::vector<int32_t>& part,
                             const std::vector<char>& in_chunk, const gnn::NormalizedGraph& a,
                             const std::vector<int64_t>& g2l, const std::vector<std::vector<int64_t>>& send,
                             const std::vector<std::vector<int64_t>>& recv) {
  ChunkPlan c;
  std::vector<int64_t> ext;  // local ids
  for (int64_t i = 0; i < num_owned; ++i)
    if (in_chunk[local_global[i]]) ext.push_back(i);
  c.num_own = static_cast<int64_t>(ext.size());
  for (int64_t i = num_owned; i < static_cast<int64_t>(local_global.size()); ++i)
    if (in_chunk[local_global[i]]) ext.push_back(i);
  c.num_halo = static_cast<int64_t>(ext.size()) - c.num_own;
  std::vector<int64_t> ext_pos(local_global.size(), -1);
  for (size_t k = 0; k < ext.size(); ++k) ext_pos[ext[k]] = static_cast<int64_t>(k);
  for (int64_t k = 0; k < c.num_own; ++k) c.own_global.push_back(local_global[ext[k]]);
  c.ext_idx = long_tensor(ext);
  if (P > 1) {
    mesh::LocalGraph lg;
    lg.rank = p;
    lg.parts = P;
    lg.num_owned = c.num_own;
    lg.global_ids.resize(ext.size());
    for (size_t k = 0; k < ext.size(); ++k) lg.global_ids[k] = local_global[ext[k]];
    lg.send.resize(P);
    lg.recv.resize(P);
    for (int q = 0; q < P; ++q) {
      for (int64_t v : send[q])
        if (in_chunk[local_global[v]]) lg.send[q].push_back(ext_pos[v]);
      for (int64_t v : recv[q])
        if (in_chunk[local_global[v]]) lg.recv[q].push_back(ext_pos[v]);
      c.halo_send_rows += static_cast<int64_t>(lg.send[q].size());
      c.halo_recv_rows += static_cast<int64_t>(lg.recv[q].size());
    }
    c.halo = std::make_unique<gnn::HaloExchange>(lg, stage_comm);
  }
  std::vector<int64_t> id, is, od, os;
  std::vector<double> iw, ow;
  for (int64_t k = 0; k < c.num_own; ++k) {
    const int64_t v = c.own_global[k];
    for (int64_t e = a.row_ptr[v]; e < a.row_ptr[v + 1]; ++e) {
      const int64_t u = a.src[e];
      if (in_chunk[u]) {
        id.push_back(k);
        is.push_back(ext_pos[g2l[u]]);
        iw.push_back(a.weight[e]);
      } else {
        od.push_back(k);
        os.push_back(g2l[u]);
        ow.push_back(a.weight[e]);
      }
    }
  }
  c.inner = gnn::weighted_edges(c.num_own, static_cast<int64_t>(ext.size()), id, is, iw, o.dtype);
  c.outer = gnn::weighted_edges(c.num_own, static_cast<int64_t>(local_global.size()), od, os, ow, o.dtype);
  // Inputs and labels of the own rows.
  if (s == 0) {
    c.x = at::empty({c.num_own, d.num_features}, at::kFloat);
    float* x = c.x.data_ptr<float>();
    for (int64_t k = 0; k < c.num_own; ++k)
      std::copy_n(d.x.data() + c.own_global[k] * d.num_features, d.num_features, x + k * d.num_features);
    c.x = c.x.to(o.dtype);
  }
  auto rows = [&](const std::vector<uint8_t>& mask, at::Tensor& pos, at::Tensor& y) {
    std::vector<int64_t> ps, ys;
    for (int64_t k = 0; k < c.num_own; ++k)
      if (mask[c.own_global[k]]) {
        ps.push_back(k);
        ys.push_back(d.y[c.own_global[k]]);
      }
    pos = long_tensor(ps);
    y = long_tensor(ys);
  };
  rows(d.train_mask, c.train_pos, c.train_y);
  rows(d.val_mask, c.val_pos, c.val_y);
  rows(d.test_mask, c.test_pos, c.test_y);
  (void)part;
  return c;
}

void Engine::Impl::setup(const io::NodeDataset& d) {
  const int W = world.size();
  S = o.stages;
  if (S < 1 || W % S)
    throw Error(cat("gnnpipe: ", W, " ranks are not a multiple of ", S, " stages"), "parallel.stages");
  if (S > o.model.layers)
    throw Error(cat("gnnpipe: ", S, " stages for ", o.model.layers, " layers"), "parallel.stages");
  P = W / S;
  s = world.rank() / P;
  p = world.rank() % P;
  if (o.chunks < 1) throw Error("gnnpipe: chunks must be >= 1", "parallel.chunks");
  if (d.num_nodes < 1 || !d.graph.is_symmetric()) throw Error("gnnpipe: the graph must be non-empty and symmetric");
#if TESSERA_HAVE_MPI
  if (W > 1) {
    MPI_Comm_split(world.mpi(), s, p, &stage_mpi);
    stage_comm = Comm(stage_mpi);
  } else {
    stage_comm = Comm::self();
  }
#endif
  // Layer blocks: L = S q + r; the first r stages take q + 1 layers.
  const int64_t L = o.model.layers, q = L / S, r = L % S;
  layer_begin = 1 + s * q + std::min<int64_t>(s, r);
  layer_end = layer_begin + q + (s < r ? 1 : 0);
  F = o.model.hidden;
  // The model, identical on every rank (seeded), and the optimiser over this stage's part.
  at::manual_seed(o.seed);
  model = std::make_shared<gnn::DeepGcnImpl>(o.model);
  model->to(o.dtype);
  std::vector<at::Tensor> conv, dense;
  const auto named = model->named_parameters();
  for (int64_t site = 0; site <= L + 1; ++site) {
    if (!owns_site(site)) continue;
    for (const at::Tensor& t : model->site_parameters(site)) {
      (site == 0 || site == L + 1 ? dense : conv).push_back(t);
      owned_params.push_back(t);
      for (const auto& n : named)
        if (n.value().unsafeGetTensorImpl() == t.unsafeGetTensorImpl()) owned_names.push_back(n.key());
    }
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!conv.empty())
    groups.emplace_back(conv, std::make_unique<torch::optim::AdamOptions>(
                                  torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay_conv)));
  if (!dense.empty())
    groups.emplace_back(dense, std::make_unique<torch::optim::AdamOptions>(
                                   torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay_dense)));
  opt = std::make_unique<torch::optim::Adam>(std::move(groups), torch::optim::AdamOptions(o.lr));
  // Partition (graph parts) and chunk layout.
  const mesh::Graph& g = d.graph;
  const std::vector<int32_t> part = P > 1 ? mesh::partition_nodes(g, P) : std::vector<int32_t>(g.num_nodes, 0);
  const int Q = o.layout_parts > 0 ? o.layout_parts : P;
  const std::vector<int32_t> layout =
      Q == P ? part : (Q > 1 ? mesh::partition_nodes(g, Q) : std::vector<int32_t>(g.num_nodes, 0));
  std::vector<int32_t> chunk(g.num_nodes, 0);
  if (o.chunks > 1)
    for (int q = 0; q < Q; ++q) {
      std::vector<int64_t> nodes;
      for (int64_t v = 0; v < g.num_nodes; ++v)
        if (layout[v] == q) nodes.push_back(v);
      if (static_cast<int64_t>(nodes.size()) < 2 * o.chunks) {
        for (size_t k = 0; k < nodes.size(); ++k) chunk[nodes[k]] = static_cast<int32_t>(k % o.chunks);
        continue;
      }
      const std::vector<int32_t> sub = mesh::partition_nodes(induced(g, nodes), o.chunks);
      for (size_t k = 0; k < nodes.size(); ++k) chunk[nodes[k]] = sub[k];
    }
  // Local layout: owned nodes, then their in-neighbours owned elsewhere (ascending global id).
  for (int64_t v = 0; v < g.num_nodes; ++v)
    if (part[v] == p) local_global.push_back(v);
  num_owned = static_cast<int64_t>(local_global.size());
  std::vector<char> is_halo(g.num_nodes, 0);
  for (int64_t i = 0; i < num_owned; ++i) {
    const int64_t v = local_global[i];
    for (int64_t e = g.row_ptr[v]; e < g.row_ptr[v + 1]; ++e)
      if (part[g.src[e]] != p) is_halo[g.src[e]] = 1;
  }
  for (int64_t v = 0; v < g.num_nodes; ++v)
    if (is_halo[v]) local_global.push_back(v);
  std::vector<int64_t> g2l(g.num_nodes, -1);
  for (size_t i = 0; i < local_global.size(); ++i) g2l[local_global[i]] = static_cast<int64_t>(i);
  // Exchange lists (the graph is symmetric): send owned v to q when v has a neighbour in q.
  std::vector<std::vector<int64_t>> send(P), recv(P);
  for (int64_t i = 0; i < num_owned; ++i) {
    const int64_t v = local_global[i];
    std::vector<char> to(P, 0);
    for (int64_t e = g.row_ptr[v]; e < g.row_ptr[v + 1]; ++e) to[part[g.src[e]]] = 1;
    for (int qq = 0; qq < P; ++qq)
      if (qq != p && to[qq]) send[qq].push_back(i);
  }
  for (size_t i = num_owned; i < local_global.size(); ++i)
    recv[part[local_global[i]]].push_back(static_cast<int64_t>(i));
  const gnn::NormalizedGraph a = gnn::normalized_adjacency(g);
  full = plan(d, part, std::vector<char>(g.num_nodes, 1), a, g2l, send, recv);
  if (o.chunks > 1) {
    for (int c = 0; c < o.chunks; ++c) {
      std::vector<char> in(g.num_nodes, 0);
      for (int64_t v = 0; v < g.num_nodes; ++v) in[v] = chunk[v] == c;
      chunks.push_back(plan(d, part, in, a, g2l, send, recv));
    }
    for (int64_t l = layer_begin; l < layer_end; ++l) {
      buf.push_back(at::zeros({static_cast<int64_t>(local_global.size()), F}, o.dtype));
      if (!o.fresh) buf_next.push_back(at::zeros({static_cast<int64_t>(local_global.size()), F}, o.dtype));
    }
  }
  for (uint8_t m : d.train_mask) n_train_global += m;
  if (n_train_global == 0) throw Error("gnnpipe: the dataset has no training nodes");
}

// One chunk through this stage. Training: dropout, buffers (when chunked), returns the loss on
// the last stage (else an undefined tensor) and sets *leaf (input received, stage > 0) and *out
// (sent on). Evaluation: no dropout or buffer; returns the logits on the last stage.
at::Tensor Engine::Impl::forward_chunk(ChunkPlan& c, bool train, bool chunked, at::Tensor* leaf, at::Tensor* out) {
  const bool h0_shipped = model->uses_h0();
  const int64_t width = F * (h0_shipped ? 2 : 1);
  const double pdrop = train ? o.model.dropout : 0.0;
  auto mask = [&](int64_t site, int64_t cols) {
    return pdrop > 0 ? gnn::dropout_mask(gnn::dropout_key(o.seed, epoch, site), c.own_global, cols, pdrop, o.dtype)
                     : at::Tensor();
  };
  at::Tensor h, h0;
  if (s == 0) {
    at::Tensor x = c.x;
    if (pdrop > 0) x = x * mask(0, x.size(1));
    h0 = model->input(x);
    h = h0;
  } else {
    at::Tensor in = recv(c.num_own, width, world_rank(p, s - 1));
    if (train) in.requires_grad_(true);
    if (leaf) *leaf = in;
    h = in.narrow(1, 0, F);
    if (h0_shipped) h0 = in.narrow(1, F, F);
  }
  for (int64_t l = layer_begin; l < layer_end; ++l) {
    const at::Tensor z = model->pre(l, h, mask(l, F));
    at::Tensor ext = z;
    if (P > 1) {
      ext = (*c.halo)(at::cat({z, at::zeros({c.num_halo, F}, z.options())}));
      if (train) bytes.halo += c.halo_send_rows * F * elem();
    }
    at::Tensor agg = gnn::aggregate(ext, c.inner);
    if (chunked) {
      const int64_t k = l - layer_begin;
      (o.fresh ? buf : buf_next)[k].index_copy_(0, c.ext_idx, ext.detach());
      if (c.outer.num_edges()) agg = agg + gnn::aggregate(buf[k], c.outer);
    }
    h = model->post(l, agg, z, h, h0);
  }
  if (s < S - 1) {
    at::Tensor o_ = h0_shipped ? at::cat({h, h0}, 1) : h;
    send(o_.detach(), world_rank(p, s + 1), train);
    if (out) *out = o_;
    return at::Tensor();
  }
  at::Tensor hd = h;
  if (pdrop > 0) hd = h * mask(o.model.layers + 1, F);
  at::Tensor logits = model->output(hd);
  if (!train) return logits;
  at::Tensor lp = at::log_softmax(logits, 1);
  at::Tensor loss = at::nll_loss(lp.index_select(0, c.train_pos), c.train_y, {}, at::Reduction::Sum) /
                    static_cast<double>(n_train_global);
  return loss + 0.0 * logits.sum();  // keeps the chunk's graph connected when it has no rows here
}

Engine::Engine(const io::NodeDataset& data, const EngineOptions& options, const Comm& world)
    : impl_(std::make_unique<Impl>()) {
  impl_->o = options;
  impl_->world = world;
  impl_->setup(data);
}

Engine::~Engine() {
#if TESSERA_HAVE_MPI
  if (impl_ && impl_->stage_mpi != MPI_COMM_NULL) MPI_Comm_free(&impl_->stage_mpi);
#endif
}

double Engine::epoch() {
  Impl& m = *impl_;
  m.bytes = CommBytes{};
  const bool chunked = m.o.chunks > 1 && m.epoch >= m.o.warmup_epochs;
  std::vector<ChunkPlan*> plans;
  if (chunked)
    for (auto& c : m.chunks) plans.push_back(&c);
  else
    plans.push_back(&m.full);
  std::vector<size_t> order(plans.size());
  std::iota(order.begin(), order.end(), 0);
  if (chunked && m.o.shuffle) {
    std::mt19937_64 rng(gnn::dropout_key(m.o.seed, m.epoch, -1));
    for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);
  }
  for (auto& t : m.owned_params) t.mutable_grad() = at::Tensor();
  m.model->train();
  struct Saved {
    at::Tensor leaf, out, loss;
  };
  std::vector<Saved> saved(order.size());
  double loss = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    Saved& sv = saved[k];
    sv.loss = m.forward_chunk(*plans[order[k]], true, chunked, &sv.leaf, &sv.out);
    if (sv.loss.defined()) loss += sv.loss.item<double>();
  }
  const int64_t stage_layers = m.layer_end - m.layer_begin;
  const int64_t width = m.F * (m.model->uses_h0() ? 2 : 1);
  for (size_t k = order.size(); k-- > 0;) {
    Saved& sv = saved[k];
    ChunkPlan& c = *plans[order[k]];
    if (m.s == m.S - 1) {
      sv.loss.backward();
    } else {
      at::Tensor g = m.recv(c.num_own, width, m.world_rank(m.p, m.s + 1));
      sv.out.backward(g);
    }
    if (m.P > 1) m.bytes.halo += stage_layers * c.halo_recv_rows * m.F * m.elem();
    if (m.s > 0) {
      at::Tensor g = sv.leaf.grad();
      m.send(g.defined() ? g : at::zeros_like(sv.leaf), m.world_rank(m.p, m.s - 1), true);
    }
    sv = Saved{};
  }
  if (chunked && !m.o.fresh) std::swap(m.buf, m.buf_next);
  // Gradient all-reduce among the parts of this stage: one flat buffer.
  if (m.P > 1) {
    std::vector<at::Tensor> flat;
    for (auto& t : m.owned_params)
      flat.push_back(t.grad().defined() ? t.grad().reshape(-1) : at::zeros({t.numel()}, t.options()));
    at::Tensor b = at::cat(flat).contiguous();
    if (m.o.dtype == at::kDouble)
      m.stage_comm.allreduce_sum(b.data_ptr<double>(), b.numel());
    else
      m.stage_comm.allreduce_sum(b.data_ptr<float>(), b.numel());
    m.bytes.allreduce += b.numel() * m.elem();
    int64_t off = 0;
    for (auto& t : m.owned_params) {
      t.mutable_grad() = b.narrow(0, off, t.numel()).view(t.sizes()).clone();
      off += t.numel();
    }
  }
  if (m.world.size() > 1) {
    m.world.allreduce_sum(&loss, 1);
    m.bytes.allreduce += 8;
  }
  m.opt->step();
  ++m.epoch;
  return loss;
}

Evaluation Engine::evaluate() {
  Impl& m = *impl_;
  at::NoGradGuard no_grad;
  m.model->eval();
  at::Tensor logits = m.forward_chunk(m.full, false, false, nullptr, nullptr);
  double v[7] = {0, 0, 0, 0, 0, 0, 0};  // correct train/val/test, counts train/val/test, val loss sum
  if (logits.defined()) {
    const at::Tensor pred = logits.argmax(1);
    const ChunkPlan& c = m.full;
    auto correct = [&](const at::Tensor& pos, const at::Tensor& y) {
      return pos.numel() ? pred.index_select(0, pos).eq(y).sum().item<double>() : 0.0;
    };
    v[0] = correct(c.train_pos, c.train_y);
    v[1] = correct(c.val_pos, c.val_y);
    v[2] = correct(c.test_pos, c.test_y);
    v[3] = static_cast<double>(c.train_pos.numel());
    v[4] = static_cast<double>(c.val_pos.numel());
    v[5] = static_cast<double>(c.test_pos.numel());
    if (c.val_pos.numel())
      v[6] = at::nll_loss(at::log_softmax(logits, 1).index_select(0, c.val_pos), c.val_y, {}, at::Reduction::Sum)
                 .item<double>();
  }
  m.world.allreduce_sum(v, 7);
  Evaluation e;
  e.train_acc = v[3] ? v[0] / v[3] : 0;
  e.val_acc = v[4] ? v[1] / v[4] : 0;
  e.test_acc = v[5] ? v[2] / v[5] : 0;
  e.val_loss = v[4] ? v[6] / v[4] : 0;
  return e;
}

at::Tensor Engine::predict() {
  Impl& m = *impl_;
  at::NoGradGuard no_grad;
  m.model->eval();
  const at::Tensor logits = m.forward_chunk(m.full, false, false, nullptr, nullptr);
  // Only the last stage's parts hold logits, each for its own nodes: placed by global id and summed.
  int64_t nodes = static_cast<int64_t>(m.full.own_global.size());
  m.world.allreduce_sum(&nodes, 1);
  nodes /= m.S;
  at::Tensor all = at::zeros({nodes, m.o.model.classes}, at::kDouble);
  if (logits.defined()) all.index_copy_(0, long_tensor(m.full.own_global), logits.to(at::kDouble));
  m.world.allreduce_sum(all.data_ptr<double>(), all.numel());
  return all;
}

int64_t Engine::epochs_done() const { return impl_->epoch; }
const CommBytes& Engine::last_bytes() const { return impl_->bytes; }
int Engine::parts() const { return impl_->P; }
int Engine::stages() const { return impl_->S; }

}  // namespace tessera::train::gnnpipe
