#include "solvers/signal.hpp"

#include <cmath>
#include <limits>

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

double window_max(const std::vector<double>& t, const std::vector<double>& y, double start) {
  double best = -std::numeric_limits<double>::infinity();
  bool any = false;
  for (size_t i = 0; i < y.size(); ++i)
    if (t[i] >= start) {
      best = std::max(best, y[i]);
      any = true;
    }
  for (const Peak& p : find_peaks(t, y, start)) best = std::max(best, p.value);
  return any ? best : std::numeric_limits<double>::quiet_NaN();
}

double peak_frequency(const std::vector<double>& t, const std::vector<double>& y, double start) {
  auto peaks = find_peaks(t, y, start);
  if (peaks.size() < 3) return std::numeric_limits<double>::quiet_NaN();
  return (peaks.size() - 1) / (peaks.back().time - peaks.front().time);
}

}  // namespace tessera::solvers
