#include "train/trainer.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <filesystem>

#include "gnn/autocast.hpp"
#include "io/atomic_file.hpp"
#include "io/log.hpp"
#include "io/mesh_deck.hpp"
#include "io/progress.hpp"
#include "mesh/error.hpp"
#include "train/checkpoint.hpp"
#include "train/device.hpp"
#include "train/model_io.hpp"
#include "train/schedule.hpp"

namespace tessera::train {

void add_train_keys(io::Schema& s) {
  using io::KeyType;
  s.section("data", "the dataset (graph-physics layout: <dir>/meta.json and <dir>/<split>.h5)");
  s.required("data.dir", KeyType::String, "dataset directory (relative to the deck)");
  s.add("data.train_split", KeyType::String, "train", "split used for training");
  s.add("data.valid_split", KeyType::String, "valid", "split used for validation");
  s.add("data.max_trajectories", KeyType::Int, "0", "use at most this many trajectories per split; 0: all").min = 0;
  s.section("train", "optimisation, noise, validation and checkpoints");
  s.add("train.steps", KeyType::Int, "1000", "optimiser steps in total (a resumed run continues to this)").min = 1;
  s.add("train.batch", KeyType::Int, "2", "samples (graphs) per step").min = 1;
  s.add("train.lr", KeyType::Float, "1e-3", "peak learning rate (AdamW)").min = 0;
  s.add("train.lr_min", KeyType::Float, "1e-6", "learning rate at the end of the cosine decay").min = 0;
  s.add("train.warmup", KeyType::Int, "1000", "linear warm-up steps").min = 0;
  s.add("train.weight_decay", KeyType::Float, "1e-4", "AdamW weight decay").min = 0;
  auto& b = s.add("train.betas", KeyType::FloatList, "[0.9, 0.95]", "AdamW betas");
  b.list_size = 2;
  b.min = 0;
  b.max = 1;
  s.add("train.clip", KeyType::Float, "1.0", "gradient-norm clipping; 0: off").min = 0;
  s.add("train.noise_std", KeyType::Float, "0.02", "std of Gaussian noise on the input velocity of normal nodes").min = 0;
  auto& pf = s.add("train.pushforward", KeyType::Float, "0",
                    "probability that a sample's input is the model's own prediction from the step before (no "
                    "gradient through it; the pushforward trick), so training sees the model's own errors; 0: off");
  pf.min = 0;
  pf.max = 1;
  s.add("train.seed", KeyType::Int, "0", "seed of parameter init, sampling and noise").min = 0;
  s.add("train.validate_every", KeyType::Int, "0", "steps between validations (1-step and rollout RMSE); 0: end only").min = 0;
  s.add("train.valid_trajectories", KeyType::Int, "2", "validation trajectories used").min = 1;
  s.add("train.rollout_steps", KeyType::Int, "50", "rollout length for validation").min = 1;
  s.add("train.time_limit", KeyType::Float, "0",
        "minutes of training in this run; the cosine decay then follows the time used after warm-up, and training "
        "stops at the limit or at train.steps (not bit-reproducible; for comparisons at equal time); 0: off").min = 0;
  s.add("train.checkpoint_every", KeyType::Int, "0", "steps between checkpoints; 0: end only").min = 0;
  s.add("train.resume", KeyType::String, "", "checkpoint to resume from (continues its step count)");
  s.add("train.device", KeyType::String, "cpu", kDeviceKeyHelp);
  s.add("train.precision", KeyType::Choice, "fp32",
        "fp32, or bf16: mixed precision (autocast runs matrix products in bfloat16; parameters, optimiser state, "
        "normalisers and the loss stay fp32); on GPU, and on CPU too")
      .choices = {"fp32", "bf16"};
  s.add("train.parallel", KeyType::Choice, "data",
        "under mpirun: data (each rank computes whole graphs, samples dealt out round-robin; for many small "
        "meshes) or graph (every graph partitioned over the ranks; for meshes too big for one rank)")
      .choices = {"data", "graph"};
  s.section("output", "where checkpoints and training metrics go");
  s.add("output.dir", KeyType::String, "out/train", "output directory: checkpoint.h5, metrics.csv");
}

void add_training_deck_keys(io::Schema& s) {
  add_train_keys(s);
  add_model_keys(s);
  io::add_augment_keys(s);
}

Trainer::~Trainer() = default;

Trainer::Trainer(const io::Deck& d, std::shared_ptr<spdlog::logger> log, const Comm& comm)
    : deck_(d), comm_(comm), log_(std::move(log)) {
  at::manual_seed(d.get_int("train.seed"));  // parameter initialisation
  gen_ = at::make_generator<at::CPUGeneratorImpl>(d.get_int("train.seed"));
  // The model first: deck errors in `model` surface before the (slow) data loading.
  model_ = make_simulator(d, kNodeFeatures, kOutputChannels);
  device_ = device_from_deck(d, "train.device", comm_);
  amp_dtype_ = precision_dtype(d.get_string("train.precision"));
  model_->module().to(device_);
  const std::string dir = d.resolve_path(d.get_string("data.dir"));
  const int64_t limit = d.get_int("data.max_trajectories");
  // Halo depth = model depth: blocks or message-passing steps each reach one hop further.
  const int hops = static_cast<int>(d.get_int("model.layers"));
  // Graph parallelism partitions every graph over the ranks; data parallelism gives each rank
  // whole graphs (all trajectories are loaded everywhere, samples are dealt out round-robin).
  graph_parallel_ = comm_.size() > 1 && d.get_string("train.parallel") == "graph";
  train_ = load_split(dir, d.get_string("data.train_split"), d, limit, graph_parallel_ ? comm_ : Comm::self(), hops);
  const std::string valid_path = dir + "/" + d.get_string("data.valid_split") + ".h5";
  if (comm_.root() && std::filesystem::exists(valid_path))  // validation: rank 0, whole graphs
    valid_ = load_split(dir, d.get_string("data.valid_split"), d, d.get_int("train.valid_trajectories"), Comm::self());
  if (!device_.is_cpu()) {
    for (auto& t : train_) t = t.to(device_);
    for (auto& t : valid_) t = t.to(device_);
  }
  io::log_info(log_.get(), cat("data: ", train_.size(), " training trajectories (", train_[0].steps(), " steps, ",
                               train_[0].global_nodes, " nodes in the first), ", valid_.size(), " validation"));
  if (graph_parallel_)
    io::log_info(log_.get(), cat("graph-parallel on ", comm_.size(), " ranks: rank 0 holds ", train_[0].num_owned,
                                 " owned + ", train_[0].nodes() - train_[0].num_owned, " halo nodes (", hops,
                                 "-hop halo) of the first trajectory"));
  else if (comm_.size() > 1)
    io::log_info(log_.get(), cat("data-parallel on ", comm_.size(), " ranks: sample b of a batch is computed by rank b mod ",
                                 comm_.size()));
  norms_ = Normalizers::fresh();
  auto betas = d.get_floats("train.betas");
  opt_ = std::make_unique<torch::optim::AdamW>(model_->module().parameters(),
                                               torch::optim::AdamWOptions(d.get_float("train.lr"))
                                                   .betas({betas[0], betas[1]})
                                                   .weight_decay(d.get_float("train.weight_decay")));
  int64_t params = 0;
  for (const auto& p : model_->module().parameters()) params += p.numel();
  io::log_info(log_.get(), cat("model: ", model_->family(), " with ", params, " parameters on ", device_.str(),
                               ", precision ", d.get_string("train.precision")));
  if (d.has("train.resume")) load(d.resolve_path(d.get_string("train.resume")));
}

double Trainer::step() {
  const int64_t batch = deck_.get_int("train.batch"), total = deck_.get_int("train.steps");
  const int64_t warmup = deck_.get_int("train.warmup");
  // With a time budget, the step that the used fraction of it corresponds to drives the decay.
  const int64_t sched_step = time_fraction_ < 0 || step_ < warmup
                                 ? step_
                                 : warmup + static_cast<int64_t>(time_fraction_ * double(total - warmup));
  const double lr = cosine_warmup_lr(sched_step, deck_.get_float("train.lr"), deck_.get_float("train.lr_min"), warmup, total);
  for (auto& g : opt_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
  const double sigma = deck_.get_float("train.noise_std"), pushforward = deck_.get_float("train.pushforward");
  opt_->zero_grad();
  double loss_sum = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const auto& t = train_[at::randint(int64_t(train_.size()), {1}, gen_).item<int64_t>()];
    const int64_t s = at::randint(t.steps() - 1, {1}, gen_).item<int64_t>();
    // Noise is drawn for every node of the graph on every rank, so each rank's slice of it is
    // what a single process would draw.
    at::Tensor noise = at::randn({t.global_nodes, 2}, gen_);
    if (t.partitioned()) noise = noise.index_select(0, t.global_ids);
    noise = noise.to(device_) * sigma * (t.node_type == mesh::kNormal).unsqueeze(1);
    at::Tensor v = t.velocity[s] + noise;
    const bool mine = graph_parallel_ || b % comm_.size() == comm_.rank();
    // Pushforward: the input becomes the model's prediction of step s from the noisy step s - 1,
    // boundary nodes imposed as in rollouts. The uniform is drawn on every rank, and only when
    // pushforward is on, so other runs keep their random stream.
    if (pushforward > 0 && s > 0 && at::rand({1}, gen_).item<double>() < pushforward && mine) {
      at::NoGradGuard no_grad;
      at::Tensor pred = predict_next(*model_, norms_, t, t.velocity[s - 1] + noise);
      v = at::where(t.fixed_mask.unsqueeze(1), t.velocity[s], pred);
      if (t.partitioned()) v = (*t.halo)(v);  // owned rows are exact; halo rows come from their owners
    }
    at::Tensor features = node_features(v, t), target = t.velocity[s + 1] - v;
    // Every rank takes part in every sample's statistics (rows it does not compute: none), so
    // normalisers stay identical on all ranks and equal to a single process's.
    const int64_t rows = mine ? t.num_owned : 0;
    norms_.node.accumulate(features.narrow(0, 0, rows), comm_);
    norms_.target.accumulate(target.narrow(0, 0, rows), comm_);
    double l = 0;
    if (mine) {
      at::Tensor pred;
      {
        gnn::AutocastScope amp(device_.type(), amp_dtype_);  // the backward runs outside, as with torch.autocast
        pred = model_->forward(norms_.node.normalize(features), t);
      }
      at::Tensor err = (pred.to(target.scalar_type()) - norms_.target.normalize(target)).pow(2).sum(1);
      // Mean over the loss nodes of the whole graph (graph-parallel: this rank's sum over the
      // global count).
      int64_t count = t.loss_mask.sum().item<int64_t>();
      if (graph_parallel_) comm_.allreduce_sum(&count, 1);
      at::Tensor loss = err.masked_select(t.loss_mask).sum() / double(std::max<int64_t>(count, 1));
      (loss / double(batch)).backward();
      l = loss.item<double>();
    }
    comm_.allreduce_sum(&l, 1);
    loss_sum += l;
  }
  allreduce_gradients();
  if (const double clip = deck_.get_float("train.clip"); clip > 0)
    torch::nn::utils::clip_grad_norm_(model_->module().parameters(), clip);
  opt_->step();
  ++step_;
  return loss_sum / batch;
}

void Trainer::allreduce_gradients() {
  if (comm_.size() == 1) return;
  auto params = model_->module().parameters();
  // A parameter some rank did not reach has no gradient there: agree on which ones have one
  // anywhere, and give them zeros where missing, so every rank reduces the same buffer.
  std::vector<int64_t> has(params.size());
  for (size_t i = 0; i < params.size(); ++i) has[i] = params[i].mutable_grad().defined();
  comm_.allreduce_max(has.data(), static_cast<int64_t>(has.size()));
  std::vector<at::Tensor> grads;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!has[i]) continue;
    if (!params[i].mutable_grad().defined()) params[i].mutable_grad() = at::zeros_like(params[i]);
    grads.push_back(params[i].mutable_grad());
  }
  if (grads.empty()) return;
  // One reduction over all gradients, flattened into a host buffer (MPI reads host memory).
  std::vector<at::Tensor> flat_parts;
  for (const auto& g : grads) flat_parts.push_back(g.reshape(-1));
  at::Tensor flat = at::cat(flat_parts).cpu().contiguous();
  if (flat.scalar_type() == at::kFloat) comm_.allreduce_sum(flat.data_ptr<float>(), flat.numel());
  else if (flat.scalar_type() == at::kDouble) comm_.allreduce_sum(flat.data_ptr<double>(), flat.numel());
  else throw Error(cat("gradient all-reduce: unsupported dtype ", flat.scalar_type()));
  int64_t offset = 0;
  for (auto& g : grads) {
    g.copy_(flat.narrow(0, offset, g.numel()).view(g.sizes()));
    offset += g.numel();
  }
}

