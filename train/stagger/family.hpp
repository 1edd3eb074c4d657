// The NeuralStagger family entry (model.family: stagger; docs/neuralstagger.md).
#pragma once
#include "train/family.hpp"

namespace tessera::train {

Family stagger_family();

}  // namespace tessera::train
