#include "train/spen/options.hpp"

#include "core/error.hpp"
#include "io/deck.hpp"
#include "train/family.hpp"

namespace tessera::train::spen {

void add_keys(io::Schema& s, const std::string&) {
  using io::KeyType;
  s.section("spen", "graph classification (spen, ign, gin): data, folds, model and optimiser");
  s.add("spen.data.source", KeyType::Choice, "tu",
        "tu: a TU-format dataset (spen.data.tu_dir); csl: circular skip links generated in code (10 classes)")
      .choices = {"tu", "csl"};
  io::Schema::input_path(s.add("spen.data.tu_dir", KeyType::String, "",
                               "TU dataset folder holding <NAME>_A.txt etc., NAME its last component (source tu)"));
  s.add("spen.data.csl_per_class", KeyType::Int, "15", "CSL graphs per class").min = 1;
  s.add("spen.data.csl_seed", KeyType::Int, "0", "seed of the CSL relabellings").min = 0;
  s.add("spen.data.node_features", KeyType::Choice, "labels",
        "labels: one-hot node (and edge) labels where the data have them; constant: a constant feature (CSL and "
        "unlabelled data always)")
      .choices = {"labels", "constant"};
  s.add("spen.data.folds", KeyType::Int, "10",
        "stratified cross-validation folds (train.seed shuffles them); 1: train and evaluate on all graphs (SR25)")
      .min = 1;
  s.add("spen.data.run_folds", KeyType::Int, "0", "run only the first this many folds; 0: all").min = 0;
  s.add("spen.model.hops", KeyType::Int, "1",
        "ego-network depth k of spen: each node's subgraph holds the nodes within k hops (ign and gin do not use "
        "it)")
      .min = 1;
  s.add("spen.model.channels", KeyType::Int, "32", "channels of every layer").min = 1;
  s.add("spen.model.layers", KeyType::Int, "3", "layers (equivariant layers, or GIN message-passing layers)").min = 1;
  s.add("spen.model.rare_threshold", KeyType::Int, "10",
        "spen and ign: subgraph sizes that fewer subgraphs of the data have share one weight set; the others have "
        "their own (gin ignores it)")
      .min = 1;
  s.add("spen.train.epochs", KeyType::Int, "50", "epochs per fold (train.steps is not used by these families)").min = 1;
  s.add("spen.train.batch", KeyType::Int, "32", "graphs per optimiser step").min = 1;
  s.add("spen.train.lr", KeyType::Float, "1e-3", "AdamW learning rate").min = 0;
  s.add("spen.train.weight_decay", KeyType::Float, "1e-2", "AdamW weight decay").min = 0;
  s.add("spen.train.lr_step", KeyType::Int, "30", "StepLR: epochs between learning-rate drops").min = 1;
  auto& g = s.add("spen.train.lr_gamma", KeyType::Float, "0.1", "StepLR: factor of each drop");
  g.min = 0;
  g.max = 1;
  auto& d = s.add("spen.train.dropout", KeyType::Float, "0.5", "dropout of the classifier head");
  d.min = 0;
  d.max = 1;
  s.add("spen.train.last_epochs", KeyType::Int, "10",
        "a fold's accuracy is its mean test accuracy over these last epochs")
      .min = 1;
  s.add("spen.train.precision", KeyType::Choice, "fp64",
        "fp64 or fp32: the dtype of parameters and features. Per-graph normalisation divides by small spreads on "
        "symmetric graphs (CSL, SR25), which amplifies fp32 round-off into features that depend on node order; "
        "fp64 keeps that below the prediction tie tolerance")
      .choices = {"fp64", "fp32"};
  add_threads_key(s, "spen.train.threads", "1", "torch intra-op threads per rank; 0: torch's default");
  // What each data source does not read: set anyway, a warning (run_app). (spen.data.tu_dir with
  // csl was refused, so --set spen.data.source=csl could not run a deck written for a TU dataset:
  // no --set unsets a key. gnnpipe.data.file with csbm is a warning too.) Each of the three
  // families sharing these keys declares them; the schema keeps one of identical conditions.
  for (const char* k : {"spen.data.csl_per_class", "spen.data.csl_seed"})
    s.read_only_when(k, {{"spen.data.source", {"csl"}}});
  s.read_only_when("spen.data.tu_dir", {{"spen.data.source", {"tu"}}}, "csl graphs are generated in code");
  s.read_only_when("spen.data.node_features", {{"spen.data.source", {"tu"}}});  // csl: constant features
  // One deck serves all three families; what a family does not use is named when it is set.
  s.read_only_when("spen.model.hops", {{"model.family", {"spen"}}},
                   "ign's subgraph is the whole graph, and gin has none");
  s.read_only_when("spen.train.lr_gamma", {io::below("spen.train.lr_step", "spen.train.epochs")},
                   "the training ends before the first drop");
  s.read_only_when("spen.model.rare_threshold", {{"model.family", {"spen", "ign"}}}, "gin has no subgraphs");
}

GraphClassifierOptions read_options(const io::Deck& d, bool training) {
  GraphClassifierOptions o;
  o.family = d.get_string("model.family");
  o.source = d.get_string("spen.data.source");
  const std::string tu_dir = d.has("spen.data.tu_dir") ? d.get_string("spen.data.tu_dir") : "";
  if (o.source == "tu") {
    if (tu_dir.empty()) d.fail("spen.data.tu_dir", "required when spen.data.source is tu");
    o.tu_dir = d.resolve_path(tu_dir);
  }
  if (o.source == "csl") {
    o.csl_per_class = d.get_int("spen.data.csl_per_class");
    o.csl_seed = d.get_int("spen.data.csl_seed");
  }
  o.constant_features = o.source == "csl" || d.get_string("spen.data.node_features") == "constant";
  o.folds = d.get_int("spen.data.folds");
  o.run_folds = d.get_int("spen.data.run_folds");
  if (o.run_folds > o.folds) d.fail("spen.data.run_folds", cat("exceeds spen.data.folds (", o.folds, ")"));
  if (o.source == "csl" && o.folds > o.csl_per_class)
    d.fail("spen.data.folds",
           cat("stratified folds need at most spen.data.csl_per_class (", o.csl_per_class, ") graphs per class"));
  o.hops = d.get_int32("spen.model.hops");
  o.channels = d.get_int("spen.model.channels");
  o.layers = d.get_int("spen.model.layers");
  o.rare_threshold = d.get_int("spen.model.rare_threshold");
  o.epochs = d.get_int("spen.train.epochs");
  o.batch = d.get_int("spen.train.batch");
  o.lr = d.get_float("spen.train.lr");
  o.weight_decay = d.get_float("spen.train.weight_decay");
  o.lr_step = d.get_int32("spen.train.lr_step");  // torch's StepLR takes an unsigned int
  o.lr_gamma = d.get_float("spen.train.lr_gamma");
  o.dropout = d.get_float("spen.train.dropout");
  if (o.dropout >= 1) d.fail("spen.train.dropout", "expected a number in [0, 1), got 1");
  o.last_epochs = d.get_int("spen.train.last_epochs");
  if (o.last_epochs > o.epochs) d.fail("spen.train.last_epochs", cat("exceeds spen.train.epochs (", o.epochs, ")"));
  o.threads = d.get_int32("spen.train.threads");
  o.fp64 = d.get_string("spen.train.precision") == "fp64";
  o.seed = d.get_int("train.seed");
  o.checkpoint_every = d.get_int("train.checkpoint_every");
  if (d.has("train.resume")) o.resume = d.resolve_path(d.get_string("train.resume"));
  if (d.get_string("train.device") != "cpu")
    d.fail("train.device", "the spen, ign and gin families run on the CPU only (cpu)");
  o.deck_yaml = d.resolved_yaml();
  o.deck_dir = d.base_dir();
  if (!training) return o;
  o.output_dir = d.get_output_dir("output.dir");
  // A fresh start does not replace an earlier run's fold checkpoints (output.dir/fold_<k>/) unless
  // asked, as the other families' output.dir/checkpoint.h5; it did silently. The last fold's is named.
  for (int64_t f = o.folds - 1; f >= 0; --f)
    refuse_replacing_checkpoint(d, cat(o.output_dir, "/fold_", f, "/checkpoint.h5"));
  return o;
}

}  // namespace tessera::train::spen
