// Vortex shedding in a rollout, checked the way a CFD engineer checks it: at a probe in the wake,
// the dominant frequency and the size of the cross-stream velocity's oscillation, in the data and
// in the prediction. Once a rollout's RMSE has grown to the level of persistence, these tell a
// phase drift (right frequency and amplitude, wrong phase) from wrong dynamics (wrong frequency,
// damped or spurious shedding).
#pragma once
#include <ATen/core/Tensor.h>

#include <cmath>
#include <cstdint>

namespace tessera::train {

// A frequency is reported only when the series holds at least this many of its periods, each of
// at least kWakeProbeMinSamplesPerPeriod samples: a peak of a shorter series says nothing, and a
// peak at the Nyquist frequency (2 samples per period; the peak of any 4-sample series, which
// then holds exactly 2 "periods") cannot be told from a trend or from aliasing.
constexpr double kWakeProbeMinPeriods = 2;
constexpr double kWakeProbeMinSamplesPerPeriod = 3;

struct WakeProbe {
  int64_t node = -1;        // -1: no normal node, or fewer than 4 states (then everything below is NaN)
  double x = NAN, y = NAN;  // the probe node's position
  // Per unit of time; 0 for a constant signal; NaN when the series holds fewer than
  // kWakeProbeMinPeriods periods of it or a period has fewer than kWakeProbeMinSamplesPerPeriod
  // samples (not resolved).
  double frequency_true = NAN, frequency_pred = NAN;
  double amplitude_true = NAN, amplitude_pred = NAN;  // RMS of the cross-stream velocity about its mean
};

// truth, predicted: [steps, N, 2] velocities (only the first min(steps) are used); node_type [N]
// (MeshGraphNets codes); pos [N, 2]; dt the step. The probe is the normal node (type 0) whose
// cross-stream velocity varies most in the data over the series.
WakeProbe wake_probe(const at::Tensor& truth, const at::Tensor& predicted, const at::Tensor& node_type,
                     const at::Tensor& pos, double dt);

// wake_probe in two parts, for a rollout whose predicted states are not kept (stream_rollout):
// the probe node over the first `states` states of the data (-1 as in WakeProbe), then the probe
// from the node's cross-stream signals in the data and in the prediction ([states] doubles).
int64_t wake_probe_node(const at::Tensor& truth, const at::Tensor& node_type, int64_t states);
WakeProbe wake_probe_at(int64_t node, const at::Tensor& pos, const at::Tensor& true_signal,
                        const at::Tensor& predicted_signal, double dt);

// The probe's signal: the cross-stream velocity of `node` over the first `steps` states of
// `velocity` [T, N, 2], as [steps] doubles on the host.
at::Tensor cross_stream_signal(const at::Tensor& velocity, int64_t node, int64_t steps);

// Dominant frequency of a uniformly sampled signal [n] with spacing dt: the largest peak of the
// Hann-windowed spectrum of the mean-free signal (zero-padded to 8 n), refined by a parabola
// through the log magnitudes of the three bins around it. 0 for fewer than 4 samples or a
// constant signal.
double dominant_frequency(const at::Tensor& signal, double dt);

}  // namespace tessera::train
