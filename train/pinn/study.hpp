// A PINN study (docs/pinn.md): one case, or a sweep of cases (pinn.formulation both,
// pinn.sweep.*) dealt round-robin to the ranks, each trained by the shared loop into its own
// folder, with an error table of all cases (<output_dir>/errors.csv) at the end.
#pragma once
#include "train/family.hpp"
#include "train/pinn/options.hpp"

namespace tessera::train::pinn {

// Trains every case of `study` that falls to this rank (a sweep's case in <output_dir>/<case>,
// resumed from its checkpoint there unless study.fresh_start); rank 0 writes errors.csv.
void run_study(const PinnStudy& study, const LoopOptions& loop, const RunContext& ctx);

}  // namespace tessera::train::pinn
