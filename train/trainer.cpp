#include "train/trainer.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <filesystem>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/exact_text.hpp"
#include "core/idle_ranks.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "core/progress.hpp"
#include "core/same_on_ranks.hpp"
#include "gnn/autocast.hpp"
#include "io/dataset.hpp"
#include "io/deck_difference.hpp"
#include "train/checkpoint.hpp"
#include "train/device.hpp"
#include "train/fused_adamw.hpp"
#include "train/gradients.hpp"
#include "train/model_io.hpp"
#include "train/optimizer_state.hpp"
#include "train/schedule.hpp"

namespace tessera::train {

Trainer::~Trainer() = default;

Trainer::Trainer(const MeshSimOptions& o, std::shared_ptr<spdlog::logger> log, const Comm& comm)
    : options_(o), comm_(comm), log_(std::move(log)) {
  at::manual_seed(o.seed);  // parameter initialisation
  gen_ = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  model_ = make_simulator(o.model, kNodeFeatures, kOutputChannels);
  device_ = select_device_for(o.device, "train.device", comm_);
  amp_dtype_ = precision_dtype(o.precision);
  model_->module().to(device_);
  const int64_t limit = o.data.max_trajectories;
  // Halo depth = model depth: blocks or message-passing steps each reach one hop further.
  const int hops = static_cast<int>(o.model.depth());
  // Graph parallelism partitions every graph over the ranks; data parallelism gives each rank
  // whole graphs (all trajectories are loaded everywhere, samples are dealt out round-robin).
  graph_parallel_ = comm_.size() > 1 && o.graph_parallel;
  if (const std::string e = o.unroll_parallel_error(); graph_parallel_ && !e.empty())
    throw Error(cat("train.unroll_grad ", e), "train.unroll_grad");
  const std::string& dir = o.data.dir;
  const std::string valid_path = dir + "/" + o.data.valid_split + ".h5";
  bool has_valid = false;
  // Every rank reads the data itself: a folder that one rank cannot read (node-local, or being
  // written) is every rank's error, not one rank's abort while the others wait in a collective.
  // Graph-parallel loading partitions (collectively) after this check.
  run_on_every_rank(comm_, [&] {
    data_dt_ = with_key("data.dir", [&] { return io::read_dataset_meta(dir).dt; });
    // A dataset may have no validation split (dataset.valid: 0), so the default's absence only
    // turns validation off; a split named on purpose must exist.
    has_valid = std::filesystem::exists(valid_path);
    if (!has_valid && o.data.valid_split != "valid")
      throw Error(cat(valid_path, " does not exist: no split '", o.data.valid_split, "' in ", dir), "data.valid_split");
    if (graph_parallel_)
      open_split(dir, o.data.train_split, "data.train_split");  // opened to check it: it is loaded below
    else
      train_ = load_split(dir, o.data.train_split, o.augment, limit, Comm::self(), hops, "data.train_split");
  });
  if (graph_parallel_) train_ = load_split(dir, o.data.train_split, o.augment, limit, comm_, hops, "data.train_split");
  trained_on_ = trained_on(cat(dir, "/", o.data.train_split, ".h5"), train_);
  // Every rank read data.dir for itself: a rank with another copy of the data is every rank's error.
  {
    std::string all;
    for (const std::string& f : trained_on_.fingerprints) all += f + " ";
    core::require_same_data(comm_, all, cat("training data of the ", o.data.train_split, " split"), "data.dir");
  }
  // Each trajectory holds its whole mesh (also when partitioned), so every rank stores the same.
  for (const TrajectoryData& t : train_) data_edge_length_ += mesh::mean_edge_length(t.mesh) / double(train_.size());
  run_on_root(comm_, [&] {  // validation: rank 0, whole graphs
    if (has_valid)
      valid_ =
          load_split(dir, o.data.valid_split, o.augment, o.valid_trajectories, Comm::self(), 1, "data.valid_split");
  });
  // A dataset made with dataset.valid: 0 trains without a word otherwise, and its output.dir then
  // lacks the metrics.csv that the key's help lists.
  if (!has_valid)
    core::log_warn(log_.get(), cat("no validation split (", valid_path, " does not exist): training runs without ",
                                   "validation, and writes no metrics.csv"));
  // Validation settings beyond the data are clamped; say so, as tessera-rollout does.
  if (!valid_.empty() && int64_t(valid_.size()) < o.valid_trajectories)
    core::log_warn(log_.get(), cat("train.valid_trajectories = ", o.valid_trajectories, ", but ", valid_path, " has ",
                                   valid_.size(), ": validating on ", valid_.size()));
  if (!valid_.empty() && o.rollout_steps > valid_[0].steps() - 1)
    core::log_warn(log_.get(),
                   cat("train.rollout_steps = ", o.rollout_steps, " exceeds the ", valid_[0].steps() - 1,
                       " steps of the first validation trajectory: validation rolls out ", valid_[0].steps() - 1));
  // A sample covers train.unroll passes of model.bundle steps after its input step.
  const int64_t span = o.unroll.steps * o.model.bundle;
  for (size_t i = 0; i < train_.size(); ++i)
    if (train_[i].steps() <= span)
      throw Error(cat("train.unroll x model.bundle = ", o.unroll.steps, " x ", o.model.bundle, " = ", span,
                      " steps per sample, but training trajectory ", i, " of ", dir, " has ", train_[i].steps(),
                      " steps; a sample can cover at most ", train_[i].steps() - 1, " after its input step"),
                  // Located at the larger factor; with both 1, the data is what is short.
                  o.unroll.steps == 1 && o.model.bundle == 1 ? "data.dir"
                  : o.model.bundle >= o.unroll.steps         ? "model.bundle"
                                                             : "train.unroll");
  if (!device_.is_cpu()) {
    for (auto& t : train_) t = t.to(device_);
    for (auto& t : valid_) t = t.to(device_);
  }
  core::log_info(log_.get(), cat("data: ", core::counted(train_.size(), "training trajectory", "training trajectories"),
                                 " (", train_[0].steps(), " steps, ", train_[0].global_nodes, " nodes in the first), ",
                                 valid_.size(), " validation"));
  // Samples are drawn with replacement, so a batch larger than the data is allowed, but each step
  // then computes more samples than there are (train.batch = 100,000 on 894 ran for minutes
  // without a progress line): said up front.
  {
    int64_t states = 0;
    for (const auto& t : train_) states += t.steps() - 1;
    if (o.optim.batch > states)
      core::log_warn(log_.get(), cat("train.batch = ", o.optim.batch, " is more samples per step than the ", states,
                                     " transitions of the training data: each step computes all ", o.optim.batch,
                                     " one after the other"));
  }
  if (const std::string w = warmup_warning(o.optim.warmup, o.optim.steps, "train.warmup"); !w.empty())
    core::log_warn(log_.get(), w);
  if (graph_parallel_) {
    const auto& t0 = train_[0];
    core::log_info(log_.get(),
                   cat("graph-parallel on ", comm_.size(), " ranks: rank 0 holds ", t0.num_owned, " owned + ",
                       t0.nodes() - t0.num_owned, " halo nodes (", hops, "-hop halo) of the first trajectory"));
    // Long-range mask edges make the halo the whole graph (docs/design.md): the long deck's 20%
    // jumps on 2 ranks give 1,049 owned + 994 halo nodes, all 2,043 of the CylinderFlow mesh.
    if (const std::string w = halo_coverage_warning(t0, o.augment, hops, "train.parallel: data would be faster");
        !w.empty())
      core::log_warn(log_.get(), w);
  } else if (comm_.size() > 1) {
    core::log_info(log_.get(), cat("data-parallel on ", comm_.size(),
                                   " ranks: sample b of a batch is computed by rank b mod ", comm_.size()));
    if (o.optim.batch < comm_.size())
      core::log_warn(log_.get(),
                     core::idle_ranks_warning(comm_.size(), o.optim.batch, "sample per batch", "samples per batch",
                                              "train.batch deals whole samples to the ranks; "
                                              "train.parallel: graph splits each graph instead"));
  }
  norms_ = Normalizers::fresh(o.model.bundle);
  opt_ = std::make_unique<FusedAdamW>(model_->module().parameters(), torch::optim::AdamWOptions(o.optim.lr)
                                                                         .betas({o.optim.betas[0], o.optim.betas[1]})
                                                                         .weight_decay(o.optim.weight_decay));
  int64_t params = 0;
  for (const auto& p : model_->module().parameters()) params += p.numel();
  core::log_info(log_.get(), cat("model: ", model_->family(), " with ", params, " parameters on ", device_.str(),
                                 ", precision ", o.precision));
  if (!o.resume.empty()) {
    // A resumed fine-tuning run holds its own weights: train.init has done its part.
    with_key("train.resume", [&] { load(o.resume); });
  } else if (!o.init.empty()) {
    // Fine-tuning: the weights and normalisers of an earlier run; the optimiser, the schedule,
    // the sampler and the step count start afresh, so a changed recipe (unroll, noise, learning
    // rate) takes effect from step 0.
    Checkpoint c;
    run_on_every_rank(comm_, [&] {  // a file one rank cannot read: every rank's error
      with_key("train.init", [&] {
        c = load_checkpoint(o.init);
        require_same_setup(c, o.init, true);
        unpack_model(c, o.init, *model_, norms_);
        // The model has seen that run's data too (and that of the runs it was fine-tuned from).
        trained_on_.before = stored_trained_on(c, o.init).lineage();
      });
    });
    warn_other_data(c, o.init);
    core::log_info(log_.get(), cat("initialised from ", o.init, " (its step ",
                                   c.attributes.count("step") ? c.attributes.at("step") : "?", ")"));
  }
}

double Trainer::step() {
  const OptimOptions& p = options_.optim;
  const int64_t batch = p.batch, total = p.steps, warmup = p.warmup;
  const double lr = cosine_warmup_lr(decay_step(step_, warmup, total), p.lr, p.lr_min, warmup, total);
  for (auto& g : opt_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
  const double sigma = options_.noise_std, pushforward = options_.pushforward, gamma = options_.noise_gamma;
  const int64_t k = options_.unroll.length_at(step_), g = options_.unroll.grad_steps_at(step_);
  const int64_t bundle = options_.model.bundle;
  opt_->zero_grad();
  double loss_sum = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const auto& t = train_[at::randint(int64_t(train_.size()), {1}, gen_).item<int64_t>()];
    // The k passes of K = model.bundle steps, s + 1 .. s + kK, must exist (k = K = 1: any step
    // but the last, as always).
    const int64_t s = at::randint(t.steps() - k * bundle, {1}, gen_).item<int64_t>();
    // Noise is drawn for every node of the graph on every rank, so each rank's slice of it is
    // what a single process would draw.
    at::Tensor noise = at::randn({t.global_nodes, 2}, gen_);
    if (t.partitioned()) noise = noise.index_select(0, t.global_ids);
    noise = noise.to(device_) * sigma * (t.node_type == mesh::kNormal).unsqueeze(1);
    at::Tensor v = t.velocity[s] + noise;
    // noise_gamma < 1: the target keeps that part of the noise, so the model corrects less of it.
    at::Tensor target_shift = gamma < 1 ? noise * (1 - gamma) : at::Tensor();
    const bool mine = graph_parallel_ || b % comm_.size() == comm_.rank();
    // Pushforward: the input becomes the model's prediction of step s from the noisy step s - K,
    // boundary nodes imposed as in rollouts. The uniform is drawn on every rank, and only when
    // pushforward is on, so other runs keep their random stream.
    if (pushforward > 0 && s >= bundle && at::rand({1}, gen_).item<double>() < pushforward && mine) {
      at::NoGradGuard no_grad;
      at::Tensor pred = predict_bundle(*model_, norms_, t, t.velocity[s - bundle] + noise)[bundle - 1];
      v = at::where(t.fixed_mask.unsqueeze(1), t.velocity[s], pred);
      if (t.partitioned()) v = (*t.halo)(v);  // owned rows are exact; halo rows come from their owners
      target_shift = at::Tensor();            // the input is no longer the truth plus noise
    }
    at::Tensor features = node_features(v, t), target = bundle_target(t, s, v, bundle);
    if (target_shift.defined()) target = target + target_shift.repeat({1, bundle});
    // Every rank takes part in every sample's statistics (rows it does not compute: none), so
    // normalisers stay identical on all ranks and equal to a single process's. They see the
    // first step of an unroll only.
    const int64_t rows = mine ? t.num_owned : 0;
    norms_.node.accumulate(features.narrow(0, 0, rows), comm_);
    norms_.target.accumulate(target.narrow(0, 0, rows), comm_);
    double l = 0;
    if (mine) {
      at::Tensor loss = sample_loss(t, s, v, k, g, target_shift);
      (loss / double(batch)).backward();
      l = loss.item<double>();
    }
    comm_.allreduce_sum(&l, 1);
    loss_sum += l;
  }
  allreduce_gradients(comm_, model_->module().parameters());
  if (const double clip = p.clip; clip > 0) torch::nn::utils::clip_grad_norm_(model_->module().parameters(), clip);
  opt_->step();
  ++step_;
  return loss_sum / batch;
}

at::Tensor Trainer::sample_loss(const TrajectoryData& t, int64_t s, at::Tensor v, int64_t k, int64_t g,
                                const at::Tensor& target_shift) {
  // Mean over the loss nodes of the whole graph (graph-parallel: this rank's sum over the global
  // count).
  int64_t count = t.loss_mask.sum().item<int64_t>();
  if (graph_parallel_) comm_.allreduce_sum(&count, 1);
  const double discount = options_.unroll.discount;
  double weight_sum = 0;
  for (int64_t j = 0; j < g; ++j) weight_sum += std::pow(discount, double(j));
  const at::Tensor fixed = t.fixed_mask.unsqueeze(1);
  const int64_t bundle = options_.model.bundle;
  at::Tensor total;
  for (int64_t j = 0; j < k; ++j) {
    const bool with_grad = j >= k - g;  // the last g passes; the earlier ones are pushed forward
    at::Tensor target = bundle_target(t, s + j * bundle, v, bundle);
    if (j == 0 && target_shift.defined()) target = target + target_shift.repeat({1, bundle});
    at::Tensor pred;
    {
      at::AutoGradMode grad_mode(with_grad);
      gnn::AutocastScope amp(device_.type(), amp_dtype_);  // the backward runs outside, as with torch.autocast
      pred = model_->forward(norms_.node.normalize(node_features(v, t)), t);
    }
    if (with_grad) {
      at::Tensor err = (pred.to(target.scalar_type()) - norms_.target.normalize(target)).pow(2).sum(1);
      at::Tensor loss = err.masked_select(t.loss_mask).sum() / double(std::max<int64_t>(count, 1));
      // Step j is loss step j - (k - g) + 1 of g; k = g = 1 keeps the plain next-step loss.
      if (g > 1) loss = loss * (std::pow(discount, double(k - 1 - j)) / weight_sum);
      total = total.defined() ? total + loss : loss;
    }
    if (j + 1 == k) break;
    // The next input: this pass's last predicted step (with its gradient when it has one),
    // boundary imposed.
    at::AutoGradMode grad_mode(with_grad);
    at::Tensor delta =
        norms_.target.inverse(pred.to(v.scalar_type())).narrow(1, kOutputChannels * (bundle - 1), kOutputChannels);
    v = at::where(fixed, t.velocity[s + (j + 1) * bundle], v + delta);
    if (t.partitioned()) v = (*t.halo)(v);  // no gradient here: graph-parallel unrolls keep g = 1
  }
  return total;
}

std::vector<Metric> Trainer::validate() {
  if (valid_.empty()) return {};  // also on ranks other than 0, which hold no validation data
  model_->module().eval();
  const int64_t k = std::min(options_.rollout_steps, valid_[0].steps() - 1);  // clamped: warned at start
  // Five trajectories of 600 steps take about a minute: a line every 10 s (redrawn on a terminal)
  // while it runs, one per trajectory and one for the rollout; the result is the line below.
  core::Progress progress(log_, "validation", static_cast<int64_t>(valid_.size()) + 1, 10.0,
                          core::Progress::is_terminal());
  auto one = one_step_error(*model_, norms_, valid_, 1, -1, [&] { progress.advance(); });
  auto r = rollout(*model_, norms_, valid_[0], k);
  progress.advance();
  progress.finish_quietly();
  core::log_info(log_.get(),
                 cat("step ", step_, ": valid 1-step RMSE ", core::sci(one.model_rmse), " (persistence ",
                     core::sci(one.persistence_rmse), ", ratio ", core::sci_ratio(one.model_rmse, one.persistence_rmse),
                     "); ", k, "-step rollout RMSE ", valid_.size() > 1 ? "(first trajectory) " : "",
                     core::sci(r.rmse_over(k)), " (persistence ", core::sci(r.persistence_over(k)), ")"));
  model_->module().train();
  return {{"one_step_rmse", one.model_rmse},
          {"one_step_persistence", one.persistence_rmse},
          {"rollout_rmse", r.rmse_over(k)},
          {"rollout_persistence", r.persistence_over(k)}};
}

void Trainer::warn_other_data(const Checkpoint& c, const std::string& path) const {
  const std::string w =
      dt_mismatch_warning(checkpoint_data_dt(c, path), data_dt_, cat(options_.data.dir, " (data.dir)"));
  if (!w.empty()) core::log_warn(log_.get(), cat(path, ": ", w, " (the checkpoint now stores the new dt)"));
  if (const std::string s = mesh_scale_warning(checkpoint_data_edge_length(c, path), data_edge_length_,
                                               cat(options_.data.dir, " (data.dir)"));
      !s.empty())
    core::log_warn(log_.get(), cat(path, ": ", s));
}

void Trainer::require_same_setup(const Checkpoint& c, const std::string& path, bool fine_tuning) const {
  // Another family's checkpoint first: its deck differs in every model key, and the first of them
  // (model.latent 64 against 128) hid the cause until all the others matched.
  require_model_family(c, path, *model_);
  const auto stored = c.attributes.find("deck");
  if (stored == c.attributes.end() || stored->second.empty() || options_.deck_yaml.empty()) return;
  // A resume continues one run bit for bit: what shapes the model, its inputs, the data it draws
  // and the optimisation stays (model.heads 4 -> 2 kept every shape and read the weights as
  // another model; another seed, noise or batch was mixed in without a word). The loop's length
  // and reporting, the data's path and the placement may change. A fine-tuning run changes the
  // recipe by design and keeps the architecture.
  static const std::vector<std::string> loop_keys = {"train.steps",
                                                     "train.time_limit",
                                                     "train.validate_every",
                                                     "train.checkpoint_every",
                                                     "train.resume",
                                                     "train.init",
                                                     "train.threads",
                                                     "train.device",
                                                     "train.valid_trajectories",
                                                     "train.rollout_steps",
                                                     "train.parallel",
                                                     "data.dir",
                                                     "data.valid_split",
                                                     "model.family"};  // unpack_model: the family
  const auto d = fine_tuning
                     ? io::first_deck_difference(stored->second, options_.deck_yaml, {"model"}, {"model.family"})
                     : io::first_deck_difference(stored->second, options_.deck_yaml,
                                                 {"model", "augment", "data", "train"}, loop_keys);
  if (!d) return;
  throw Error(cat(path, ": ", fine_tuning ? "its model was built" : "this run was trained", " with ", d->key, " = ",
                  d->stored, ", the deck gives ", d->now,
                  fine_tuning ? "; fine-tuning (train.init) keeps the model's architecture"
                              : "; a resume continues the same run (to change the recipe, fine-tune from the "
                                "checkpoint with train.init)"),
              d->key);
}

void Trainer::save(const std::string& path) const {
  Checkpoint c;
  pack_model(c, *model_, norms_);
  pack_adamw_state(c, model_->module().named_parameters(), *opt_);
  c.tensors["rng.sampler"] = gen_.get_state();
  store_progress(c.attributes, step_);
  put_deck(c, options_.deck_yaml, options_.deck_dir);
  c.attributes["data_dt"] = core::exact_text(data_dt_);
  if (data_edge_length_ > 0) c.attributes[kDataEdgeLengthAttribute] = core::exact_text(data_edge_length_);
  put_trained_on(c, trained_on_);
  run_on_root(comm_, [&] { save_checkpoint(path, c); });  // every rank holds the same state
}

void Trainer::load(const std::string& path) {
  Checkpoint c;
  // Every rank reads the checkpoint itself: a file one rank cannot read is every rank's error.
  run_on_every_rank(comm_, [&] {
    c = load_checkpoint(path);
    require_same_setup(c, path, false);
    // data.dir may name another copy of the data (moved to scratch), not other data.
    const TrainedOn stored = stored_trained_on(c, path);
    if (const std::string e = other_data_error(path, stored, trained_on_); !e.empty()) throw Error(e, "data.dir");
    trained_on_.before = stored.before;  // a resumed fine-tuning run keeps what its start had seen
    unpack_model(c, path, *model_, norms_);
    unpack_adamw_state(c, path, model_->module().named_parameters(), *opt_);
    // The generator's state has one size for a build of libtorch; another would throw from inside it.
    const at::Tensor& rng = checkpoint_tensor(c, path, "rng.sampler");
    if (const int64_t bytes = gen_.get_state().numel(); rng.scalar_type() != at::kByte || rng.numel() != bytes)
      throw Error(cat(path, ": tensor 'rng.sampler' holds ", rng.numel(), " values of ", rng.scalar_type(),
                      ", a sampler state is ", bytes, " bytes; the checkpoint is damaged"));
    gen_.set_state(rng);
    step_ = restore_progress(c.attributes, path);
  });
  warn_other_data(c, path);
  core::log_info(log_.get(), cat("resumed from ", path, " at step ", step_));
}

}  // namespace tessera::train
