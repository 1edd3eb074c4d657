#include "train/gnnpipe/learner.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "core/regular_file.hpp"
#include "core/same_on_ranks.hpp"
#include "io/csbm.hpp"
#include "io/fingerprint.hpp"
#include "io/planetoid.hpp"
#include "train/checkpoint.hpp"

namespace tessera::train::gnnpipe {

// The graph a model is trained on, for a resume's check: its name and sizes and, for a generated
// one, the generator's settings. (A resume onto another graph of the same shape ran without a
// word and carried the first graph's best validation record.)
std::string data_identity(const GnnPipeOptions& o, const io::NodeDataset& d) {
  std::string id = cat(d.name, ": ", d.num_nodes, " nodes, ", d.graph.num_edges(), " edges, ", d.num_features,
                       " features, ", d.num_classes, " classes");
  if (o.source == "csbm")
    id +=
        cat(" (degree ", o.csbm.average_degree, ", homophily ", o.csbm.homophily, ", signal ", o.csbm.signal, ", seed ",
            o.csbm.seed, ", train ", o.csbm.train_per_class, "/class, val ", o.csbm.val, ", test ", o.csbm.test, ")");
  return id;
}

io::NodeDataset load_node_data(const GnnPipeOptions& o) {
  io::NodeDataset data;
  if (o.source == "planetoid") {
    // Located at the deck's key (checked here, on every rank, not when the deck is read).
    with_key("gnnpipe.data.file", [&] {
      core::require_regular_file(o.file, "an HDF5 file in the Planetoid layout");
      data = io::read_planetoid(o.file);
    });
  } else {
    data = io::make_csbm(o.csbm);
  }
  if (o.normalize_features && o.source == "planetoid") io::normalize_rows(data);
  return data;
}

namespace {

// The model a checkpoint's weights belong to, by deck key. (A resume with fewer layers loaded the
// first ones and dropped the rest without a word; another convolution failed on a tensor's name,
// naming no key.)
RunSetup model_setup(const gnn::DeepGcnConfig& m) {
  const bool gcnii = m.kind == gnn::DeepGcnKind::Gcnii;
  return {{"gnnpipe.model.conv", gnn::deep_gcn_name(m.kind)},
          {"gnnpipe.model.layers", cat(m.layers)},
          {"gnnpipe.model.hidden", cat(m.hidden)},
          {"gnnpipe.model.alpha", gcnii ? cat(m.alpha) : "-"},
          {"gnnpipe.model.lambda", gcnii ? cat(m.lambda) : "-"}};
}

}  // namespace

GnnPipeLearner::GnnPipeLearner(const GnnPipeOptions& o, const Comm& comm, std::shared_ptr<spdlog::logger> log)
    : options_(o), comm_(comm), log_(std::move(log)) {
  if (o.threads > 0) at::set_num_threads(o.threads);
  io::NodeDataset data;
  // Every rank reads the graph itself: a file one rank cannot read is every rank's error, not one
  // rank's abort while the others wait in the engine's first collective.
  run_on_every_rank(comm_, [&] {
    data = load_node_data(o);
    data_identity_ = data_identity(o, data);
    data_fingerprint_ = io::node_dataset_fingerprint(data);
    // Each chunk needs nodes (100,000 chunks of Cora's 2,708 nodes took 100 s an epoch, not 0.1).
    if (o.engine.chunks > data.num_nodes)
      throw Error(cat("more chunks (", o.engine.chunks, ") than nodes in ", data.name, " (", data.num_nodes, ")"),
                  "gnnpipe.parallel.chunks");
  });
  // Every rank reads the graph from its own path: a node-local copy that differs would train two
  // graphs as one (the mesh simulators compare their data the same way).
  core::require_same_data(comm_, data_fingerprint_, "graphs",
                          o.source == "planetoid" ? "gnnpipe.data.file" : "gnnpipe.data.source",
                          o.source != "planetoid");
  EngineOptions e = o.engine;
  e.model.in = data.num_features;
  e.model.classes = data.num_classes;
  e.stages = stages_for(o, comm.size());
  engine_ = std::make_unique<Engine>(data, e, comm);
  core::log_info(log_.get(), cat("gnnpipe: ", data.name, " (", data.num_nodes, " nodes, ", data.graph.num_edges(),
                                 " edges), ", gnn::deep_gcn_name(e.model.kind), " x ", e.model.layers, ", mode ",
                                 o.mode, ": ", core::counted(engine_->parts(), "part", "parts"), " x ",
                                 core::counted(engine_->stages(), "stage", "stages"), ", ",
                                 core::counted(e.chunks, "chunk", "chunks")));
  // A generated graph's edges are drawn with repeats, which merge: near a class's size the degree
  // reached falls well short of the one asked for, which is said (it was not).
  if (o.source == "csbm") {
    const double reached = static_cast<double>(data.graph.num_edges()) / static_cast<double>(data.num_nodes);
    if (reached < 0.9 * o.csbm.average_degree)
      core::log_warn(log_.get(), cat("gnnpipe.data.csbm.degree = ", o.csbm.average_degree, ": the graph has ",
                                     core::sci(reached), " edges per node (repeated draws merge; use more nodes)"));
  }
  if (!o.resume.empty()) {
    Checkpoint c;
    run_on_every_rank(comm_, [&] { c = with_key("train.resume", [&] { return load_checkpoint(o.resume); }); });
    if (c.attributes["family"] != "gnnpipe")
      throw Error(cat(o.resume, ": a checkpoint of family '", c.attributes["family"], "', not gnnpipe"),
                  "train.resume");
    if (const auto it = c.attributes.find("data"); it != c.attributes.end() && it->second != data_identity_)
      throw Error(cat(o.resume, ": was trained on ", it->second, "; the deck gives ", data_identity_,
                      " (a checkpoint resumes only on the graph it was trained on)"),
                  "train.resume");
    // The contents too, where the checkpoint has them (written since 2026-12-07): same name and
    // sizes, other features, labels, edges or masks.
    if (const auto it = c.attributes.find("data_fingerprint");
        it != c.attributes.end() && it->second != data_fingerprint_)
      throw Error(cat(o.resume, ": was trained on ", data_identity_, " with contents ", it->second,
                      "; the deck's graph of that name and size holds others (", data_fingerprint_,
                      ": its features, labels, edges or masks changed); a checkpoint resumes only on the graph it was "
                      "trained on"),
                  "train.resume");
    if (const auto d = setup_difference(c, model_setup(o.engine.model)))
      throw Error(cat(o.resume, ": this model was trained with ", d->key, " = ", d->stored, ", the deck gives ", d->now,
                      "; a resume continues the same model"),
                  d->key);
    engine_->load(c, o.resume);
    if (c.tensors.count("gnnpipe.best")) {
      const at::Tensor b = c.tensors["gnnpipe.best"].to(at::kDouble);
      best_val_loss_ = b[0].item<double>();
      best_val_acc_ = b[1].item<double>();
      test_at_best_ = b[2].item<double>();
      if (b.numel() > 3) best_epoch_ = static_cast<int64_t>(b[3].item<double>());
    }
    for (const auto& [name, t] : c.tensors)
      if (name.rfind(kSelected, 0) == 0) selected_[name.substr(std::string(kSelected).size())] = t;
    core::log_info(log_.get(), cat("resumed from ", o.resume, " at epoch ", engine_->epochs_done()));
  }
}

double GnnPipeLearner::step() {
  const auto t0 = std::chrono::steady_clock::now();
  const double loss = engine_->epoch();
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++timed_epochs_;
  return loss;
}

int64_t GnnPipeLearner::steps_done() const { return engine_->epochs_done(); }

std::vector<Metric> GnnPipeLearner::validate() {
  const Evaluation e = engine_->evaluate();
  if (e.val_loss < best_val_loss_) {
    best_val_loss_ = e.val_loss;
    best_val_acc_ = e.val_acc;
    test_at_best_ = e.test_acc;
    best_epoch_ = engine_->epochs_done();
    selected_ = engine_->parameters();  // collective, as validation: every rank is here
  }
  // Bytes of the last epoch, per rank (gathered by a sum of one slot per rank).
  const int W = comm_.size();
  std::vector<int64_t> b(3 * W + 3, 0);
  const CommBytes& mine = engine_->last_bytes();
  b[comm_.rank()] = mine.total();
  b[W + comm_.rank()] = mine.halo + mine.pipeline;
  b[2 * W + comm_.rank()] = mine.allreduce;
  comm_.allreduce_sum(b.data(), static_cast<int64_t>(b.size()));
  double epoch_s = timed_epochs_ ? seconds_ / static_cast<double>(timed_epochs_) : 0;
  comm_.allreduce_max(&epoch_s, 1);
  seconds_ = 0;
  timed_epochs_ = 0;
  std::vector<Metric> m = {{"train_acc", e.train_acc},
                           {"val_acc", e.val_acc},
                           {"val_loss", e.val_loss},
                           {"test_acc", e.test_acc},
                           {"best_val_acc", best_val_acc_},
                           {"test_at_best_val", test_at_best_},
                           {"best_epoch", static_cast<double>(best_epoch_)},  // the selected model's (selected.pt)
                           {"epoch_s", epoch_s}};
  int64_t total = 0;
  for (int r = 0; r < W; ++r) {
    m.emplace_back(cat("bytes_rank", r), static_cast<double>(b[r]));
    total += b[r];
  }
  m.emplace_back("bytes_total", static_cast<double>(total));
  if (!comm_.root()) return {};  // the loop writes what rank 0 returns
  core::log_info(log_.get(), cat("epoch ", engine_->epochs_done(), ": val acc ", core::sig3(e.val_acc), ", test acc ",
                                 core::sig3(e.test_acc), ", test at best val ", core::sig3(test_at_best_), ", ",
                                 core::sig3(epoch_s), " s/epoch, ", total, " bytes/epoch (all ranks)"));
  return m;
}

std::string GnnPipeLearner::stop_reason() const {
  // Evaluation is collective and its losses are global, so every rank decides alike.
  const int64_t since = engine_->epochs_done() - best_epoch_;
  if (options_.patience == 0 || since < options_.patience) return {};
  return cat("the validation loss has not fallen for ", since, " epochs (gnnpipe.optim.patience ", options_.patience,
             "); lowest at epoch ", best_epoch_, ", test accuracy there ", core::sig3(test_at_best_));
}

void GnnPipeLearner::save(const std::string& path) const {
  Checkpoint c = engine_->state();
  c.tensors["gnnpipe.best"] =
      at::tensor({best_val_loss_, best_val_acc_, test_at_best_, static_cast<double>(best_epoch_)}, at::kDouble);
  c.attributes["family"] = "gnnpipe";
  c.attributes["step"] = std::to_string(engine_->epochs_done());
  c.attributes["data"] = data_identity_;
  c.attributes["data_fingerprint"] = data_fingerprint_;
  put_setup(c, model_setup(options_.engine.model));
  put_deck(c, options_.deck_yaml, options_.deck_dir);
  for (const auto& [name, t] : selected_) c.tensors[kSelected + name] = t;
  // checkpoint.pt holds the last epoch's weights (what a resume continues); selected.pt those of
  // the lowest validation loss, whose test accuracy is test_at_best_val (evaluating the last
  // epoch's, up to patience epochs later, did not give it).
  const std::string selected = std::filesystem::path(path).replace_filename("selected.pt").string();
  run_on_root(comm_, [&] {
    save_checkpoint(path, c);
    // No selection yet (before the first validation, or resumed from a checkpoint that held none):
    // an earlier run's selected.pt must not stand beside this checkpoint.
    std::error_code gone;
    if (selected_.empty())
      std::filesystem::remove(selected, gone);
    else
      save_state_dict(selected, selected_);
  });
  if (!selected_.empty())
    core::log_info(log_.get(), cat("wrote ", selected, " (the weights of epoch ", best_epoch_,
                                   ", the lowest validation loss so far)"));
}

}  // namespace tessera::train::gnnpipe
