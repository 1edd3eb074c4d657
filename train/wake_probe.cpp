#include "train/wake_probe.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "mesh/mesh.hpp"

namespace tessera::train {

double dominant_frequency(const at::Tensor& signal, double dt) {
  const at::Tensor x = signal.detach().to(at::kCPU, at::kDouble).reshape(-1);
  const int64_t n = x.numel();
  if (n < 4) return 0.0;
  const at::Tensor centred = x - x.mean();
  const double scale = std::max(1.0, x.abs().max().item<double>());
  if (centred.abs().max().item<double>() <= 1e-12 * scale) return 0.0;
  // A window keeps the leakage of a non-integer number of periods away from the peak; the zero
  // padding samples the spectrum finely enough for the parabola to be accurate.
  const int64_t padded = 8 * n;
  const at::Tensor spectrum =
      at::fft_rfft(centred * at::hann_window(n, /*periodic=*/false, at::kDouble), padded).abs().contiguous();
  const double* s = spectrum.data_ptr<double>();
  const int64_t bins = spectrum.numel();
  int64_t k = 1;  // bin 0 is the (removed) mean
  for (int64_t i = 2; i < bins; ++i)
    if (s[i] > s[k]) k = i;
  double shift = 0;
  if (k + 1 < bins && s[k - 1] > 0 && s[k + 1] > 0) {
    const double a = std::log(s[k - 1]), b = std::log(s[k]), c = std::log(s[k + 1]);
    const double curvature = a - 2 * b + c;
    if (curvature < 0) shift = std::clamp(0.5 * (a - c) / curvature, -0.5, 0.5);
  }
  return (static_cast<double>(k) + shift) / (static_cast<double>(padded) * dt);
}

at::Tensor cross_stream_signal(const at::Tensor& velocity, int64_t node, int64_t steps) {
  return velocity.narrow(0, 0, steps).select(2, 1).select(1, node).to(at::kCPU, at::kDouble).contiguous();
}

int64_t wake_probe_node(const at::Tensor& truth, const at::Tensor& node_type, int64_t states) {
  states = std::min(states, truth.size(0));
  if (states < 4) return -1;
  const at::Tensor true_v = truth.narrow(0, 0, states).select(2, 1).to(at::kCPU, at::kDouble);  // [states, N]
  const at::Tensor normal = node_type.to(at::kCPU) == mesh::kNormal;
  if (!normal.any().item<bool>()) return -1;
  // Variance over time of each node's cross-stream velocity; other node types never qualify.
  const at::Tensor variance = at::where(normal, true_v.var(0, /*unbiased=*/false), at::full({}, -1.0, at::kDouble));
  return variance.argmax().item<int64_t>();
}

WakeProbe wake_probe_at(int64_t node, const at::Tensor& pos, const at::Tensor& t, const at::Tensor& m, double dt) {
  WakeProbe p;
  if (node < 0) return p;
  p.node = node;
  const at::Tensor where = pos.to(at::kCPU, at::kDouble)[node];
  p.x = where[0].item<double>();
  p.y = where[1].item<double>();
  const int64_t steps = std::min(t.size(0), m.size(0));
  const auto resolved = [&](double f) {
    if (f == 0) return f;
    const bool resolved =
        f * static_cast<double>(steps) * dt >= kWakeProbeMinPeriods && f * dt * kWakeProbeMinSamplesPerPeriod <= 1.0;
    return resolved ? f : NAN;
  };
  p.frequency_true = resolved(dominant_frequency(t, dt));
  p.frequency_pred = resolved(dominant_frequency(m, dt));
  p.amplitude_true = t.std(/*unbiased=*/false).item<double>();
  p.amplitude_pred = m.std(/*unbiased=*/false).item<double>();
  return p;
}

WakeProbe wake_probe(const at::Tensor& truth, const at::Tensor& predicted, const at::Tensor& node_type,
                     const at::Tensor& pos, double dt) {
  const int64_t steps = std::min(truth.size(0), predicted.size(0));
  const int64_t node = wake_probe_node(truth, node_type, steps);
  if (node < 0) return {};
  return wake_probe_at(node, pos, cross_stream_signal(truth, node, steps), cross_stream_signal(predicted, node, steps),
                       dt);
}

}  // namespace tessera::train
