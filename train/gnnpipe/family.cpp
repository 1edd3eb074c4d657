#include "train/gnnpipe/family.hpp"

#include "io/deck.hpp"
#include "train/gnnpipe/evaluation.hpp"
#include "train/gnnpipe/learner.hpp"

namespace tessera::train {

Family gnnpipe_family() {
  Family f;
  f.name = "gnnpipe";
  f.summary =
      "deep GCN/GraphSAGE/GCNII/ResGCN+ node classification, graph-parallel, layer-pipelined (GNNPipe) or hybrid";
  f.add_keys = gnnpipe::add_keys;
  f.make_learner = [](const io::Deck& d, const RunContext& ctx) -> std::unique_ptr<Learner> {
    return std::make_unique<gnnpipe::GnnPipeLearner>(gnnpipe::read_options(d), ctx.comm, ctx.log);
  };
  // tessera-rollout: the classes the checkpoint's model predicts (train/gnnpipe/evaluation.hpp).
  f.add_eval_keys = gnnpipe::add_node_evaluation_keys;
  f.eval_reads_steps = false;
  f.prepare_evaluation = [](const io::Deck& d) -> std::function<void(const RunContext&)> {
    return [o = gnnpipe::read_node_evaluation_options(d)](const RunContext& ctx) {
      gnnpipe::run_node_evaluation(o, ctx.comm, ctx.log);
    };
  };
  f.threads_key = "gnnpipe.threads";
  return f;
}

}  // namespace tessera::train
