#include "train/spen/cross_validation.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/idle_ranks.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "core/same_on_ranks.hpp"
#include "train/checkpoint.hpp"
#include "train/spen/data.hpp"
#include "train/spen/learner.hpp"

namespace tessera::train::spen {

CrossValidationResult cross_validate(const GraphClassifierOptions& o, const Comm& comm,
                                     const std::shared_ptr<spdlog::logger>& log) {
  if (o.threads > 0) at::set_num_threads(static_cast<int>(o.threads));
  io::TuDataset ds;
  run_on_every_rank(comm, [&] { ds = load_dataset(o); });  // a folder one rank cannot read: every rank's error
  const PreparedData data = prepare(ds, o);
  // Each rank reads the folder from its own path, and a batch's graphs are dealt out among the
  // ranks: a node-local copy that differs would train two datasets as one.
  core::require_same_data(comm, data_fingerprint(data), "graphs",
                          o.source == "tu" ? "spen.data.tu_dir" : "spen.data.source", o.source != "tu");
  std::vector<int64_t> labels;
  for (const auto& g : data.graphs) labels.push_back(g.label);
  // k-fold cross-validation needs a graph in every fold's test set (an empty one scored 0 and was
  // averaged in).
  if (o.folds > int64_t(labels.size()))
    throw Error(cat(data.name, ": ", labels.size(), " graphs for ", o.folds,
                    " folds; each fold tests at least one graph: at most ", labels.size()),
                "spen.data.folds");
  // A class with fewer graphs than folds is missing from some folds' training sets, whose test
  // graphs of that class cannot be classified right (2 folds of SR25's 15 classes of one graph
  // each scored 0 % without a word; a review found it, 2026-12-07).
  std::map<int64_t, int64_t> per_class;
  for (int64_t l : labels) ++per_class[l];
  const auto fewest = std::min_element(per_class.begin(), per_class.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
  if (o.folds > 1 && fewest != per_class.end() && fewest->second < o.folds)
    core::log_warn(log.get(),
                   cat(data.name, ": class ",
                       fewest->first < ds.num_classes() ? ds.class_names.at(fewest->first) : cat(fewest->first),
                       " has ", core::counted(fewest->second, "graph", "graphs"), " for ", o.folds,
                       " folds: a fold that tests it has none of it to train on (accuracy there is that of "
                       "classes never seen; fewer folds, or more graphs per class)"));
  const auto folds = stratified_folds(labels, o.folds, static_cast<uint64_t>(o.seed));
  int64_t subgraphs = 0, pairs = 0;
  for (const auto& g : data.graphs) {
    subgraphs += g.subgraphs.num_subgraphs();
    pairs += static_cast<int64_t>(g.subgraphs.pairs.size());
  }
  // The subgraph counts for the families that use subgraphs (GIN has none: "0 subgraphs, 0 pairs").
  const std::string subgraph_counts =
      subgraphs > 0
          ? cat(core::counted(subgraphs, "subgraph", "subgraphs"), ", ", core::counted(pairs, "pair", "pairs"), ", ",
                core::counted(int64_t(data.own_sizes.size()), "subgraph size", "subgraph sizes"),
                " with their own weights; ")
          : std::string();
  core::log_info(log.get(), cat(o.family, " on ", data.name, ": ", data.graphs.size(), " graphs, ", data.num_classes,
                                " classes, ", subgraph_counts,
                                o.folds == 1 ? std::string("one fold: trained and evaluated on every graph")
                                             : cat(o.folds, "-fold cross-validation")));
  // A batch's graphs are dealt out whole: ranks beyond them wait (as the other learners say).
  if (comm.size() > o.batch)
    core::log_warn(log.get(), core::idle_ranks_warning(comm.size(), o.batch, "graph per batch", "graphs per batch",
                                                       "spen.train.batch deals whole graphs to the ranks"));
  // Where to start: a resumed fold checkpoint says which fold and holds the folds before it.
  int64_t first = 0;
  std::vector<double> done;
  if (!o.resume.empty()) {
    Checkpoint c;
    run_on_every_rank(comm, [&] { c = with_key("train.resume", [&] { return load_checkpoint(o.resume); }); });
    auto it = c.attributes.find("fold");
    if (const std::string family = checkpoint_family(o.resume); family != o.family)
      throw Error(cat(o.resume, ": a checkpoint of family '", family, "', not ", o.family), "train.resume");
    if (it == c.attributes.end())
      throw Error(cat(o.resume, ": a ", o.family, " checkpoint without a fold (expected a fold_<k>/checkpoint.h5)"),
                  "train.resume");
    first = attribute_count(c.attributes, o.resume, "fold");
    if (first >= o.folds) throw Error(cat(o.resume, ": fold ", first, " of only ", o.folds), "train.resume");
  }
  const int64_t last = o.run_folds > 0 ? o.run_folds : o.folds;
  // An earlier run with more folds (output.overwrite starts afresh over it) leaves folders that
  // this run neither writes nor counts: said, so that they are not read as this run's.
  if (o.resume.empty())
    run_on_root(comm, [&] {
      std::vector<int64_t> stale;
      std::error_code ec;
      for (std::filesystem::directory_iterator it(o.output_dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.rfind("fold_", 0) != 0 || name.size() == 5 || name.size() > 12 ||
            name.find_first_not_of("0123456789", 5) != std::string::npos)
          continue;
        if (const int64_t f = std::stoll(name.substr(5)); f >= o.folds) stale.push_back(f);
      }
      std::sort(stale.begin(), stale.end());
      std::string names;
      for (int64_t f : stale) names += cat(names.empty() ? "" : ", ", "fold_", f);
      if (!stale.empty())
        core::log_warn(log.get(), cat(o.output_dir, " holds ", names, " of an earlier run with more folds: this ",
                                      o.folds, "-fold run does not replace ", stale.size() > 1 ? "them" : "it",
                                      " (folds.csv and summary.csv are this run's)"));
    });
  CrossValidationResult r;
  for (int64_t f = first; f < last; ++f) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<int64_t> train, test = folds[f];
    if (o.folds == 1) {
      train = test;  // one fold: train and evaluate on every graph
    } else {
      for (int64_t k = 0; k < o.folds; ++k)
        if (k != f) train.insert(train.end(), folds[k].begin(), folds[k].end());
    }
    const std::string resume = f == first ? o.resume : "";
    FoldLearner learner(o, data, f, train, test, done, log, comm, resume);
    done = learner.previous_folds();
    LoopOptions loop;
    loop.steps = learner.total_steps();
    loop.validate_every = learner.steps_per_epoch();
    loop.checkpoint_every = o.checkpoint_every;
    loop.output_dir = cat(o.output_dir, "/fold_", f);
    loop.resumed_from = resume;
    run_training(learner, loop, comm, log);
    done.push_back(learner.fold_accuracy());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    core::log_info(log.get(),
                   cat("fold ", f, ": test accuracy ", core::sig3(learner.fold_accuracy()), " (mean of the last ",
                       std::min<int64_t>(o.last_epochs, o.epochs), " epochs), ", core::sig3(seconds), " s",
                       // A resumed fold's time is this run's part of it (the review read it as the fold's).
                       resume.empty() ? "" : cat(" since it resumed from ", resume)));
  }
  r.fold_accuracy = done;
  double s = 0, s2 = 0;
  for (double a : done) s += a;
  r.mean = done.empty() ? 0 : s / static_cast<double>(done.size());
  for (double a : done) s2 += (a - r.mean) * (a - r.mean);
  r.std = done.empty() ? 0 : std::sqrt(s2 / static_cast<double>(done.size()));
  run_on_root(comm, [&] {  // the files exist for every rank once cross-validation returns
    std::string csv = "fold,test_acc\n";
    for (size_t f = 0; f < done.size(); ++f) csv += cat(f, ",", done[f], "\n");
    core::write_text_atomic(o.output_dir + "/folds.csv", csv);
    core::write_text_atomic(o.output_dir + "/summary.csv",
                            cat("family,dataset,folds_run,folds,mean_test_acc,std_test_acc\n", o.family, ",", data.name,
                                ",", done.size(), ",", o.folds, ",", r.mean, ",", r.std, "\n"));
  });
  core::log_info(log.get(),
                 cat(o.family, " on ", data.name, ": test accuracy ", core::sig3(100 * r.mean), " +- ",
                     core::sig3(100 * r.std), " % over ", core::counted(int64_t(done.size()), "fold", "folds"),
                     "; wrote ", o.output_dir, "/folds.csv, summary.csv"));
  return r;
}

}  // namespace tessera::train::spen
