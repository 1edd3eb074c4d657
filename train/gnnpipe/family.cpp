#include "train/gnnpipe/family.hpp"

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
  f.threads_key = "gnnpipe.threads";
  return f;
}

}  // namespace tessera::train
