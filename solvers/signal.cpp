#include "solvers/signal.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"

namespace tessera::solvers {

std::vector<Peak> find_peaks(const std::vector<double>& t, const std::vector<double>& y, double start) {
  std::vector<Peak> peaks;
  for (size_t i = 1; i + 1 < y.size(); ++i) {
    if (t[i] < start || !(y[i] > y[i - 1] && y[i] >= y[i + 1])) continue;
    // Parabola through (t[i-1], t[i], t[i+1]) (uniform or not): vertex time and value.
    const double h1 = t[i] - t[i - 1], h2 = t[i + 1] - t[i];
    const double d1 = (y[i] - y[i - 1]) / h1, d2 = (y[i + 1] - y[i]) / h2;
    const double curv = (d2 - d1) / (h1 + h2);  // half the second derivative
    Peak p{t[i], y[i]};
    if (curv < 0) {
      const double slope_mid = d1 + curv * h1;  // slope of the parabola at t[i]
      const double dt = -slope_mid / (2 * curv);
      if (std::abs(dt) <= std::max(h1, h2)) p = {t[i] + dt, y[i] + slope_mid * dt + curv * dt * dt};
    }
    peaks.push_back(p);
  }
  return peaks;
}

Peak window_peak(const std::vector<double>& t, const std::vector<double>& y, double start) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  Peak best{nan, -std::numeric_limits<double>::infinity()};
  bool any = false;
  for (size_t i = 0; i < y.size(); ++i)
    if (t[i] >= start) {
      if (y[i] > best.value) best = {t[i], y[i]};
      any = true;
    }
  // A crest refined to just before the window (its left neighbour outside it) stays out of it.
  for (const Peak& p : find_peaks(t, y, start))
    if (p.value > best.value && p.time >= start) best = p;
  return any ? best : Peak{nan, nan};
}

double window_max(const std::vector<double>& t, const std::vector<double>& y, double start) {
  return window_peak(t, y, start).value;
}

double peak_frequency(const std::vector<double>& t, const std::vector<double>& y, double start, std::string* why) {
  const double none = std::numeric_limits<double>::quiet_NaN();
  const auto say = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return none;
  };
  const std::vector<Peak> peaks = find_peaks(t, y, start);
  if (peaks.size() < 3) return say(cat("fewer than 3 maxima (", peaks.size(), ")"));
  const double mean = (peaks.back().time - peaks.front().time) / double(peaks.size() - 1);
  // Not a periodic signal (a reported frequency was that of a flow's start-up transient, or of a
  // decaying oscillation of a steady flow; a review found both, 2026-12-07): the maxima must be
  // evenly spaced and their height above the trough that follows must not die away.
  for (size_t i = 1; i < peaks.size(); ++i)
    if (const double gap = peaks[i].time - peaks[i - 1].time; std::abs(gap - mean) > 0.25 * mean)
      return say(cat("maxima not evenly spaced (", gap, " between two, against ", mean, " on average)"));
  std::vector<double> height;  // each maximum above the lowest sample before the next
  size_t k = 0;
  for (size_t i = 0; i + 1 < peaks.size(); ++i) {
    while (k < t.size() && t[k] < peaks[i].time) ++k;
    double trough = std::numeric_limits<double>::infinity();
    for (size_t j = k; j < t.size() && t[j] <= peaks[i + 1].time; ++j) trough = std::min(trough, y[j]);
    height.push_back(peaks[i].value - trough);
  }
  if (!(height.back() >= 0.5 * height.front()))
    return say(cat("an oscillation that dies away (its maxima stand ", height.front(), " then ", height.back(),
                   " above the troughs after them)"));
  return 1 / mean;
}

}  // namespace tessera::solvers