void Trainer::validate() {
  if (valid_.empty()) return;  // also on ranks other than 0, which hold no validation data
  model_->module().eval();
  const int64_t k = deck_.get_int("train.rollout_steps");
  auto one = one_step_error(*model_, norms_, valid_, 1);
  auto r = rollout(*model_, norms_, valid_[0], k);
  io::log_info(log_.get(), cat("step ", step_, ": valid 1-step RMSE ", io::sci(one.model_rmse), " (persistence ",
                               io::sci(one.persistence_rmse), ", ratio ", io::sci(one.model_rmse / one.persistence_rmse),
                               "); ", k, "-step rollout RMSE ", io::sci(r.rmse_over(k)), " (persistence ",
                               io::sci(r.persistence_over(k)), ")"));
  metrics_rows_.push_back(cat(step_, ",", one.model_rmse, ",", one.persistence_rmse, ",", r.rmse_over(k), ",",
                              r.persistence_over(k)));
  std::string csv = "step,one_step_rmse,one_step_persistence,rollout_rmse,rollout_persistence\n";
  for (const auto& row : metrics_rows_) csv += row + "\n";
  io::write_text_atomic(deck_.get_string("output.dir") + "/metrics.csv", csv);
  model_->module().train();
}

void Trainer::run() {
  const int64_t total = deck_.get_int("train.steps"), every = deck_.get_int("train.validate_every"),
                ckpt_every = deck_.get_int("train.checkpoint_every");
  const std::string out = deck_.get_string("output.dir");
  if (step_ >= total)
    io::log_warn(log_.get(), cat("the checkpoint is already at step ", step_, " of ", total, ": nothing to train"));
  io::Progress progress(log_, "train", total - step_, 10.0, comm_.root() && io::Progress::is_terminal());
  double avg = 0;
  const double limit_s = 60 * deck_.get_float("train.time_limit");
  const auto start = std::chrono::steady_clock::now();
  double decay_start = -1;  // seconds at which warm-up ended
  while (step_ < total) {
    if (limit_s > 0) {
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      comm_.allreduce_max(&elapsed, 1);  // every rank stops at the same step
      if (elapsed >= limit_s) {
        io::log_info(log_.get(), cat("time limit of ", deck_.get_float("train.time_limit"), " min reached at step ", step_));
        break;
      }
      if (step_ >= deck_.get_int("train.warmup") && decay_start < 0) decay_start = elapsed;
      time_fraction_ = decay_start < 0 ? 0.0 : (elapsed - decay_start) / std::max(limit_s - decay_start, 1e-9);
    }
    const double loss = step();
    avg = avg == 0 ? loss : 0.98 * avg + 0.02 * loss;
    progress.advance(1, "loss " + io::sci(avg));
    if (!std::isfinite(loss)) throw Error(cat("training diverged at step ", step_, ": loss is ", loss));
    if (every > 0 && step_ % every == 0) validate();
    if (ckpt_every > 0 && step_ % ckpt_every == 0) save(out + "/checkpoint.h5");
  }
  progress.finish("loss " + io::sci(avg));
  if (every == 0 || step_ % every != 0) validate();
  save(out + "/checkpoint.h5");
  io::log_info(log_.get(), cat("wrote ", out, "/checkpoint.h5"));
}

