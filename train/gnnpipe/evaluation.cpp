#include "train/gnnpipe/evaluation.hpp"

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/exact_text.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "io/deck.hpp"
#include "io/fingerprint.hpp"
#include "io/schema.hpp"
#include "train/checkpoint.hpp"
#include "train/gnnpipe/engine.hpp"
#include "train/gnnpipe/family.hpp"
#include "train/gnnpipe/learner.hpp"
#include "train/gnnpipe/options.hpp"

namespace tessera::train::gnnpipe {

void add_node_evaluation_keys(io::Schema& s) {
  using io::KeyType;
  s.section("nodes", "GNNPipe node classifiers (model.family gnnpipe): which weights a checkpoint's evaluation uses");
  s.add("nodes.weights", KeyType::Choice, "selected",
        "selected: the weights of the lowest validation loss (selected.pt), whose test accuracy training reports "
        "as test_at_best_val; last: the last epoch's (checkpoint.pt)")
      .choices = {"selected", "last"};
}

NodeEvaluationOptions read_node_evaluation_options(const io::Deck& d) {
  NodeEvaluationOptions o;
  o.checkpoint = d.resolve_path(d.get_string("rollout.checkpoint"));
  o.weights = d.get_string("nodes.weights");
  o.device = read_device(d, "rollout.device");
  o.steps_given = d.given("rollout.steps");
  o.output_dir = d.get_output_dir("output.dir");
  o.name = d.get_file_name("output.name");
  return o;
}

namespace {

// `c` with the selected model's parameters in the place of the last epoch's, which Engine::load reads.
Checkpoint with_selected_weights(Checkpoint c, const std::string& path) {
  std::vector<std::string> selected;
  for (const auto& [name, t] : c.tensors)
    if (name.rfind(kSelected, 0) == 0) selected.push_back(name);
  if (selected.empty())
    throw Error(cat(path,
                    ": holds no selected model (it was written before the first validation, or by a version "
                    "that did not store one): evaluate its last epoch's weights with nodes.weights: last"),
                "nodes.weights");
  for (const std::string& name : selected)
    c.tensors["param." + name.substr(std::string(kSelected).size())] = c.tensors.at(name);
  return c;
}

}  // namespace

NodeEvaluation run_node_evaluation(const NodeEvaluationOptions& e, const Comm& comm,
                                   const std::shared_ptr<spdlog::logger>& log) {
  start_root_evaluation("the gnnpipe family runs", e.device, e.steps_given,
                        "a gnnpipe checkpoint classifies each node once",
                        "rank 0 classifies the whole graph in one process", comm, log.get());
  NodeEvaluation result;
  run_on_root(comm, [&] {
    const std::string& path = e.checkpoint;
    const Checkpoint c = with_key("rollout.checkpoint", [&] { return load_checkpoint(path); });
    const GnnPipeOptions o =
        with_key("rollout.checkpoint", [&] { return read_options(stored_training_deck(c, path, {gnnpipe_family()})); });
    const bool file = o.source == "planetoid";
    io::NodeDataset data;
    try {
      data = load_node_data(o);
    } catch (const std::exception& err) {
      throw Error(cat(path, ": its graph cannot be ", file ? "read" : "generated",
                      file ? " (it must be where training read it, gnnpipe.data.file of the deck stored in the "
                             "checkpoint): "
                           : ": ",
                      err.what()),
                  "rollout.checkpoint");
    }
    if (const auto it = c.attributes.find("data"); it != c.attributes.end())
      if (const std::string now = data_identity(o, data); it->second != now)
        throw Error(cat(path, ": was trained on ", it->second, "; its graph now gives ", now,
                        file ? " (the file changed since)" : " (the generator changed since)"),
                    "rollout.checkpoint");
    if (const auto it = c.attributes.find("data_fingerprint"); it != c.attributes.end())
      if (const std::string now = io::node_dataset_fingerprint(data); it->second != now)
        throw Error(
            cat(path, ": was trained on a graph with contents ", it->second, "; ", data.name, " now holds ", now,
                file ? " (the file's features, labels, edges or masks changed since)"
                     : " (the generator changed since)"),
            "rollout.checkpoint");
    // Exact full-graph inference needs no pipeline: one process, one stage, one chunk.
    EngineOptions eo = o.engine;
    eo.model.in = data.num_features;
    eo.model.classes = data.num_classes;
    eo.stages = 1;
    eo.chunks = 1;
    eo.layout_parts = 0;
    eo.warmup_epochs = 0;
    Engine engine(data, eo, Comm::self());
    const bool selected = e.weights == "selected";
    try {
      engine.load(selected ? with_selected_weights(c, path) : c, path);
    } catch (const Error& err) {
      throw Error(err.what(), err.key() == "nodes.weights" ? "nodes.weights" : "rollout.checkpoint");
    }
    // One full-graph inference gives the CSV and the accuracies, counted as Engine::evaluate counts
    // them (the largest logit; the mean cross-entropy over the validation nodes).
    const at::Tensor logits = engine.predict();
    const at::Tensor predicted = logits.argmax(1);
    const at::Tensor log_p = at::log_softmax(logits, 1);
    std::string csv = "node,label,split,predicted,correct";
    for (int64_t k = 0; k < data.num_classes; ++k) csv += cat(",logit_", k);
    csv += "\n";
    const auto p_of = predicted.accessor<int64_t, 1>();
    const auto lp = log_p.accessor<double, 2>();
    const at::Tensor logits_c = logits.contiguous();
    const double* z = logits_c.data_ptr<double>();
    double right[3] = {0, 0, 0}, count[3] = {0, 0, 0}, val_nll = 0;
    for (int64_t v = 0; v < data.num_nodes; ++v) {
      const int64_t p = p_of[v];
      const int split = data.train_mask[v] ? 0 : data.val_mask[v] ? 1 : data.test_mask[v] ? 2 : -1;
      if (split >= 0) {
        right[split] += p == data.y[v];
        count[split] += 1;
      }
      if (split == 1) val_nll -= lp[v][data.y[v]];
      csv += cat(v, ",", data.y[v], ",",
                 split == 0   ? "train"
                 : split == 1 ? "val"
                 : split == 2 ? "test"
                              : "-",
                 ",", p, ",", p == data.y[v] ? 1 : 0);
      for (int64_t k = 0; k < data.num_classes; ++k) csv += cat(",", core::exact_text(z[v * data.num_classes + k]));
      csv += "\n";
    }
    NodeEvaluation ev;
    ev.train_acc = count[0] ? right[0] / count[0] : 0;
    ev.val_acc = count[1] ? right[1] / count[1] : 0;
    ev.test_acc = count[2] ? right[2] / count[2] : 0;
    ev.val_loss = count[1] ? val_nll / count[1] : 0;
    const std::string written = cat(e.output_dir, "/", e.name, "_predictions.csv");
    core::write_text_atomic(written, csv);
    // What training reported for the same weights: the selected model's validation and test accuracy.
    std::string trained;
    if (const auto best = c.tensors.find("gnnpipe.best");
        selected && best != c.tensors.end() && best->second.numel() >= 4) {
      const at::Tensor b = best->second.to(at::kDouble).reshape(-1);
      trained = cat(" (the training's at epoch ", static_cast<int64_t>(b[3].item<double>()), ": val ",
                    core::sig3(b[1].item<double>()), ", test ", core::sig3(b[2].item<double>()), ")");
    }
    core::log_info(log.get(),
                   cat("gnnpipe ",
                       c.attributes.count("step") ? cat("(", path, ", epoch ", c.attributes.at("step"), "; ")
                                                  : cat("(", path, "; "),
                       selected ? "the weights of its lowest validation loss" : "its last epoch's weights", ") on ",
                       data.name, ": accuracy train ", core::sig3(ev.train_acc), ", val ", core::sig3(ev.val_acc),
                       ", test ", core::sig3(ev.test_acc), trained, "; wrote ", written));
    result = ev;
  });
  // Rank 0's, on every rank.
  double figures[4] = {result.train_acc, result.val_acc, result.test_acc, result.val_loss};
  comm.allreduce_sum(figures, 4);
  return {figures[0], figures[1], figures[2], figures[3]};
}

}  // namespace tessera::train::gnnpipe
