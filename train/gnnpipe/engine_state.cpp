// The engine's parameters and optimiser state for checkpoints: gathered over the world from the
// stages that own them, and restored onto any layout (the checkpoint is layout-free).
#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <map>
#include <string>

#include "core/error.hpp"
#include "train/gnnpipe/engine.hpp"
#include "train/gnnpipe/engine_impl.hpp"
#include "train/optimizer_state.hpp"

namespace tessera::train::gnnpipe {

namespace {

// Sums `t` over the world (in place): ranks that do not hold a value contribute zeros.
void sum_world(const Comm& world, at::Tensor& t) {
  if (t.scalar_type() == at::kDouble)
    world.allreduce_sum(t.data_ptr<double>(), t.numel());
  else
    world.allreduce_sum(t.data_ptr<float>(), t.numel());
}

}  // namespace

std::map<std::string, at::Tensor> Engine::parameters() const {
  const Impl& m = *impl_;
  std::map<std::string, at::Tensor> out;
  for (const auto& n : m.model->named_parameters()) {
    const bool mine = m.p == 0 && std::find(m.owned_names.begin(), m.owned_names.end(), n.key()) != m.owned_names.end();
    at::Tensor t = mine ? n.value().detach().clone().contiguous() : at::zeros_like(n.value()).contiguous();
    sum_world(m.world, t);
    out[n.key()] = t;
  }
  return out;
}

Checkpoint Engine::state() const {
  const Impl& m = *impl_;
  Checkpoint c;
  for (auto& [name, t] : parameters()) c.tensors["param." + name] = t;
  for (const auto& n : m.model->named_parameters()) {
    const bool mine = m.p == 0 && std::find(m.owned_names.begin(), m.owned_names.end(), n.key()) != m.owned_names.end();
    at::Tensor avg = at::zeros_like(n.value()).contiguous(), sq = at::zeros_like(n.value()).contiguous();
    double step = 0;
    if (mine) {
      auto it = m.opt->state().find(n.value().unsafeGetTensorImpl());
      if (it != m.opt->state().end()) {
        auto& st = static_cast<torch::optim::AdamParamState&>(*it->second);
        avg.copy_(st.exp_avg());
        sq.copy_(st.exp_avg_sq());
        step = static_cast<double>(st.step());
      }
    }
    sum_world(m.world, avg);
    sum_world(m.world, sq);
    m.world.allreduce_sum(&step, 1);
    c.tensors["optim." + n.key() + ".exp_avg"] = avg;
    c.tensors["optim." + n.key() + ".exp_avg_sq"] = sq;
    c.tensors["optim." + n.key() + ".step"] = at::tensor({static_cast<int64_t>(step)}, at::kLong);
  }
  if (m.o.chunks > 1) {
    const int64_t N = static_cast<int64_t>(m.full.own_global.size());
    int64_t n_global = N;
    m.world.allreduce_sum(&n_global, 1);
    n_global /= m.S;  // every stage's parts together own every node once
    at::Tensor owned = long_tensor(std::vector<int64_t>(m.local_global.begin(), m.local_global.begin() + m.num_owned));
    for (int64_t l = 1; l <= m.o.model.layers; ++l) {
      at::Tensor g = at::zeros({n_global, m.F}, m.o.dtype);
      if (l >= m.layer_begin && l < m.layer_end)
        g.index_copy_(0, owned, m.buf[l - m.layer_begin].narrow(0, 0, m.num_owned));
      sum_world(m.world, g);
      c.tensors[cat("buffer.", l)] = g;
    }
  }
  c.tensors["gnnpipe.epoch"] = at::tensor({m.epoch}, at::kLong);
  return c;
}

void Engine::load(const Checkpoint& c, const std::string& path) {
  Impl& m = *impl_;
  auto get = [&](const std::string& name) -> const at::Tensor& {
    auto it = c.tensors.find(name);
    if (it == c.tensors.end()) throw Error(cat(path, ": checkpoint has no tensor '", name, "'"), "train.resume");
    return it->second;
  };
  require_parameter_count(c, path, "param.", m.model->named_parameters().size(), "another gnnpipe.model",
                          "train.resume");
  at::NoGradGuard no_grad;
  for (auto& n : m.model->named_parameters()) {
    const at::Tensor& t = get("param." + n.key());
    if (!t.sizes().equals(n.value().sizes()))
      throw Error(cat(path, ": parameter ", n.key(), " has another shape than the deck's model"), "train.resume");
    n.value().copy_(t);
  }
  for (auto& n : m.model->named_parameters()) {
    if (std::find(m.owned_names.begin(), m.owned_names.end(), n.key()) == m.owned_names.end()) continue;
    const int64_t step = get("optim." + n.key() + ".step").item<int64_t>();
    if (step == 0) continue;
    auto st = std::make_unique<torch::optim::AdamParamState>();
    st->exp_avg(get("optim." + n.key() + ".exp_avg").to(m.o.dtype).clone());
    st->exp_avg_sq(get("optim." + n.key() + ".exp_avg_sq").to(m.o.dtype).clone());
    st->step(step);
    m.opt->state()[n.value().unsafeGetTensorImpl()] = std::move(st);
  }
  if (m.o.chunks > 1 && c.tensors.count("buffer.1")) {
    at::Tensor ids = long_tensor(m.local_global);
    for (int64_t l = m.layer_begin; l < m.layer_end; ++l)
      m.buf[l - m.layer_begin].copy_(get(cat("buffer.", l)).to(m.o.dtype).index_select(0, ids));
  }
  m.epoch = get("gnnpipe.epoch").item<int64_t>();
}

}  // namespace tessera::train::gnnpipe
