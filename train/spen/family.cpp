#include "train/spen/family.hpp"

#include "core/on_root.hpp"
#include "io/deck.hpp"
#include "train/spen/cross_validation.hpp"
#include "train/spen/evaluation.hpp"

namespace tessera::train {
namespace {

Family graph_family(const std::string& name, const std::string& summary) {
  Family f;
  f.name = name;
  f.summary = summary;
  f.add_keys = [name](io::Schema& s) { spen::add_keys(s, name); };
  f.make_learner = [](const io::Deck& d, const RunContext&) -> std::unique_ptr<Learner> {
    d.fail("model.family", "trains through k-fold cross-validation (Family::train), not one learner");
    return nullptr;
  };
  f.train = [](const io::Deck& d, const RunContext& ctx) {
    // Read on every rank, which agree on the outcome: the options look at output.dir's fold
    // checkpoints, which a rank may see differently (a node-local folder).
    spen::GraphClassifierOptions o;
    run_on_every_rank(ctx.comm, [&] { o = spen::read_options(d); });
    spen::cross_validate(o, ctx.comm, ctx.log);
  };
  // tessera-rollout: the classes a fold checkpoint predicts (train/spen/evaluation.hpp).
  f.add_eval_keys = spen::add_graph_evaluation_keys;
  f.eval_reads_steps = false;
  f.prepare_evaluation = [](const io::Deck& d) -> std::function<void(const RunContext&)> {
    return [o = spen::read_graph_evaluation_options(d)](const RunContext& ctx) {
      spen::run_graph_evaluation(o, ctx.comm, ctx.log);
    };
  };
  f.threads_key = "spen.train.threads";
  f.own_schedule = "spen, ign and gin train spen.train.epochs per fold and validate every epoch";
  return f;
}

}  // namespace

Family spen_family() {
  return graph_family("spen", "SPEN graph classifier: 2-IGN layers on k-hop ego-networks, k-fold cross-validation");
}

Family ign_family() {
  return graph_family("ign", "global 2-IGN graph classifier (one subgraph: the whole graph), k-fold cross-validation");
}

Family gin_family() {
  return graph_family("gin", "GIN graph classifier (1-WL-bounded baseline), k-fold cross-validation");
}

}  // namespace tessera::train
