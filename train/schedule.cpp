#include "train/schedule.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace tessera::train {

double cosine_warmup_lr(int64_t step, double base, double min, int64_t warmup, int64_t total) {
  if (warmup > 0 && step < warmup) return base * double(step + 1) / double(warmup);
  if (total <= warmup) return base;
  const double t = std::clamp(double(step - warmup) / double(total - warmup), 0.0, 1.0);
  return min + 0.5 * (base - min) * (1.0 + std::cos(M_PI * t));
}

std::string warmup_warning(int64_t warmup, int64_t steps, const std::string& warmup_key) {
  if (warmup < steps || steps <= 0) return "";
  return cat(warmup_key, " = ", warmup, " is not below train.steps = ", steps, ": the learning rate rises to ",
             static_cast<double>(steps) / static_cast<double>(warmup),
             " of its peak and never decays (shorten the warm-up for a short run)");
}

int64_t schedule_step(int64_t step, int64_t warmup, int64_t total, double time_fraction, int64_t from) {
  if (step < warmup) return step;
  const int64_t start = std::max(from, warmup);
  if (!(time_fraction >= 0)) return std::max(step, start);  // NaN too: no budget
  const int64_t span = std::max<int64_t>(total - start, 0);
  const int64_t by_time = start + static_cast<int64_t>(std::min(time_fraction, 1.0) * double(span));
  return std::max(step, by_time);
}

}  // namespace tessera::train
