// Evaluation of graph-classifier fold checkpoints (train/spen/evaluation.hpp, tessera-rollout):
// a fold's test graphs scored as its training scored them, rebuilt from the stored deck alone;
// another TU dataset matched to the training data's labels by value. Runs at np = 1, 2, 3 within
// test_spen_train.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/on_root.hpp"
#include "io/deck.hpp"
#include "io/schema.hpp"
#include "io/tu_dataset.hpp"
#include "tests/spen/spen_train_fixtures.hpp"
#include "tests/test_paths.hpp"
#include "train/checkpoint.hpp"
#include "train/spen/cross_validation.hpp"
#include "train/spen/data.hpp"
#include "train/spen/evaluation.hpp"
#include "train/spen/family.hpp"
#include "train/spen/learner.hpp"
#include "train/spen/options.hpp"

using namespace tessera;
namespace fs = std::filesystem;
using tessera::spen_test::out_dir;
using train::spen::FoldLearner;

TEST_CASE("a fold checkpoint classifies its test graphs as its training scored them", "[spen]") {
  const Comm comm;
  // The training deck: stored in the fold checkpoints, from which the evaluation rebuilds the
  // model, the data and the fold's test graphs.
  io::Schema schema("tessera-train");
  train::add_training_keys(schema, {train::spen_family(), train::ign_family(), train::gin_family()});
  const std::string dir = out_dir("evaluate");
  const std::string yaml =
      cat("model: {family: spen}\n"
          "spen:\n"
          "  data: {source: csl, csl_per_class: 3, folds: 3}\n"
          "  model: {hops: 2, channels: 6, layers: 2, rare_threshold: 1}\n"
          "  train: {epochs: 3, batch: 8, lr: 3.0e-3, lr_step: 1, lr_gamma: 0.5, last_epochs: 1, dropout: 0.0}\n"
          "output: {dir: '",
          dir, "', overwrite: true}\n");
  const auto o = train::spen::read_options(io::Deck::parse(yaml, "deck.yaml", schema));
  std::shared_ptr<spdlog::logger> log;  // null: silent
  const auto r = train::spen::cross_validate(o, comm, log);
  REQUIRE(r.fold_accuracy.size() == 3);
  train::spen::GraphEvaluationOptions e;
  e.output_dir = dir + "/evaluated";
  run_on_root(comm, [&] { fs::create_directories(e.output_dir); });
  e.name = "fold1";
  e.checkpoint = dir + "/fold_1/checkpoint.h5";
  // last_epochs 1: the fold's accuracy is its last epoch's on its test graphs, which the
  // checkpoint's model (the last epoch's) must reproduce from the stored deck alone.
  CHECK(train::spen::run_graph_evaluation(e, comm, log) == r.fold_accuracy[1]);
  auto rows = [&](const std::string& name) {
    std::ifstream in(e.output_dir + "/" + name + "_predictions.csv");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  };
  auto fields = [](const std::string& row) {
    std::vector<std::string> f;
    std::stringstream ss(row);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    return f;
  };
  // CSL: 10 classes of 3 graphs, so one graph per class in each fold's test set: the fold's own
  // (its graphs' numbers, from 1), scored by the fold's model, whose logits a FoldLearner resumed
  // from the same checkpoint gives.
  const auto tested = rows("fold1");
  REQUIRE(tested.size() == 11);
  const train::spen::PreparedData data = train::spen::prepare(train::spen::load_dataset(o), o);
  std::vector<int64_t> labels;
  for (const auto& g : data.graphs) labels.push_back(g.label);
  const auto folds = train::spen::stratified_folds(labels, 3, static_cast<uint64_t>(o.seed));
  std::vector<int64_t> train_graphs = folds[0];
  train_graphs.insert(train_graphs.end(), folds[2].begin(), folds[2].end());
  FoldLearner resumed(o, data, 1, train_graphs, folds[1], {}, log, Comm::self(), e.checkpoint);
  resumed.model().eval();
  at::Tensor expected;
  {
    at::NoGradGuard no_grad;
    const std::vector<int64_t> first(folds[1].begin(), folds[1].begin() + 8),
        rest(folds[1].begin() + 8, folds[1].end());
    expected = at::cat({resumed.model().forward(train::spen::make_batch(data, first, at::kDouble), {}),
                        resumed.model().forward(train::spen::make_batch(data, rest, at::kDouble), {})});
  }
  REQUIRE(folds[1].size() == 10);
  for (size_t i = 0; i < 10; ++i) {
    const auto f = fields(tested[i + 1]);
    REQUIRE(f.size() == 14);
    CHECK(std::stoll(f[0]) == folds[1][i] + 1);
    for (int k = 0; k < 10; ++k) CHECK(std::stod(f[4 + k]) == Approx(expected[i][k].item<double>()).epsilon(1e-12));
  }
  // The classes by their names (CSL: the skip length of its cycle graphs).
  CHECK(tested[0] ==
        "graph,label,predicted,correct,logit_skip2,logit_skip3,logit_skip4,logit_skip5,logit_skip6,"
        "logit_skip9,logit_skip11,logit_skip12,logit_skip13,logit_skip16");
  // Every graph: the 30 of the dataset, numbered 1 to 30 as in TU files.
  e.which = "all";
  e.name = "all";
  const double all = train::spen::run_graph_evaluation(e, comm, log);
  const auto every = rows("all");
  REQUIRE(every.size() == 31);
  CHECK(every[1].rfind("1,", 0) == 0);
  CHECK(every[30].rfind("30,", 0) == 0);
  int64_t right = 0;
  for (size_t i = 1; i < every.size(); ++i) {
    // graph,label,predicted,correct,...: the correct column says whether label == predicted.
    const auto f = fields(every[i]);
    REQUIRE(f.size() == 14);
    CHECK(f[3] == (f[1] == f[2] ? "1" : "0"));
    right += f[3] == "1";
  }
  CHECK(all == Approx(double(right) / 30).epsilon(1e-15));
  // A dataset that changed since training (its folds would differ) and a damaged fold number are
  // refused, naming the checkpoint.
  train::Checkpoint c = train::load_checkpoint(e.checkpoint);
  c.attributes["setup.spen.data.graphs"] = "30 graphs, fingerprint 0123456789abcdef";
  const std::string changed = dir + "/changed.h5";
  run_on_root(comm, [&] { train::save_checkpoint(changed, c); });
  e.checkpoint = changed;
  CHECK_THROWS_WITH(train::spen::run_graph_evaluation(e, comm, log),
                    Catch::Contains("changed.h5: was trained with spen.data.graphs = 30 graphs, fingerprint "
                                    "0123456789abcdef; its training data now gives 30 graphs, fingerprint ") &&
                        Catch::Contains("(the dataset changed since: its folds would differ)"));
  // A resume refuses it too, saying that the data changed (not the deck).
  CHECK_THROWS_WITH(FoldLearner(o, data, 1, train_graphs, folds[1], {}, log, Comm::self(), changed),
                    Catch::Contains("changed.h5: fold 1 was trained on 30 graphs, fingerprint 0123456789abcdef; the "
                                    "dataset now gives 30 graphs, fingerprint ") &&
                        Catch::Contains("(it changed since: its folds would differ)"));
  c = train::load_checkpoint(dir + "/fold_1/checkpoint.h5");
  c.attributes["fold"] = "3";
  run_on_root(comm, [&] { train::save_checkpoint(changed, c); });
  CHECK_THROWS_WITH(train::spen::run_graph_evaluation(e, comm, log),
                    Catch::Contains("changed.h5: a checkpoint of fold 3 of a 3-fold split"));
  // Another device is refused at its key.
  e.device = "cuda";
  CHECK_THROWS_WITH(train::spen::run_graph_evaluation(e, comm, log), Catch::Contains("run on the CPU only"));
}

