// Timing for the benchmark programs: the median wall time of repeated calls, after warm-up calls.
// `sync` runs before starting and after stopping each timed call (a CUDA device synchronisation,
// an MPI barrier), so asynchronous or collective work is measured whole.
#pragma once
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace tessera::bench {

inline double median_ms(const std::function<void()>& f, int reps, int warmup = 1,
                        const std::function<void()>& sync = {}) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    if (sync) sync();
    auto a = std::chrono::steady_clock::now();
    f();
    if (sync) sync();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace tessera::bench
