#include "train/stagger/learner.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <map>
#include <utility>

#include "core/error.hpp"
#include "core/idle_ranks.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "core/seed.hpp"
#include "physics/stagger.hpp"
#include "physics/vorticity_residual.hpp"
#include "train/checkpoint.hpp"
#include "train/device.hpp"
#include "train/fused_adamw.hpp"
#include "train/gradients.hpp"
#include "train/optimizer_state.hpp"
#include "train/schedule.hpp"
#include "train/stagger/rollout.hpp"

namespace tessera::train::stagger {
namespace {

// Purposes of derived seeds (core/seed.hpp).
enum Purpose : uint64_t { kInit = 1, kPool = 2, kBatch = 3, kRefresh = 4, kScales = 5 };

at::TensorOptions tensor_options(const StaggerOptions& o, const c10::Device& device) {
  return at::TensorOptions().dtype(o.fp64 ? at::kDouble : at::kFloat).device(device);
}

void put_scales(Checkpoint& c, const FeatureScales& s) {
  c.tensors["scales"] = at::tensor({s.vorticity, s.velocity, s.forcing, s.tendency}, at::kDouble);
}

FeatureScales get_scales(const Checkpoint& c, const std::string& path) {
  const auto it = c.tensors.find("scales");
  if (it == c.tensors.end() || it->second.numel() != 4) throw Error(cat(path, ": no NeuralStagger normalisers"));
  const at::Tensor v = it->second.to(at::kDouble).contiguous();
  const double* p = v.data_ptr<double>();
  return FeatureScales{p[0], p[1], p[2], p[3]};
}

}  // namespace

StaggerLearner::~StaggerLearner() = default;

StaggerLearner::StaggerLearner(const StaggerOptions& o, const Comm& comm, std::shared_ptr<spdlog::logger> log)
    : options_(o), comm_(comm), log_(std::move(log)) {
  o.validate();
  const c10::Device device = select_device_for(o.device, "train.device", comm);
  const at::TensorOptions to = tensor_options(o, device);
  at::manual_seed(mix_seed({o.seed, kInit}));
  model_ = std::make_unique<StaggerModel>(o, measure_scales(o, 16, mix_seed({o.seed, kScales})), to);
  std::vector<at::Tensor> params;
  for (auto& p : model_->bank().parameters()) params.push_back(p.value());
  adamw_ = std::make_unique<FusedAdamW>(params, torch::optim::AdamWOptions(o.lr).weight_decay(0));
  pool_ = physics::random_vorticity(model_->grid(), o.initial, o.pool_size, mix_seed({o.seed, kPool})).to(to);
  const FeatureScales& s = model_->scales();
  if (const std::string w = warmup_warning(o.warmup, o.total_steps, "stagger.warmup"); !w.empty())
    core::log_warn(log_.get(), w);
  core::log_info(log_.get(),
                 cat("NeuralStagger: N = ", o.n, ", s = ", o.s, ", T = ", o.T, ": ", o.solvers(), " coarse solvers on ",
                     o.coarse_n(), " x ", o.coarse_n(), " grids, ", model_->bank().parameter_count(), " parameters, ",
                     o.fp64 ? "fp64" : "fp32", " on ", device.str(), "; nu ", o.physics.nu, ", drag ", o.physics.drag,
                     ", forcing ", o.physics.forcing ? "kolmogorov" : "none", ", dt ", o.physics.dt,
                     "; random states rms ", core::sci(s.vorticity), ", rms rhs ", core::sci(s.tendency)));
  // The batch is dealt out whole: ranks beyond it wait (as the other learners say).
  if (comm_.size() > o.batch)
    core::log_warn(log_.get(), core::idle_ranks_warning(comm_.size(), o.batch, "state per batch", "states per batch",
                                                        "stagger.batch deals whole states to the ranks"));
  if (!o.resume.empty()) with_key("train.resume", [&] { load(o.resume); });
}

std::pair<at::Tensor, at::Tensor> StaggerLearner::loss_and_prediction(const at::Tensor& w) const {
  const at::Tensor predicted = model_->forward(w);  // [T, B, N, N]
  at::Tensor loss = at::zeros({}, w.options());
  at::Tensor previous = w;
  for (int64_t tau = 0; tau < predicted.size(0); ++tau) {
    const at::Tensor r = physics::vorticity_step_residual(model_->grid(), options_.physics, previous, predicted[tau]);
    loss = loss + (r / model_->scales().tendency).square().mean();
    previous = predicted[tau];
  }
  return {loss / static_cast<double>(predicted.size(0)), predicted};
}

at::Tensor StaggerLearner::physics_loss(const at::Tensor& w) const { return loss_and_prediction(w).first; }

double StaggerLearner::step() {
  const StaggerOptions& o = options_;
  const double lr =
      cosine_warmup_lr(decay_step(step_, o.warmup, o.total_steps), o.lr, o.lr_min, o.warmup, o.total_steps);
  for (auto& g : adamw_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(mix_seed({o.seed, kBatch, uint64_t(step_)}));
  const at::Tensor batch = at::randperm(o.pool_size, gen, at::kLong).narrow(0, 0, o.batch);
  // This rank's rows of the batch; its loss is weighted by its share so that the sum over ranks
  // is the mean over the batch.
  const int64_t ranks = comm_.size(), rank = comm_.rank();
  const int64_t first = o.batch * rank / ranks, last = o.batch * (rank + 1) / ranks;
  const at::TensorOptions to = pool_.options();
  adamw_->zero_grad();
  at::Tensor next = at::zeros({o.batch, o.n, o.n}, to);
  double loss_value = 0;
  if (last > first) {
    const at::Tensor w = pool_.index_select(0, batch.narrow(0, first, last - first).to(to.device()));
    const auto [loss, predicted] = loss_and_prediction(w);
    (loss * (double(last - first) / double(o.batch))).backward();
    loss_value = loss.item<double>() * double(last - first) / double(o.batch);
    next.narrow(0, first, last - first).copy_(predicted[o.T - 1].detach());
  }
  // Data parallel: sum the weighted gradients and losses, and share the advanced states.
  std::vector<at::Tensor> params;
  for (auto& p : model_->bank().parameters()) params.push_back(p.value());
  if (ranks > 1) {
    allreduce_gradients(comm_, params);
    comm_.allreduce_sum(&loss_value, 1);
    at::Tensor shared = next.to(at::kCPU, at::kDouble).contiguous();
    comm_.allreduce_sum(shared.data_ptr<double>(), shared.numel());
    next = shared.to(to);
  }
  if (!std::isfinite(loss_value)) {  // the loop stops on it, naming this step (as the others count it)
    ++step_;
    return loss_value;
  }
  if (o.grad_clip > 0) torch::nn::utils::clip_grad_norm_(params, o.grad_clip);
  adamw_->step();
  // The curriculum: each state advanced by the model goes back into the pool, unless it blew up
  // (non-finite or 10× the initial rms), in which case it is replaced by a random field too.
  {
    at::NoGradGuard no_grad;
    const at::Tensor rms = at::sqrt(next.square().mean({-2, -1}));
    const at::Tensor bad = at::logical_not(at::isfinite(rms)).logical_or(rms > 10 * o.initial.rms);
    const at::Tensor bad_rows = bad.nonzero().view({-1});
    const int64_t n_bad = bad_rows.numel(), n_fresh = n_bad + o.refresh;
    const at::Tensor fresh = n_fresh ? physics::random_vorticity(model_->grid(), o.initial, n_fresh,
                                                                 mix_seed({o.seed, kRefresh, uint64_t(step_)}))
                                           .to(to)
                                     : at::Tensor();
    if (n_bad) next.index_copy_(0, bad_rows, fresh.narrow(0, 0, n_bad));
    pool_.index_copy_(0, batch.to(to.device()), next);
    if (o.refresh > 0) {
      // Random entries (this step's batch included) restart from new random fields.
      const at::Tensor perm = at::randperm(o.pool_size, gen, at::kLong);
      pool_.index_copy_(0, perm.narrow(0, 0, o.refresh).to(to.device()), fresh.narrow(0, n_bad, o.refresh));
    }
  }
  ++step_;
  return loss_value;
}

std::vector<Metric> StaggerLearner::validate() {
  const StaggerOptions& o = options_;
  const int64_t K = o.validation_steps;
  const at::TensorOptions to = pool_.options();
  const at::Tensor w0 =
      physics::random_vorticity(model_->grid(), o.initial, o.validation_samples, o.validation_seed).to(to);
  const at::Tensor reference = reference_rollout(reference_solver(o), w0, K, o.physics.dt);
  const at::Tensor predicted = model_rollout(*model_, w0, K, comm_);
  double residual = 0;
  {
    at::NoGradGuard no_grad;
    residual = physics_loss(w0).item<double>();
  }
  const double e1 = relative_l2(predicted[0], reference[0]).mean().item<double>();
  const double eK = relative_l2(predicted[K - 1], reference[K - 1]).mean().item<double>();
  const double pK = relative_l2(w0, reference[K - 1]).mean().item<double>();
  core::log_info(log_.get(), cat("validation at step ", step_, ": relative L2 after 1 step ", core::sci(e1), ", after ",
                                 K, " steps ", core::sci(eK), " (persistence ", core::sci(pK), "), residual loss ",
                                 core::sci(residual)));
  return {{"residual", residual}, {"rel_l2_1", e1}, {cat("rel_l2_", K), eK}, {cat("persistence_", K), pK}};
}

void StaggerLearner::save(const std::string& path) const {
  Checkpoint c;
  for (const auto& p : model_->bank().parameters()) c.tensors["model." + p.key()] = p.value().detach().cpu();
  pack_adamw_state(c, model_->bank().parameters(), *adamw_);
  put_scales(c, model_->scales());
  c.tensors["pool"] = pool_.cpu();
  c.attributes = options_.to_attributes();
  c.attributes["family"] = "stagger";
  store_progress(c.attributes, step_);
  put_deck(c, options_.deck_yaml, options_.deck_dir);
  run_on_root(comm_, [&] { save_checkpoint(path, c); });
}

namespace {

// A checkpoint attribute of StaggerOptions::to_attributes as the deck key that sets it and its
// value as the deck writes it.
std::pair<std::string, std::string> deck_setting(const std::string& name, const std::string& value) {
  static const std::map<std::string, std::string> keys = {
      {"stagger.n", "stagger.grid.n"},
      {"stagger.nu", "stagger.viscosity"},
      {"stagger.forcing.amplitude", "stagger.forcing_amplitude"},
      {"stagger.forcing.wavenumber", "stagger.forcing_wavenumber"},
      {"stagger.init.peak", "stagger.init.peak_wavenumber"},
      {"stagger.width", "stagger.network.width"},
      {"stagger.blocks", "stagger.network.blocks"},
      {"stagger.kernel", "stagger.network.kernel"},
      {"stagger.velocity_inputs", "stagger.network.velocity_inputs"},
      {"stagger.fp64", "stagger.precision"}};
  const auto it = keys.find(name);
  const std::string key = it == keys.end() ? name : it->second;
  if (name == "stagger.fp64") return {key, value == "1" ? "fp64" : "fp32"};
  if (name == "stagger.velocity_inputs") return {key, value == "1" ? "true" : "false"};
  return {key, value};
}

}  // namespace

void StaggerLearner::load(const std::string& path) {
  Checkpoint c;
  run_on_every_rank(comm_, [&] { c = load_checkpoint(path); });  // one rank's unreadable file: every rank's
  if (c.attributes["family"] != "stagger")
    throw Error(cat(path, ": a checkpoint of family '", c.attributes["family"], "', not stagger"), "train.resume");
  const StaggerOptions stored = StaggerOptions::from_attributes(c.attributes, path);
  const auto theirs = stored.to_attributes();
  for (const auto& [name, value] : options_.to_attributes())
    if (const auto it = theirs.find(name); it == theirs.end() || it->second != value) {
      const auto [key, shown] = deck_setting(name, value);
      throw Error(cat(path, ": was trained with other stagger settings: ", key, " = ",
                      it == theirs.end() ? "(none)" : deck_setting(name, it->second).second, ", the deck gives ", shown,
                      " (a checkpoint resumes only the grid, physics, decomposition and network it was trained with)"),
                  key);
    }
  unpack_parameters(c, path, model_->bank().parameters());
  unpack_adamw_state(c, path, model_->bank().parameters(), *adamw_);
  const auto pool = c.tensors.find("pool");
  if (pool == c.tensors.end() || pool->second.sizes() != pool_.sizes())
    throw Error(
        pool == c.tensors.end()
            ? cat(path, ": has no state pool (not a NeuralStagger training checkpoint?)")
            : cat(path, ": was trained with other stagger settings: stagger.pool.size = ", pool->second.size(0),
                  ", the deck gives ", pool_.size(0), " (a checkpoint resumes the state pool it was trained with)"),
        pool == c.tensors.end() ? "train.resume" : "stagger.pool.size");
  pool_.copy_(pool->second);
  step_ = restore_progress(c.attributes, path);
  core::log_info(log_.get(), cat("resumed from ", path, " at step ", step_));
}

std::unique_ptr<StaggerModel> load_stagger_model(const std::string& path, const std::string& device, const Comm& comm) {
  Checkpoint c;
  run_on_every_rank(comm, [&] { c = load_checkpoint(path); });  // one rank's unreadable file: every rank's
  if (c.attributes["family"] != "stagger")
    throw Error(cat(path, ": a checkpoint of family '", c.attributes["family"], "', not stagger"));
  const StaggerOptions o = StaggerOptions::from_attributes(c.attributes, path);
  const c10::Device d = select_device_for(device, "rollout.device", comm);
  auto model = std::make_unique<StaggerModel>(o, get_scales(c, path), tensor_options(o, d));
  unpack_parameters(c, path, model->bank().parameters());
  return model;
}

}  // namespace tessera::train::stagger
