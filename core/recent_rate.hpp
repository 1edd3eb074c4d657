// RecentRate: units of work per second over the last `window` to 2 × `window` seconds, for a
// progress line's rate and ETA. An average since the start misleads when the pace changes: a PINN
// case runs hundreds of fast Adam steps, then L-BFGS steps ten times slower, and its ETA said
// "00:34" for work that took six minutes more.
#pragma once
#include <cstdint>

namespace tessera::core {

class RecentRate {
 public:
  explicit RecentRate(double window_s) : window_s_(window_s) {}
  // `done` units in all by time `t` (seconds since the work started with none done,
  // non-decreasing). Cheap: call it per unit.
  void add(double t, int64_t done) {
    if (t - newer_.t >= window_s_) older_ = newer_, newer_ = {t, done};
  }
  // The rate from the older sample on (from the first sample until two windows have passed);
  // 0 until time has passed.
  double per_second(double t, int64_t done) const {
    const double span = t - older_.t;
    return span > 0 ? static_cast<double>(done - older_.done) / span : 0.0;
  }

 private:
  struct Sample {
    double t = 0;
    int64_t done = 0;
  };
  double window_s_;
  Sample older_, newer_;
};

}  // namespace tessera::core