void Trainer::save(const std::string& path) const {
  Checkpoint c;
  pack_model(c, *model_, norms_);
  for (const auto& p : model_->module().named_parameters()) {
    auto it = opt_->state().find(p.value().unsafeGetTensorImpl());
    if (it == opt_->state().end()) continue;
    auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
    c.tensors["optim." + p.key() + ".exp_avg"] = s.exp_avg();
    c.tensors["optim." + p.key() + ".exp_avg_sq"] = s.exp_avg_sq();
    c.tensors["optim." + p.key() + ".step"] = at::tensor({s.step()}, at::kLong);
  }
  c.tensors["rng.sampler"] = gen_.get_state();
  c.attributes["format"] = "tessera-checkpoint-1";
  c.attributes["step"] = std::to_string(step_);
  c.attributes["deck"] = deck_.resolved_yaml();
  if (comm_.root()) save_checkpoint(path, c);  // every rank holds the same state
  comm_.barrier();
}

void Trainer::load(const std::string& path) {
  Checkpoint c = load_checkpoint(path);
  unpack_model(c, path, *model_, norms_);
  for (auto& p : model_->module().named_parameters()) {
    if (!c.tensors.count("optim." + p.key() + ".exp_avg")) continue;
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    const at::Device dev = p.value().device();
    s->exp_avg(checkpoint_tensor(c, path, "optim." + p.key() + ".exp_avg").clone().to(dev));
    s->exp_avg_sq(checkpoint_tensor(c, path, "optim." + p.key() + ".exp_avg_sq").clone().to(dev));
    s->step(checkpoint_tensor(c, path, "optim." + p.key() + ".step").item<int64_t>());
    opt_->state()[p.value().unsafeGetTensorImpl()] = std::move(s);
  }
  gen_.set_state(checkpoint_tensor(c, path, "rng.sampler"));
  step_ = std::stoll(c.attributes["step"]);
  io::log_info(log_.get(), cat("resumed from ", path, " at step ", step_));
}

}  // namespace tessera::train
