#include "train/gnnpipe/options.hpp"

#include "core/error.hpp"
#include "io/deck.hpp"
#include "train/family.hpp"

namespace tessera::train::gnnpipe {

void add_keys(io::Schema& s) {
  using io::KeyType;
  s.section("gnnpipe", "GNNPipe: deep GCNs on one graph, trained graph-parallel, layer-pipelined or hybrid");
  s.section("gnnpipe.data", "the node-classification graph");
  s.add("gnnpipe.data.source", KeyType::Choice, "planetoid",
        "planetoid: an HDF5 file in the layout of data/cora/cora.h5 (gnnpipe.data.file; docs/references.md, Cora); "
        "csbm: a contextual "
        "stochastic block model generated from gnnpipe.data.csbm.*")
      .choices = {"planetoid", "csbm"};
  io::Schema::input_path(s.add("gnnpipe.data.file", KeyType::String, "",
                               "planetoid HDF5 file (x, y, edge_index, train/val/test masks); required for planetoid"));
  s.add("gnnpipe.data.normalize_features", KeyType::Bool, "true",
        "planetoid: scale each node's features to sum 1 (rows with a non-positive sum are kept), as GCNII preprocesses "
        "Cora");
  s.add("gnnpipe.data.csbm.classes", KeyType::Int, "4", "CSBM: classes").min = 2;
  s.add("gnnpipe.data.csbm.nodes", KeyType::Int, "10000", "CSBM: nodes").min = 2;
  s.add("gnnpipe.data.csbm.features", KeyType::Int, "32", "CSBM: feature dimension").min = 1;
  auto& degree =
      s.add("gnnpipe.data.csbm.degree", KeyType::Float, "10", "CSBM: average degree (directed edges per node)");
  degree.min = 0;
  degree.min_exclusive = true;
  auto& h = s.add("gnnpipe.data.csbm.homophily", KeyType::Float, "0.8", "CSBM: fraction of edges inside a class");
  h.min = 0;
  h.max = 1;
  s.add("gnnpipe.data.csbm.signal", KeyType::Float, "1.0", "CSBM: distance of the class feature means from 0").min = 0;
  s.add("gnnpipe.data.csbm.seed", KeyType::Int, "0", "CSBM: generator seed").min = 0;
  s.add("gnnpipe.data.csbm.train_per_class", KeyType::Int, "20", "CSBM: training nodes per class").min = 1;
  // Empty validation or test sets scored accuracy 0 and loss 0 (a loss of 0 was the best).
  s.add("gnnpipe.data.csbm.val", KeyType::Int, "500", "CSBM: validation nodes").min = 1;
  s.add("gnnpipe.data.csbm.test", KeyType::Int, "1000", "CSBM: test nodes").min = 1;
  s.section("gnnpipe.model", "the deep GCN");
  s.add("gnnpipe.model.conv", KeyType::Choice, "gcnii",
        "convolution: gcn, sage (GraphSAGE), gcnii (initial residual and identity mapping), resgcn+ (pre-activation "
        "residual)")
      .choices = {"gcn", "sage", "gcnii", "resgcn+"};
  s.add("gnnpipe.model.layers", KeyType::Int, "32", "graph convolutions (between an input and an output dense layer)")
      .min = 1;
  s.add("gnnpipe.model.hidden", KeyType::Int, "64", "hidden width").min = 1;
  s.add("gnnpipe.model.alpha", KeyType::Float, "0.1", "GCNII: initial-residual weight alpha").min = 0;
  s.add("gnnpipe.model.lambda", KeyType::Float, "0.5", "GCNII: identity-mapping strength lambda").min = 0;
  auto& dr = s.add("gnnpipe.model.dropout", KeyType::Float, "0.6", "dropout rate (input, every convolution, output)");
  dr.min = 0;
  dr.max = 0.99;
  s.section("gnnpipe.optim", "Adam with L2 weight decay, one synchronous step per epoch (train.steps = epochs)");
  s.add("gnnpipe.optim.patience", KeyType::Int, "0",
        "early stopping: stop once the validation loss has not fallen for this many epochs, counted at "
        "validations (train.validate_every; GCNII: 100 with validation every epoch); 0: train all "
        "train.steps epochs. test_at_best_val is the test accuracy at the lowest validation loss either way")
      .min = 0;
  s.add("gnnpipe.optim.lr", KeyType::Float, "0.01", "learning rate").min = 0;
  s.add("gnnpipe.optim.weight_decay_conv", KeyType::Float, "0.01", "L2 weight decay of the convolutions").min = 0;
  s.add("gnnpipe.optim.weight_decay_dense", KeyType::Float, "5e-4", "L2 weight decay of the input/output layers").min =
      0;
  s.section("gnnpipe.parallel", "how the ranks of mpirun share the work");
  s.add("gnnpipe.parallel.mode", KeyType::Choice, "graph",
        "graph: METIS parts, one per rank, halo exchange at every layer; pipeline: a contiguous block of layers per "
        "rank, chunks streamed through the stages (GNNPipe); hybrid: ranks = parts x stages")
      .choices = {"graph", "pipeline", "hybrid"};
  s.add("gnnpipe.parallel.stages", KeyType::Int, "2", "hybrid: pipeline stages (the ranks must be a multiple)").min = 1;
  s.add("gnnpipe.parallel.chunks", KeyType::Int, "1",
        "pipeline/hybrid: chunks of the graph (METIS within each part); at least the stages unless 1 (1: exact "
        "full-graph training)")
      .min = 1;
  s.add("gnnpipe.parallel.shuffle", KeyType::Bool, "true",
        "staleness: a new chunk order every epoch (the same on every stage); false: 0..C-1");
  s.add("gnnpipe.parallel.fresh", KeyType::Bool, "true",
        "staleness: neighbours in chunks already processed this epoch use this epoch's values; false: all "
        "neighbours outside the chunk use the previous epoch's");
  s.add("gnnpipe.parallel.warmup_epochs", KeyType::Int, "0",
        "staleness: first epochs trained with one chunk (exact), which also fills the historical buffers")
      .min = 0;
  s.add("gnnpipe.precision", KeyType::Choice, "fp32", "fp32 or fp64 (parameters, activations, messages)").choices = {
      "fp32", "fp64"};
  add_threads_key(s, "gnnpipe.threads", "1", "torch intra-op threads per rank; 0: torch's default");
  // What each data source, convolution and mode does not read: set anyway, a warning (run_app).
  for (const char* k : {"gnnpipe.data.file", "gnnpipe.data.normalize_features"})
    s.read_only_when(k, {{"gnnpipe.data.source", {"planetoid"}}});
  s.read_only_when("gnnpipe.data.csbm", {{"gnnpipe.data.source", {"csbm"}}});
  for (const char* k : {"gnnpipe.model.alpha", "gnnpipe.model.lambda"})
    s.read_only_when(k, {{"gnnpipe.model.conv", {"gcnii"}}});
  s.read_only_when("gnnpipe.parallel.stages", {{"gnnpipe.parallel.mode", {"hybrid"}}});
  // Staleness settings act only on chunks > 1, which graph mode refuses (read_options).
  for (const char* k : {"gnnpipe.parallel.shuffle", "gnnpipe.parallel.fresh", "gnnpipe.parallel.warmup_epochs"}) {
    s.read_only_when(k, {{"gnnpipe.parallel.mode", {"pipeline", "hybrid"}}});
    s.read_only_when(k, {io::not_one_of("gnnpipe.parallel.chunks", {"1"})},
                     "one chunk is exact full-graph training: nothing is stale");
  }
  s.read_only_when("gnnpipe.optim.patience", {io::not_one_of("train.validate_every", {"0"})},
                   "validation runs at the end only");
}

GnnPipeOptions read_options(const io::Deck& d) {
  GnnPipeOptions o;
  o.source = d.get_string("gnnpipe.data.source");
  if (o.source == "planetoid") {
    o.normalize_features = d.get_bool("gnnpipe.data.normalize_features");
    const std::string f = d.has("gnnpipe.data.file") ? d.get_string("gnnpipe.data.file") : "";
    if (f.empty()) d.fail("gnnpipe.data.file", "required when gnnpipe.data.source is planetoid");
    o.file = d.resolve_path(f);  // read (and checked) by every rank in GnnPipeLearner
  } else {
    io::CsbmOptions& c = o.csbm;
    c.classes = d.get_int("gnnpipe.data.csbm.classes");
    c.nodes = d.get_int("gnnpipe.data.csbm.nodes");
    c.features = d.get_int("gnnpipe.data.csbm.features");
    c.average_degree = d.get_float("gnnpipe.data.csbm.degree");
    c.homophily = d.get_float("gnnpipe.data.csbm.homophily");
    c.signal = d.get_float("gnnpipe.data.csbm.signal");
    c.seed = static_cast<uint64_t>(d.get_int("gnnpipe.data.csbm.seed"));
    c.train_per_class = d.get_int("gnnpipe.data.csbm.train_per_class");
    c.val = d.get_int("gnnpipe.data.csbm.val");
    c.test = d.get_int("gnnpipe.data.csbm.test");
    // Edges are drawn with repeats and merged, so a degree near the node count is not reached;
    // above nodes - 1 it cannot be (before, it was cut down without a word).
    // Named at whichever of the two --set changed (the degree was blamed for a --set of the nodes).
    if (c.average_degree > static_cast<double>(c.nodes - 1))
      d.fail_pair("gnnpipe.data.csbm.degree", "gnnpipe.data.csbm.nodes",
                  cat("degree ", c.average_degree, " with ", c.nodes, " nodes: at most nodes - 1 = ", c.nodes - 1,
                      " (the edges per node of a complete graph on gnnpipe.data.csbm.nodes)"));
    if (c.classes * c.train_per_class + c.val + c.test > c.nodes)
      d.fail("gnnpipe.data.csbm.nodes",
             cat("fewer than the split needs (", c.classes * c.train_per_class + c.val + c.test, ")"));
  }
  EngineOptions& e = o.engine;
  e.model.kind = gnn::deep_gcn_kind(d.get_string("gnnpipe.model.conv"));
  e.model.layers = d.get_int("gnnpipe.model.layers");
  e.model.hidden = d.get_int("gnnpipe.model.hidden");
  if (e.model.kind == gnn::DeepGcnKind::Gcnii) {
    e.model.alpha = d.get_float("gnnpipe.model.alpha");
    e.model.lambda = d.get_float("gnnpipe.model.lambda");
  }
  e.model.dropout = d.get_float("gnnpipe.model.dropout");
  o.patience = d.get_int("gnnpipe.optim.patience");
  e.lr = d.get_float("gnnpipe.optim.lr");
  e.weight_decay_conv = d.get_float("gnnpipe.optim.weight_decay_conv");
  e.weight_decay_dense = d.get_float("gnnpipe.optim.weight_decay_dense");
  o.mode = d.get_string("gnnpipe.parallel.mode");
  if (o.mode == "hybrid") o.hybrid_stages = d.get_int32("gnnpipe.parallel.stages");
  e.chunks = d.get_int32("gnnpipe.parallel.chunks");
  e.shuffle = d.get_bool("gnnpipe.parallel.shuffle");
  e.fresh = d.get_bool("gnnpipe.parallel.fresh");
  e.warmup_epochs = d.get_int("gnnpipe.parallel.warmup_epochs");
  e.dtype = d.get_string("gnnpipe.precision") == "fp64" ? at::kDouble : at::kFloat;
  e.seed = static_cast<uint64_t>(d.get_int("train.seed"));
  o.threads = d.get_int32("gnnpipe.threads");
  if (o.mode == "graph" && e.chunks > 1)
    d.fail("gnnpipe.parallel.chunks", "graph mode trains the full graph at once: chunks must be 1");
  if (o.mode == "hybrid") {
    if (o.hybrid_stages > e.model.layers)
      d.fail("gnnpipe.parallel.stages", cat("more stages (", o.hybrid_stages, ") than layers (", e.model.layers, ")"));
    if (e.chunks > 1 && e.chunks < o.hybrid_stages)
      d.fail("gnnpipe.parallel.chunks",
             cat("fewer chunks (", e.chunks, ") than stages (", o.hybrid_stages, "); use 1 or at least the stages"));
  }
  if (d.get_string("train.device") != "cpu") d.fail("train.device", "the gnnpipe family runs on cpu");
  if (d.has("train.resume") && !d.get_string("train.resume").empty())
    o.resume = d.resolve_path(d.get_string("train.resume"));
  o.deck_yaml = d.resolved_yaml();
  o.deck_dir = d.base_dir();
  return o;
}

int stages_for(const GnnPipeOptions& o, int ranks) {
  const int64_t layers = o.engine.model.layers;
  if (o.mode == "graph") return 1;
  if (o.mode == "pipeline") {
    if (ranks > layers)
      throw Error(cat("pipeline mode on ", ranks, " ranks needs at least as many layers, not ", layers),
                  "gnnpipe.model.layers");
    if (o.engine.chunks > 1 && o.engine.chunks < ranks)
      throw Error(cat("fewer chunks (", o.engine.chunks, ") than pipeline stages (", ranks,
                      " ranks); use 1 or at least the stages"),
                  "gnnpipe.parallel.chunks");
    return ranks;
  }
  if (ranks % o.hybrid_stages)
    throw Error(cat(ranks, " ranks are not a multiple of ", o.hybrid_stages, " stages"), "gnnpipe.parallel.stages");
  return o.hybrid_stages;
}

}  // namespace tessera::train::gnnpipe
