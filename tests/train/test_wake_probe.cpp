// The wake probe of rollouts (train/wake_probe): dominant frequency and amplitude against
// sinusoids of known frequency and amplitude.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "train/wake_probe.hpp"

using namespace tessera;

TEST_CASE("dominant frequency of sampled signals", "[train][wake]") {
  const double dt = 0.01;
  const at::Tensor t = at::arange(600, at::kDouble) * dt;
  // A non-integer number of periods over the window, with an offset.
  CHECK(train::dominant_frequency(0.4 + at::sin(2 * M_PI * 3.1 * t + 0.3), dt) == Approx(3.1).margin(2e-3));
  // The larger of two components.
  const at::Tensor two = 0.3 * at::sin(2 * M_PI * 7.0 * t) + at::cos(2 * M_PI * 1.7 * t);
  CHECK(train::dominant_frequency(two, dt) == Approx(1.7).margin(2e-3));
  CHECK(train::dominant_frequency(at::full({600}, 2.5, at::kDouble), dt) == 0.0);
  CHECK(train::dominant_frequency(at::ones({3}, at::kDouble), dt) == 0.0);
}

TEST_CASE("the wake probe takes the normal node of largest cross-stream variation", "[train][wake]") {
  const int64_t steps = 600;
  const double dt = 0.01;
  const at::Tensor t = at::arange(steps, at::kDouble) * dt;
  // Nodes: normal (small oscillation), wall (largest, never a probe), normal (the probe), inflow.
  const at::Tensor node_type = at::tensor({int64_t(0), int64_t(6), int64_t(0), int64_t(4)});
  const at::Tensor pos = at::tensor({0.1, 0.2, 0.0, 0.0, 0.7, 0.15, 0.0, 0.3}, at::kDouble).view({4, 2});
  at::Tensor truth = at::zeros({steps, 4, 2}, at::kDouble);
  truth.select(2, 0).fill_(1.0);
  truth.select(2, 1).select(1, 0).copy_(0.1 * at::sin(2 * M_PI * 2.0 * t));
  truth.select(2, 1).select(1, 1).copy_(5.0 * at::sin(2 * M_PI * 4.0 * t));
  truth.select(2, 1).select(1, 2).copy_(0.5 * at::sin(2 * M_PI * 3.0 * t));
  at::Tensor predicted = truth.clone();
  predicted.select(2, 1).select(1, 2).copy_(0.25 * at::sin(2 * M_PI * 3.3 * t));
  const train::WakeProbe p = train::wake_probe(truth.to(at::kFloat), predicted.to(at::kFloat), node_type, pos, dt);
  CHECK(p.node == 2);
  CHECK(p.x == Approx(0.7));
  CHECK(p.y == Approx(0.15));
  CHECK(p.frequency_true == Approx(3.0).margin(2e-3));
  CHECK(p.frequency_pred == Approx(3.3).margin(2e-3));
  CHECK(p.amplitude_true == Approx(0.5 / std::sqrt(2.0)).epsilon(1e-3));  // 18 whole periods
  CHECK(p.amplitude_pred == Approx(0.25 / std::sqrt(2.0)).epsilon(2e-2));
  // A series shorter than two periods: the probe, its amplitude, but no frequency (with 10
  // samples, 0.3 of a period, the spectrum's peak would be an artefact).
  const train::WakeProbe short_probe =
      train::wake_probe(truth.narrow(0, 0, 10), predicted.narrow(0, 0, 10), node_type, pos, dt);
  CHECK(short_probe.node == 2);
  CHECK(std::isnan(short_probe.frequency_true));
  CHECK(std::isnan(short_probe.frequency_pred));
  CHECK(std::isfinite(short_probe.amplitude_true));
  // Two and a half periods of the data are enough for its frequency (within a bin of 1/(8 n dt)).
  const train::WakeProbe enough =
      train::wake_probe(truth.narrow(0, 0, 84), predicted.narrow(0, 0, 84), node_type, pos, dt);
  CHECK(enough.frequency_true == Approx(3.0).margin(0.15));
  // Four samples of a trend peak at the Nyquist frequency (they hold exactly two "periods" of it):
  // not a frequency (tessera-rollout reported 50 Hz against 50 Hz, a 0% error, for 3 steps).
  at::Tensor trend = truth.narrow(0, 0, 4).clone();
  trend.select(2, 1).select(1, 2).copy_(at::tensor({-0.144, 0.039, 0.231, 0.415}, at::kDouble));
  CHECK(train::dominant_frequency(trend.select(2, 1).select(1, 2), dt) == Approx(50.0).margin(1.0));
  const train::WakeProbe four = train::wake_probe(trend, trend, node_type, pos, dt);
  CHECK(four.node == 2);
  CHECK(std::isnan(four.frequency_true));
  CHECK(std::isnan(four.frequency_pred));
  // Too short a series, or no normal node: no probe.
  CHECK(train::wake_probe(truth.narrow(0, 0, 3), predicted, node_type, pos, dt).node == -1);
  CHECK(std::isnan(train::wake_probe(truth.narrow(0, 0, 3), predicted, node_type, pos, dt).frequency_true));
  CHECK(train::wake_probe(truth, predicted, at::full({4}, int64_t(6)), pos, dt).node == -1);
}
