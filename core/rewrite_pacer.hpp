// When to rewrite a file that grows with a run and is rewritten whole (a series' index, a table
// of every step): at every call until the rewrites have taken `free_s` seconds in all (a short
// series, or one being watched, is always up to date), then only while they have taken at most
// `share` of the run's time beyond that. Rewritten at every step, a rollout's 3.6 MB .xmf index
// cost 7 GB of writes over 4,000 steps and the output slowed from 3 to 56 ms per step (a soak
// review, 2026-12-06); paced, the work is linear in the steps, and the file lags the run by
// about (time of one rewrite) / share. The caller rewrites once more at the end, so the final
// file is the same.
#pragma once
#include <chrono>

namespace tessera::core {

class RewritePacer {
 public:
  explicit RewritePacer(double share = 0.05, double free_s = 0.1)
      : share_(share), free_s_(free_s), start_(Clock::now()) {}
  // Calls `rewrite` when it is due, timing it; true when it was called.
  template <class F>
  bool rewrite_if_due(F&& rewrite) {
    const Clock::time_point began = Clock::now();
    if (spent_ > free_s_ + share_ * seconds(start_, began)) return false;
    rewrite();
    spent_ += seconds(began, Clock::now());
    return true;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }
  double share_, free_s_;
  Clock::time_point start_;
  double spent_ = 0;
};

}  // namespace tessera::core
