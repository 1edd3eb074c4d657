#include "train/spen/learner.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/adamw.h>
#include <torch/optim/schedulers/step_lr.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "core/seed.hpp"
#include "gnn/gin.hpp"
#include "gnn/spen.hpp"
#include "io/graph_generators.hpp"
#include "train/checkpoint.hpp"
#include "train/fused_adamw.hpp"
#include "train/gradients.hpp"
#include "train/optimizer_state.hpp"

namespace tessera::train::spen {

std::shared_ptr<gnn::GraphClassifier> make_model(const GraphClassifierOptions& o, const PreparedData& d) {
  if (o.family == "gin") {
    gnn::GinConfig c;
    c.node_in = d.node_in;
    c.channels = o.channels;
    c.layers = o.layers;
    c.classes = d.num_classes;
    return std::make_shared<gnn::Gin>(c);
  }
  gnn::SpenConfig c;
  c.pair_in = d.pair_in;
  c.node_in = d.node_in;
  c.channels = o.channels;
  c.layers = o.layers;
  c.classes = d.num_classes;
  c.own_sizes = d.own_sizes;
  return std::make_shared<gnn::Spen>(c);
}

FoldLearner::~FoldLearner() = default;

void load_parameters(const Checkpoint& c, const std::string& path, gnn::GraphClassifier& model,
                     const std::string& key) {
  require_parameter_count(c, path, "model.", model.named_parameters().size(), "another spen.model", key);
  at::NoGradGuard no_grad;
  for (auto& p : model.named_parameters()) {
    const auto it = c.tensors.find("model." + p.key());
    if (it == c.tensors.end())
      throw Error(cat(path, ": no tensor 'model.", p.key(), "' (not a checkpoint of this model)"), key);
    if (!it->second.sizes().equals(p.value().sizes()))
      throw Error(cat(path, ": parameter ", p.key(), " has shape ", it->second.sizes(), ", the deck's model ",
                      p.value().sizes()),
                  key);
    p.value().copy_(it->second.to(p.value().scalar_type()));
  }
}

at::Tensor predicted_classes(const at::Tensor& logits) {
  const at::Tensor mx = std::get<0>(logits.max(1, true));
  const at::Tensor near = logits >= mx - 1e-5 * (1 + mx.abs());
  return std::get<1>(near.to(at::kInt).max(1));
}

// What decides a fold's split and its training, by the deck key that sets each: a fold checkpoint
// resumes only where all agree. (Another train.seed or spen.data.folds resumed a fold with
// another split, training on the fold's test graphs; the earlier folds' accuracies were averaged
// in as well.) The model's keys too: fewer layers loaded the first ones without a word.
RunSetup fold_setup(const GraphClassifierOptions& o, const PreparedData& data) {
  return {{"spen.data", data.name},  // the dataset's name (MUTAG, CSL, ...)
          {"spen.data.node_features", o.constant_features ? "constant" : "labels"},
          {"spen.data.csl_per_class", o.source == "csl" ? cat(o.csl_per_class) : "-"},
          {"spen.data.csl_seed", o.source == "csl" ? cat(o.csl_seed) : "-"},
          // Its graphs, after the keys that change them, which name a difference more clearly (a
          // checkpoint before 2026-12-07 has no such entry: not compared).
          {"spen.data.graphs", data_fingerprint(data)},
          {"spen.data.folds", cat(o.folds)},
          // The model: a resume with fewer layers loaded the first ones and dropped the rest
          // without a word; another hop count or channel count failed on a tensor's shape.
          {"spen.model.hops", o.family == "spen" ? cat(o.hops) : "-"},
          {"spen.model.channels", cat(o.channels)},
          {"spen.model.layers", cat(o.layers)},
          {"spen.model.rare_threshold", o.family == "gin" ? "-" : cat(o.rare_threshold)},
          {"train.seed", cat(o.seed)},
          {"spen.train.batch", cat(o.batch)},
          {"spen.train.precision", o.fp64 ? "fp64" : "fp32"}};
}

FoldLearner::FoldLearner(const GraphClassifierOptions& o, const PreparedData& data, int64_t fold,
                         std::vector<int64_t> train, std::vector<int64_t> test, std::vector<double> previous,
                         std::shared_ptr<spdlog::logger> log, const Comm& comm, const std::string& resume)
    : options_(o),
      data_(data),
      fold_(fold),
      train_(std::move(train)),
      test_(std::move(test)),
      previous_(std::move(previous)),
      log_(std::move(log)),
      comm_(comm) {
  if (train_.empty()) throw Error(cat("fold ", fold, ": no training graphs"));
  at::manual_seed(mix_seed({static_cast<uint64_t>(o.seed), static_cast<uint64_t>(fold), 1}));
  model_ = make_model(o, data);
  dtype_ = o.fp64 ? at::kDouble : at::kFloat;
  model_->to(dtype_);
  steps_per_epoch_ = (static_cast<int64_t>(train_.size()) + o.batch - 1) / o.batch;
  opt_ =
      std::make_unique<FusedAdamW>(model_->parameters(), torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  sched_ = std::make_unique<torch::optim::StepLR>(*opt_, static_cast<unsigned>(o.lr_step), o.lr_gamma);
  if (!resume.empty()) with_key("train.resume", [&] { load(resume); });
}

double FoldLearner::step() {
  const int64_t epoch = step_ / steps_per_epoch_, pos = step_ % steps_per_epoch_;
  // The epoch's order of the training graphs: a shuffle seeded by (seed, fold, epoch).
  std::vector<int64_t> order = train_;
  std::mt19937_64 rng(
      mix_seed({static_cast<uint64_t>(options_.seed), static_cast<uint64_t>(fold_), static_cast<uint64_t>(epoch), 2}));
  for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i)
    std::swap(order[i], order[io::bounded(rng(), static_cast<uint64_t>(i + 1))]);
  const int64_t begin = pos * options_.batch;
  const int64_t end = std::min<int64_t>(begin + options_.batch, static_cast<int64_t>(order.size()));
  const int64_t total = end - begin;
  // Dropout masks for the whole batch, then this rank's rows.
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(
      mix_seed({static_cast<uint64_t>(options_.seed), static_cast<uint64_t>(fold_), static_cast<uint64_t>(step_), 3}));
  const double keep = 1.0 - options_.dropout;
  std::vector<at::Tensor> masks;
  for (int64_t w : {gnn::GraphClassifier::kHead0, gnn::GraphClassifier::kHead1})
    masks.push_back((at::bernoulli(at::full({total, w}, keep, at::kDouble), gen) / keep).to(dtype_));
  std::vector<int64_t> mine, rows;
  for (int64_t b = 0; b < total; ++b)
    if (b % comm_.size() == comm_.rank()) {
      mine.push_back(order[begin + b]);
      rows.push_back(b);
    }
  model_->train();
  opt_->zero_grad();
  double loss_sum = 0;
  if (!mine.empty()) {
    const gnn::GraphBatch batch = make_batch(data_, mine, dtype_);
    const at::Tensor idx = at::tensor(rows, at::kLong);
    std::vector<at::Tensor> local_masks;
    for (const auto& m : masks) local_masks.push_back(m.index_select(0, idx));
    std::vector<int64_t> labels;
    for (int64_t i : mine) labels.push_back(data_.graphs[i].label);
    const at::Tensor logits = model_->forward(batch, local_masks);
    const at::Tensor loss =
        at::cross_entropy_loss(logits, at::tensor(labels, at::kLong), {}, at::Reduction::Sum) / total;
    loss.backward();
    loss_sum = loss.item<double>();
  }
  allreduce_gradients(comm_, model_->parameters());
  comm_.allreduce_sum(&loss_sum, 1);
  opt_->step();
  ++step_;
  epoch_loss_ += loss_sum;
  if (step_ % steps_per_epoch_ == 0) sched_->step();
  return loss_sum;
}

std::pair<double, double> FoldLearner::evaluate(const std::vector<int64_t>& graphs) {
  model_->eval();
  double sums[2] = {0, 0};  // correct, cross-entropy
  std::vector<int64_t> mine;
  for (size_t b = 0; b < graphs.size(); ++b)
    if (static_cast<int>(b % comm_.size()) == comm_.rank()) mine.push_back(graphs[b]);
  for (size_t start = 0; start < mine.size(); start += options_.batch) {
    const std::vector<int64_t> part(mine.begin() + start, mine.begin() + std::min(mine.size(), start + options_.batch));
    at::NoGradGuard no_grad;
    const at::Tensor logits = model_->forward(make_batch(data_, part, dtype_), {}).to(at::kDouble);
    std::vector<int64_t> labels;
    for (int64_t i : part) labels.push_back(data_.graphs[i].label);
    const at::Tensor y = at::tensor(labels, at::kLong);
    sums[1] += at::cross_entropy_loss(logits, y, {}, at::Reduction::Sum).item<double>();
    sums[0] += predicted_classes(logits).eq(y).sum().item<double>();
  }
  comm_.allreduce_sum(sums, 2);
  model_->train();
  const double n = static_cast<double>(std::max<size_t>(graphs.size(), 1));
  return {sums[0] / n, sums[1] / n};
}

std::vector<Metric> FoldLearner::validate() {
  const double train_loss = epoch_loss_ / steps_per_epoch_;
  epoch_loss_ = 0;
  const auto [test_acc, test_loss] = evaluate(test_);
  const auto [train_acc, unused] = evaluate(train_);
  (void)unused;
  test_acc_.push_back(test_acc);
  const int64_t epoch = step_ / steps_per_epoch_;
  core::log_info(log_.get(), cat("fold ", fold_, " epoch ", epoch, ": train loss ", core::sci(train_loss),
                                 ", train acc ", core::sig3(train_acc), ", test acc ", core::sig3(test_acc)));
  if (!comm_.root()) return {};  // the loop writes what rank 0 returns
  return {{"epoch", static_cast<double>(epoch)},
          {"train_loss", train_loss},
          {"train_acc", train_acc},
          {"test_loss", test_loss},
          {"test_acc", test_acc}};
}

double FoldLearner::fold_accuracy() const {
  if (test_acc_.empty()) return 0;
  const size_t n = std::min<size_t>(test_acc_.size(), static_cast<size_t>(options_.last_epochs));
  double s = 0;
  for (size_t i = test_acc_.size() - n; i < test_acc_.size(); ++i) s += test_acc_[i];
  return s / static_cast<double>(n);
}

void FoldLearner::save(const std::string& path) const {
  Checkpoint c;
  for (const auto& p : model_->named_parameters()) c.tensors["model." + p.key()] = p.value().detach().clone();
  pack_adamw_state(c, model_->named_parameters(), *opt_);
  c.tensors["fold.test_acc"] = at::tensor(test_acc_.empty() ? std::vector<double>{-1} : test_acc_, at::kDouble);
  c.tensors["fold.previous"] = at::tensor(previous_.empty() ? std::vector<double>{-1} : previous_, at::kDouble);
  c.tensors["fold.epoch_loss"] = at::tensor({epoch_loss_}, at::kDouble);
  c.attributes["family"] = options_.family;
  c.attributes["step"] = std::to_string(step_);
  c.attributes["fold"] = std::to_string(fold_);
  c.attributes["test_history"] = std::to_string(test_acc_.size());
  c.attributes["previous_folds"] = std::to_string(previous_.size());
  put_setup(c, fold_setup(options_, data_));
  put_deck(c, options_.deck_yaml, options_.deck_dir);
  run_on_root(comm_, [&] { save_checkpoint(path, c); });
}

void FoldLearner::load(const std::string& path) {
  Checkpoint c = load_checkpoint(path);
  if (c.attributes["family"] != options_.family)
    throw Error(cat(path, ": a checkpoint of family '", c.attributes["family"], "', not '", options_.family, "'"),
                "train.resume");
  if (attribute_count(c.attributes, path, "fold") != fold_)
    throw Error(cat(path, ": a checkpoint of fold ", c.attributes["fold"], ", expected fold ", fold_), "train.resume");
  if (const auto d = setup_difference(c, fold_setup(options_, data_))) {
    // The graphs themselves: the deck may be the same, the dataset's files changed since.
    if (d->key == "spen.data.graphs")
      throw Error(cat(path, ": fold ", fold_, " was trained on ", d->stored, "; the dataset now gives ", d->now,
                      " (it changed since: its folds would differ)"),
                  "train.resume");
    throw Error(cat(path, ": fold ", fold_, " was trained with ", d->key, " = ", d->stored, ", the deck gives ", d->now,
                    "; a fold resumes only with the model, split and training it was started with"),
                d->key == "spen.data" ? "train.resume" : d->key);
  }
  auto tensor = [&](const std::string& name) {
    auto it = c.tensors.find(name);
    if (it == c.tensors.end())
      throw Error(cat(path, ": no tensor '", name, "' (not a checkpoint of this model)"), "train.resume");
    return it->second;
  };
  load_parameters(c, path, *model_, "train.resume");
  unpack_adamw_state(c, path, model_->named_parameters(), *opt_);
  auto doubles = [&](const std::string& name, int64_t n) {
    const at::Tensor t = tensor(name).to(at::kDouble).contiguous();
    return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + n);
  };
  test_acc_ = doubles("fold.test_acc", attribute_count(c.attributes, path, "test_history"));
  previous_ = doubles("fold.previous", attribute_count(c.attributes, path, "previous_folds"));
  epoch_loss_ = doubles("fold.epoch_loss", 1)[0];
  step_ = attribute_count(c.attributes, path, "step");
  // StepLR from the start, one step per completed epoch: the learning rate of a continuous run.
  for (int64_t e = 0; e < step_ / steps_per_epoch_; ++e) sched_->step();
  core::log_info(log_.get(), cat("resumed fold ", fold_, " from ", path, " at step ", step_));
}

}  // namespace tessera::train::spen
