// Timing for the benchmark programs: the median wall time of repeated calls, after warm-up calls.
// `sync` runs before starting and after stopping each timed call (a CUDA device synchronisation,
// an MPI barrier), so asynchronous or collective work is measured whole.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "core/comm.hpp"

namespace tessera::bench {

// The median of a sample, 0 for an empty one (of an even count, the mean of the middle two: the
// upper one alone would favour the slower time and the larger ratio).
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

// The q-quantile of a sample (linear between order statistics); 0 for an empty one.
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double at = q * double(v.size() - 1);
  const size_t lo = static_cast<size_t>(at);
  return lo + 1 < v.size() ? v[lo] + (at - double(lo)) * (v[lo + 1] - v[lo]) : v[lo];
}

// The wall time of one call of f, in ms.
template <class F>
double time_ms(F&& f) {
  const auto a = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
}

inline double median_ms(const std::function<void()>& f, int reps, int warmup = 1,
                        const std::function<void()>& sync = {}) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    if (sync) sync();
    t.push_back(time_ms([&] {
      f();
      if (sync) sync();
    }));
  }
  return median(std::move(t));
}

// A barrier that sleeps instead of spinning: ranks waiting while rank 0 runs a serial baseline
// must not steal its CPU (OpenMPI's barrier busy-polls; two vCPUs may share a core).
inline void sleeping_barrier(const Comm& comm) {
#if TESSERA_HAVE_MPI
  if (comm.size() == 1) return;
  MPI_Request req;
  MPI_Ibarrier(comm.mpi(), &req);
  for (int done = 0; !done;) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (!done) usleep(20000);
  }
#endif
}

}  // namespace tessera::bench
