#include "train/spen/evaluation.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/exact_text.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "io/deck.hpp"
#include "io/schema.hpp"
#include "train/checkpoint.hpp"
#include "train/spen/data.hpp"
#include "train/spen/family.hpp"
#include "train/spen/learner.hpp"
#include "train/spen/options.hpp"

namespace tessera::train::spen {

void add_graph_evaluation_keys(io::Schema& s) {
  using io::KeyType;
  s.section("graphs", "graph classifiers (model.family spen, ign, gin): which graphs a fold checkpoint classifies");
  io::Schema::input_path(s.add("graphs.tu_dir", KeyType::String, "",
                               "a TU dataset folder to classify, with the training data's node, edge and class "
                               "labels; empty: the checkpoint's training data"));
  s.add("graphs.which", KeyType::Choice, "test",
        "of the training data: the checkpoint fold's test graphs (test), or every graph (all)")
      .choices = {"test", "all"};
}

GraphEvaluationOptions read_graph_evaluation_options(const io::Deck& d) {
  GraphEvaluationOptions o;
  o.checkpoint = d.resolve_path(d.get_string("rollout.checkpoint"));
  if (d.has("graphs.tu_dir")) o.tu_dir = d.resolve_path(d.get_string("graphs.tu_dir"));
  o.which = d.get_string("graphs.which");
  o.steps_given = d.given("rollout.steps");
  o.device = read_device(d, "rollout.device");
  o.output_dir = d.get_output_dir("output.dir");
  o.name = d.get_file_name("output.name");
  return o;
}

namespace {

// Another dataset's classes and labels renumbered as the training data's, by the files' values:
// the model's one-hot inputs and its classes are the training data's dense ids. A value the
// training data never had is refused (the model has no input or output for it); a subset (some
// of MUTAG's graphs, without its rarest atoms) is fine.
void align_labels(const io::TuDataset& train, io::TuDataset& other, bool constant_features, const std::string& dir) {
  auto join = [](const auto& v) {
    std::string s;
    for (const auto& x : v) s += cat(s.empty() ? "" : ", ", x);
    return s;
  };
  // Position in `known` of each of `values`, or an error naming the first unknown one.
  auto ids = [&](const auto& values, const auto& known, const char* what) {
    std::vector<int64_t> id;
    for (const auto& v : values) {
      const auto it = std::find(known.begin(), known.end(), v);
      if (it == known.end())
        throw Error(cat(dir, ": ", what, " ", v, " is not among the training data's (", train.name, ": ", join(known),
                        "): the model has no ",
                        std::string(what).find("class") != std::string::npos ? "output" : "input", " for it"));
      id.push_back(static_cast<int64_t>(it - known.begin()));
    }
    return id;
  };
  const std::vector<int64_t> class_id = ids(other.class_names, train.class_names, "graph class");
  for (auto& g : other.graphs) g.label = class_id[g.label];
  other.class_names = train.class_names;
  if (constant_features) return;
  // Labels the training data had none of are not read (its model has constant features there).
  if (train.num_node_labels > 0 && other.num_node_labels == 0)
    throw Error(cat(dir, ": has no node labels; the model was trained on ", train.name, "'s (its input features)"));
  if (train.num_node_labels > 0) {
    const std::vector<int64_t> node_id = ids(other.node_label_values, train.node_label_values, "node label");
    for (auto& g : other.graphs)
      for (auto& l : g.node_labels) l = node_id[l];
  }
  other.num_node_labels = train.num_node_labels;
  other.node_label_values = train.node_label_values;
  if (train.num_edge_labels > 0 && other.num_edge_labels == 0)
    throw Error(cat(dir, ": has no edge labels; the model was trained on ", train.name, "'s (its input features)"));
  if (train.num_edge_labels > 0) {
    const std::vector<int64_t> edge_id = ids(other.edge_label_values, train.edge_label_values, "edge label");
    for (auto& g : other.graphs)
      for (auto& [uv, l] : g.edge_labels) l = edge_id[l];
  }
  other.num_edge_labels = train.num_edge_labels;
  other.edge_label_values = train.edge_label_values;
}

}  // namespace

double run_graph_evaluation(const GraphEvaluationOptions& e, const Comm& comm,
                            const std::shared_ptr<spdlog::logger>& log) {
  start_root_evaluation("the spen, ign and gin families run", e.device, e.steps_given,
                        "a graph classifier classifies each graph once",
                        "rank 0 classifies the graphs; they are few and small", comm, log.get());
  if (!e.tu_dir.empty() && e.which != "test")  // its default, which example decks spell out
    core::log_warn(log.get(),
                   "graphs.which is not read with graphs.tu_dir (every graph of that dataset is "
                   "classified): it has no effect");
  double accuracy = 0;
  run_on_root(comm, [&] {
    const std::string& path = e.checkpoint;
    Checkpoint c = with_key("rollout.checkpoint", [&] { return load_checkpoint(path); });
    const int64_t fold = attribute_count(c.attributes, path, "fold");
    const GraphClassifierOptions o = with_key("rollout.checkpoint", [&] {
      return read_options(stored_training_deck(c, path, {spen_family(), ign_family(), gin_family()}), false);
    });
    if (fold >= o.folds)
      throw Error(cat(path, ": a checkpoint of fold ", fold, " of a ", o.folds,
                      "-fold split (spen.data.folds of its stored deck): the checkpoint is damaged"),
                  "rollout.checkpoint");
    // The training data sets the model's inputs and its subgraph sizes with their own weights.
    io::TuDataset train_set;
    try {
      train_set = load_dataset(o);
    } catch (const Error& err) {
      throw Error(cat(path, ": its training data cannot be read (the dataset must be where training read it, ",
                      "spen.data.tu_dir of the deck stored in the checkpoint): ", err.what()),
                  "rollout.checkpoint");
    }
    PreparedData data = prepare(train_set, o);
    // The same graphs in the same order: another version of the dataset deals other folds, whose
    // "test graphs" would hold graphs the model was trained on.
    if (const auto d = setup_difference(c, fold_setup(o, data)))
      throw Error(cat(path, ": was trained with ", d->key, " = ", d->stored, "; its training data now gives ", d->now,
                      " (the dataset changed since: its folds would differ)"),
                  "rollout.checkpoint");
    // Every graph of another dataset or of the training data (one fold: trained and tested on
    // every graph), or the fold's test graphs.
    const bool every = !e.tu_dir.empty() || e.which == "all" || o.folds == 1;
    std::string which = "every graph of its training data";
    if (!e.tu_dir.empty()) {
      const io::TuDataset other = with_key("graphs.tu_dir", [&] {
        io::TuDataset t = io::read_tu_dataset(e.tu_dir);
        align_labels(train_set, t, o.constant_features, e.tu_dir);
        return t;
      });
      const std::vector<int64_t> own_sizes = data.own_sizes;
      data = prepare(other, o);    // its class names are the training data's (align_labels)
      data.own_sizes = own_sizes;  // the model's weights per subgraph size are the training data's
      which = cat("every graph of ", e.tu_dir);
    }
    std::vector<int64_t> graphs(every ? data.graphs.size() : 0);
    std::iota(graphs.begin(), graphs.end(), int64_t(0));
    if (!every) {
      std::vector<int64_t> labels;
      for (const auto& g : data.graphs) labels.push_back(g.label);
      which = cat("fold ", fold, "'s test graphs (", o.folds, "-fold split, seed ", o.seed, ")");
      graphs = stratified_folds(labels, o.folds, static_cast<uint64_t>(o.seed)).at(fold);
    }
    const std::shared_ptr<gnn::GraphClassifier> model = make_model(o, data);
    const at::ScalarType dtype = o.fp64 ? at::kDouble : at::kFloat;
    model->to(dtype);
    load_parameters(c, path, *model, "rollout.checkpoint");
    model->eval();
    // Rows: graph (as numbered in the TU files, from 1), label, predicted, correct, one logit per class.
    const auto& classes = train_set.class_names;
    std::string csv = "graph,label,predicted,correct";
    for (const auto& name : classes) csv += cat(",logit_", name);
    csv += "\n";
    int64_t correct = 0;
    at::NoGradGuard no_grad;
    for (size_t start = 0; start < graphs.size(); start += static_cast<size_t>(o.batch)) {
      const std::vector<int64_t> part(graphs.begin() + start,
                                      graphs.begin() + std::min(graphs.size(), start + static_cast<size_t>(o.batch)));
      const at::Tensor logits = model->forward(make_batch(data, part, dtype), {}).to(at::kDouble).contiguous();
      const at::Tensor predicted = predicted_classes(logits).to(at::kLong).contiguous();
      for (size_t b = 0; b < part.size(); ++b) {
        const int64_t label = data.graphs[part[b]].label, p = predicted[b].item<int64_t>();
        correct += p == label;
        csv += cat(part[b] + 1, ",", classes.at(label), ",", classes.at(p), ",", p == label ? 1 : 0);
        // To the last digit: `predicted` breaks ties within 1e-5 (predicted_classes), the logits show why.
        for (int64_t k = 0; k < logits.size(1); ++k) csv += cat(",", core::exact_text(logits[b][k].item<double>()));
        csv += "\n";
      }
    }
    accuracy = static_cast<double>(correct) / static_cast<double>(graphs.size());
    // The fold's test graphs after a whole epoch: the training scored this model on them too.
    std::string trained;
    if (e.tu_dir.empty() && e.which == "test") {
      const int64_t n = static_cast<int64_t>(data.graphs.size()), tested = static_cast<int64_t>(graphs.size());
      const int64_t per_epoch = ((o.folds == 1 ? n : n - tested) + o.batch - 1) / o.batch;
      const int64_t step = attribute_count(c.attributes, path, "step"),
                    history = attribute_count(c.attributes, path, "test_history");
      const auto scored = c.tensors.find("fold.test_acc");
      if (history > 0 && step % per_epoch == 0 && step / per_epoch == history && scored != c.tensors.end() &&
          scored->second.numel() >= history)
        trained = cat(" (the training's test accuracy after epoch ", history, ": ",
                      core::sig3(scored->second.to(at::kDouble).reshape(-1)[history - 1].item<double>()), ")");
    }
    const std::string file = cat(e.output_dir, "/", e.name, "_predictions.csv");
    core::write_text_atomic(file, csv);
    core::log_info(log.get(), cat(o.family, " fold ", fold, " (", path, ", step ", c.attributes["step"], ") on ", which,
                                  ": ", correct, " of ", core::counted(int64_t(graphs.size()), "graph", "graphs"),
                                  " right, accuracy ", core::sig3(accuracy), trained, "; wrote ", file));
  });
  comm.allreduce_sum(&accuracy, 1);  // rank 0's, on every rank
  return accuracy;
}

}  // namespace tessera::train::spen