namespace {

// Writes the graphs `keep` (1-based ids, ascending) of the TU dataset in `src` as the dataset
// `name` in the folder `dir`/`name`, its nodes renumbered.
void write_tu_subset(const std::string& src, const std::string& src_name, const std::string& dir,
                     const std::string& name, const std::vector<int64_t>& keep) {
  auto ints = [&](const std::string& what) {
    std::ifstream in(src + "/" + src_name + "_" + what + ".txt");
    std::vector<int64_t> v;
    for (std::string line; std::getline(in, line);) v.push_back(std::stoll(line));
    return v;
  };
  const auto indicator = ints("graph_indicator"), node_labels = ints("node_labels"),
             graph_labels = ints("graph_labels"), edge_labels = ints("edge_labels");
  std::vector<int64_t> new_id(indicator.size() + 1, 0);  // old 1-based node -> new (0: dropped)
  const std::string out = dir + "/" + name + "/" + name + "_";
  fs::create_directories(dir + "/" + name);
  std::ofstream ind(out + "graph_indicator.txt"), nl(out + "node_labels.txt"), gl(out + "graph_labels.txt"),
      a(out + "A.txt"), el(out + "edge_labels.txt");
  int64_t next = 0;
  for (size_t g = 0; g < keep.size(); ++g) {
    gl << graph_labels[keep[g] - 1] << "\n";
    for (size_t v = 0; v < indicator.size(); ++v)
      if (indicator[v] == keep[g]) {
        new_id[v + 1] = ++next;
        ind << g + 1 << "\n";
        nl << node_labels[v] << "\n";
      }
  }
  std::ifstream edges(src + "/" + src_name + "_A.txt");
  size_t i = 0;
  for (std::string line; std::getline(edges, line); ++i) {
    const int64_t u = std::stoll(line.substr(0, line.find(','))), v = std::stoll(line.substr(line.find(',') + 1));
    if (new_id[u] && new_id[v]) {
      a << new_id[u] << ", " << new_id[v] << "\n";
      el << edge_labels[i] << "\n";
    }
  }
}

}  // namespace

