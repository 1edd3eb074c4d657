#include "train/evaluate.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>

namespace tessera::train {
namespace {

double combine(const std::vector<double>& per_step, int64_t first) {
  const int64_t n = std::min<int64_t>(first, per_step.size());
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += per_step[i] * per_step[i];
  return n ? std::sqrt(s / n) : 0.0;
}

}  // namespace

at::Tensor predict_bundle(Simulator& model, const Normalizers& norms, const TrajectoryData& t, const at::Tensor& v) {
  at::Tensor delta = norms.target.inverse(model.forward(norms.node.normalize(node_features(v, t)), t));
  // [N, 2K] -> [K, N, 2]: step j's change is channels 2j, 2j + 1.
  delta = delta.view({v.size(0), model.bundle(), kOutputChannels}).transpose(0, 1);
  return v.unsqueeze(0) + delta;
}

at::Tensor predict_next(Simulator& model, const Normalizers& norms, const TrajectoryData& t, const at::Tensor& v) {
  return predict_bundle(model, norms, t, v)[0];
}

at::Tensor predict_next_imposed(Simulator& model, const Normalizers& norms, const TrajectoryData& t,
                                const at::Tensor& v, const at::Tensor& next) {
  return at::where(t.fixed_mask.unsqueeze(1), next, predict_next(model, norms, t, v));
}

OneStepError one_step_error(Simulator& model, const Normalizers& norms, const std::vector<TrajectoryData>& data,
                            int64_t stride, int64_t steps, const std::function<void()>& after_trajectory) {
  c10::InferenceMode inference;  // no autograd records, no version counters: outputs are for metrics only
  double se = 0, sp = 0;
  int64_t count = 0;
  for (const auto& t : data) {
    for (int64_t s = 0; s + 1 < t.steps() && (steps < 0 || s < steps); s += std::max<int64_t>(stride, 1)) {
      at::Tensor v = t.velocity[s], truth = t.velocity[s + 1];
      se += (predict_next_imposed(model, norms, t, v, truth) - truth).pow(2).mean().item<double>();
      sp += (v - truth).pow(2).mean().item<double>();
      ++count;
    }
    if (after_trajectory) after_trajectory();
  }
  return {std::sqrt(se / std::max<int64_t>(count, 1)), std::sqrt(sp / std::max<int64_t>(count, 1))};
}

double Rollout::rmse_over(int64_t first) const { return combine(rmse, first); }
double Rollout::persistence_over(int64_t first) const { return combine(persistence_rmse, first); }

int64_t first_non_finite_state(const at::Tensor& states) {
  if (states.numel() == 0) return -1;
  const at::Tensor finite = at::isfinite(states).reshape({states.size(0), -1}).all(1);
  const at::Tensor bad = at::nonzero(finite.logical_not());
  return bad.numel() == 0 ? -1 : bad[0][0].item<int64_t>();
}

namespace {

// Global [N, 2] state from each rank's owned rows, on every rank (the state itself when the
// trajectory is whole).
// Returned on the host, where outputs are written.
at::Tensor assemble(const at::Tensor& local_any, const TrajectoryData& t, const Comm& comm) {
  at::Tensor local = local_any.cpu();
  if (!t.partitioned()) return local;
  at::Tensor g = at::zeros({t.global_nodes, local.size(1)}, local.options());
  g.index_copy_(0, t.global_ids.narrow(0, 0, t.num_owned), local.narrow(0, 0, t.num_owned));
  comm.allreduce_sum(g.data_ptr<float>(), g.numel());
  return g;
}

// RMSE over the whole graph from each rank's owned rows (all rows of a whole trajectory).
double global_rms(const at::Tensor& a, const at::Tensor& b, const TrajectoryData& t, const Comm& comm) {
  double se = (a.narrow(0, 0, t.num_owned) - b.narrow(0, 0, t.num_owned)).pow(2).sum().item<double>();
  comm.allreduce_sum(&se, 1);
  return std::sqrt(se / double(t.global_nodes * a.size(1)));
}

}  // namespace

Rollout stream_rollout(Simulator& model, const Normalizers& norms, const TrajectoryData& t, int64_t steps,
                       const Comm& comm, const RolloutStates& on_state, const std::function<void()>& on_step) {
  c10::InferenceMode inference;  // no autograd records, no version counters: outputs are for metrics only
  steps = std::min<int64_t>(steps, t.steps() - 1);
  Rollout r;
  at::Tensor state = t.velocity[0];
  auto hand_on = [&](int64_t k) {
    const at::Tensor global = assemble(state, t, comm);
    if (r.non_finite_from < 0 && !at::isfinite(global).all().item<bool>()) r.non_finite_from = k;
    on_state(k, global);
  };
  hand_on(0);
  const at::Tensor fixed = t.fixed_mask.unsqueeze(1);
  const int64_t bundle = model.bundle();
  for (int64_t s = 0; s < steps;) {
    const at::Tensor next = predict_bundle(model, norms, t, state);
    const int64_t used = std::min(bundle, steps - s);
    for (int64_t j = 0; j < used; ++j, ++s) {
      state = at::where(fixed, t.velocity[s + 1], next[j]);
      hand_on(s + 1);
      r.rmse.push_back(global_rms(state, t.velocity[s + 1], t, comm));
      r.persistence_rmse.push_back(global_rms(t.velocity[0], t.velocity[s + 1], t, comm));
      if (on_step) on_step();
    }
    // On a partition owned rows are exact (the halo is as deep as the model); refresh the halo of
    // the state that feeds the next pass.
    if (t.partitioned()) state = (*t.halo)(state);
  }
  return r;
}

Rollout rollout(Simulator& model, const Normalizers& norms, const TrajectoryData& t, int64_t steps, const Comm& comm,
                const std::function<void()>& on_step) {
  std::vector<at::Tensor> states;
  Rollout r = stream_rollout(
      model, norms, t, steps, comm, [&](int64_t, const at::Tensor& state) { states.push_back(state); }, on_step);
  r.predicted = at::stack(states);
  return r;
}

}  // namespace tessera::train
