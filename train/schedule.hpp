// Learning-rate schedule: linear warm-up from 0 to `base` over `warmup` steps, then cosine decay
// to `min` at `total` steps (docs/references.md §3), held at `min` afterwards.
#pragma once
#include <cstdint>
#include <string>

namespace tessera::train {

double cosine_warmup_lr(int64_t step, double base, double min, int64_t warmup, int64_t total);

// "" when the warm-up ends before the last step; else a warning naming `warmup_key`: the rate
// then rises to steps/warmup of the base rate and never decays (a short test run of a deck with a
// long warm-up trained at a fraction of its rate without a word).
std::string warmup_warning(int64_t warmup, int64_t steps, const std::string& warmup_key);

// The step that drives the decay under a wall-time budget (train.time_limit): after warm-up,
// whichever of the step count and the used fraction of the budget (time_fraction, from 0 at the
// end of warm-up to 1 at the limit) is further along, so the decay ends at the limit on a slow
// machine and at `total` on a fast one. time_fraction < 0 (no budget): `step` itself. A run
// resumed at schedule position `from` never goes behind it (without a budget it stays there until
// the step count catches up), and its budget spans from `from` (not from the end of warm-up) to
// `total`.
int64_t schedule_step(int64_t step, int64_t warmup, int64_t total, double time_fraction, int64_t from = 0);

}  // namespace tessera::train
