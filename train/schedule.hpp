// Learning-rate schedule: linear warm-up from 0 to `base` over `warmup` steps, then cosine decay
// to `min` at `total` steps (docs/references.md §3), held at `min` afterwards.
#pragma once
#include <cstdint>

namespace tessera::train {

double cosine_warmup_lr(int64_t step, double base, double min, int64_t warmup, int64_t total);

}  // namespace tessera::train
