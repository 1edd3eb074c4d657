// The Lagrangian PINN family entry (model.family: pinn; docs/pinn.md): one case, or a sweep of
// cases (pinn.formulation both, pinn.sweep.*) dealt round-robin to MPI ranks, each trained by the
// shared loop into its own folder, with an error table of all cases at the end.
#pragma once
#include "train/family.hpp"

namespace tessera::train {

Family pinn_family();

}  // namespace tessera::train