TEST_CASE("another TU dataset is classified with the training data's labels, matched by value", "[spen]") {
  const Comm comm;
  io::Schema schema("tessera-train");
  train::add_training_keys(schema, {train::spen_family(), train::ign_family(), train::gin_family()});
  const std::string dir = out_dir("evaluate_other");
  const std::string mutag = tessera::test::source_dir() + "/tests/data/tu/MUTAG";
  const auto o = train::spen::read_options(io::Deck::parse(cat("model: {family: spen}\n"
                                                               "spen:\n"
                                                               "  data: {source: tu, tu_dir: '",
                                                               mutag,
                                                               "', folds: 2, run_folds: 1}\n"
                                                               "  model: {hops: 1, channels: 4, layers: 1}\n"
                                                               "  train: {epochs: 1, batch: 32, last_epochs: 1}\n"
                                                               "output: {dir: '",
                                                               dir, "', overwrite: true}\n"),
                                                           "deck.yaml", schema));
  std::shared_ptr<spdlog::logger> log;
  train::spen::cross_validate(o, comm, log);
  // Four MUTAG graphs of class 1 with bromine, chlorine, iodine or fluorine atoms (node labels 4
  // to 6) but no label 3: read alone, their labels and their class get other dense ids.
  const std::vector<int64_t> keep = {22, 26, 41, 54};
  run_on_root(comm, [&] { write_tu_subset(mutag, "MUTAG", dir, "FOUR", keep); });
  const io::TuDataset four = io::read_tu_dataset(dir + "/FOUR");
  REQUIRE(four.num_node_labels < 7);
  REQUIRE(four.class_names == std::vector<std::string>{"1"});
  train::spen::GraphEvaluationOptions e;
  e.checkpoint = dir + "/fold_0/checkpoint.h5";
  e.output_dir = dir + "/evaluated";
  run_on_root(comm, [&] { fs::create_directories(e.output_dir); });
  e.which = "all";
  e.name = "all";
  train::spen::run_graph_evaluation(e, comm, log);
  e.tu_dir = dir + "/FOUR";
  e.name = "four";
  train::spen::run_graph_evaluation(e, comm, log);
  if (comm.root()) {
    auto rows = [&](const std::string& name) {
      std::ifstream in(e.output_dir + "/" + name + "_predictions.csv");
      std::vector<std::vector<std::string>> r;
      std::string line;
      std::getline(in, line);
      while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream ss(line);
        for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
        r.push_back(f);
      }
      return r;
    };
    const auto all = rows("all"), sub = rows("four");
    REQUIRE(all.size() == 188);
    REQUIRE(sub.size() == 4);
    // Each graph: its class by the files' value and the logits it has among all of MUTAG.
    for (size_t k = 0; k < keep.size(); ++k) {
      const auto& whole = all[keep[k] - 1];
      CHECK(sub[k][1] == "1");
      CHECK(sub[k][1] == whole[1]);
      CHECK(sub[k][2] == whole[2]);
      for (size_t c = 4; c < 6; ++c) CHECK(std::stod(sub[k][c]) == Approx(std::stod(whole[c])).epsilon(1e-9));
    }
  }
  // A class the training data never had is refused, naming it.
  run_on_root(comm, [&] {
    write_tu_subset(mutag, "MUTAG", dir, "ODD", {1, 2});
    std::ofstream(dir + "/ODD/ODD_graph_labels.txt") << "1\n7\n";
  });
  e.tu_dir = dir + "/ODD";
  CHECK_THROWS_WITH(train::spen::run_graph_evaluation(e, comm, log),
                    Catch::Contains("ODD: graph class 7 is not among the training data's (MUTAG: -1, 1): the model "
                                    "has no output for it"));
}
