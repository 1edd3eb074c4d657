// Fixtures shared by the GNNPipe tests (test_gnnpipe.cpp, test_gnnpipe_learner.cpp): a small
// CSBM graph and the engine options they train it with.
#pragma once
#include <ATen/ATen.h>

#include "gnn/deep_gcn.hpp"
#include "io/csbm.hpp"
#include "train/gnnpipe/engine.hpp"

namespace tessera::test::gnnpipe {

inline io::CsbmOptions small_csbm(int64_t nodes = 120) {
  io::CsbmOptions o;
  o.classes = 3;
  o.nodes = nodes;
  o.features = 6;
  o.average_degree = 6;
  o.train_per_class = 10;
  o.val = 30;
  o.test = 40;
  o.seed = 3;
  return o;
}

inline io::NodeDataset small_graph(int64_t nodes = 120) { return io::make_csbm(small_csbm(nodes)); }

inline train::gnnpipe::EngineOptions options(gnn::DeepGcnKind kind, int64_t layers) {
  train::gnnpipe::EngineOptions o;
  o.model.kind = kind;
  o.model.in = 6;
  o.model.hidden = 8;
  o.model.classes = 3;
  o.model.layers = layers;
  o.model.dropout = 0.3;
  o.lr = 0.01;
  o.weight_decay_conv = 0.01;
  o.weight_decay_dense = 5e-4;
  o.seed = 11;
  o.dtype = at::kDouble;
  return o;
}

}  // namespace tessera::test::gnnpipe
