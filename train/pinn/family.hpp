// The Lagrangian PINN family entry (model.family: pinn; docs/pinn.md): trains the deck's study,
// one case or a sweep (train/pinn/study.hpp).
#pragma once
#include "train/family.hpp"

namespace tessera::train {

Family pinn_family();

}  // namespace tessera::train
