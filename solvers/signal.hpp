// Analysis of sampled force histories (c_D(t), c_L(t)) over a window [start, end]: maxima and
// the oscillation frequency, with the peaks refined by a parabola through the three samples
// around each discrete maximum (second-order accurate in the sampling interval).
#pragma once
#include <string>
#include <vector>

namespace tessera::solvers {

struct Peak {
  double time, value;
};

// Interior local maxima of y(t) for t >= start.
std::vector<Peak> find_peaks(const std::vector<double>& t, const std::vector<double>& y, double start);

// Largest value for t >= start (a refined peak when the maximum is interior) and its time. NaN
// (both) if no sample.
Peak window_peak(const std::vector<double>& t, const std::vector<double>& y, double start);
// window_peak's value.
double window_max(const std::vector<double>& t, const std::vector<double>& y, double start);

// Frequency from the mean spacing of the peaks for t >= start; NaN where the signal is not a
// sustained oscillation there, with the reason in `why` (what the signal "has"): fewer than 3 peaks (a steady signal,
// or a window shorter than two periods), peaks spaced unevenly (more than 25% from their mean: a transient), or an
// oscillation that dies away (the last peak's height above the trough after it under half the first's: a steady flow
// settling).
double peak_frequency(const std::vector<double>& t, const std::vector<double>& y, double start,
                      std::string* why = nullptr);

}  // namespace tessera::solvers
