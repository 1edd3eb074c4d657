// The graph-classification families: spen (SPEN on k-hop ego-networks), ign (the global 2-IGN:
// one subgraph, the whole graph) and gin (the 1-WL-bounded baseline), one pipeline
// (docs/spen.md). Training is stratified k-fold cross-validation (train/spen/cross_validation.hpp).
#pragma once
#include "train/family.hpp"

namespace tessera::train {
// The graph classifiers: SPEN, the global 2-IGN and the GIN baseline (one pipeline, one deck
// section).
Family spen_family();
Family ign_family();
Family gin_family();
}  // namespace tessera::train
