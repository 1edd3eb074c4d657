// Prediction, one-step error and autoregressive rollouts of a trained mesh simulator.
// RMSE over all nodes and both velocity components, as in MeshGraphNets (docs/references.md §2).
// Rollouts impose the true velocity on fixed nodes (inflow, walls) every step (§3).
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

#include "train/mesh_data.hpp"
#include "train/normalizer.hpp"
#include "train/simulator.hpp"

namespace tessera::train {

struct Normalizers {
  Normalizer node, target;
  // Empty statistics for node_features() inputs and velocity-change targets (`bundle` steps of
  // them side by side: model.bundle).
  static Normalizers fresh(int64_t bundle = 1) {
    return {Normalizer("node", kNodeFeatures), Normalizer("target", kOutputChannels * bundle)};
  }
};

// v_{t+1} .. v_{t+K} predicted from v_t ([N, 2]) in one forward pass, K = model.bundle(): [K, N, 2];
// no boundary imposition.
at::Tensor predict_bundle(Simulator& model, const Normalizers& norms, const TrajectoryData& t, const at::Tensor& v);
// v_{t+1} predicted from v_t ([N, 2]); the first step of a bundle. No boundary imposition.
at::Tensor predict_next(Simulator& model, const Normalizers& norms, const TrajectoryData& t, const at::Tensor& v);
// The same with the imposed (fixed) nodes set to the data's v_{t+1}, `next`, as a rollout's step
// does: the loss never trains the model's outputs there. What the 1-step errors measure.
at::Tensor predict_next_imposed(Simulator& model, const Normalizers& norms, const TrajectoryData& t,
                                const at::Tensor& v, const at::Tensor& next);

struct OneStepError {
  double model_rmse = 0, persistence_rmse = 0;  // persistence: v_{t+1} = v_t
};
// Over every `stride`-th step of each trajectory, from the states 0 .. steps - 1 (steps < 0: all;
// the rollout apps pass rollout.steps, so that it covers the steps their rollout does); imposed
// (fixed) nodes take the data's values, as in the first step of a rollout, so the 1-step RMSE is
// the rollout's step-1 RMSE from every state.
// `after_trajectory`, if given, is called after each trajectory (progress).
OneStepError one_step_error(Simulator& model, const Normalizers& norms, const std::vector<TrajectoryData>& data,
                            int64_t stride = 1, int64_t steps = -1, const std::function<void()>& after_trajectory = {});

struct Rollout {
  // [steps + 1, N, 2] on the host, from the true v_0; undefined from stream_rollout, which hands
  // the states on instead of keeping them.
  at::Tensor predicted;
  std::vector<double> rmse, persistence_rmse;  // per step 1..steps
  // The first step whose predicted state is not finite (NaN or Inf: the model diverged), or -1.
  // Set by whoever makes the states (stream_rollout as it hands them on; first_non_finite_state
  // of the states where a rollout is assembled from kept ones: a batch's part, the hybrid).
  int64_t non_finite_from = -1;
  double rmse_over(int64_t first_steps) const;  // RMSE over steps 1..first_steps (all if larger)
  double persistence_over(int64_t first_steps) const;
};
// The first k whose states[k] (any shape) is not all finite, or -1.
int64_t first_non_finite_state(const at::Tensor& states);
// A bundling model (model.bundle K) advances K steps per forward pass; boundary nodes are imposed
// on each and the last feeds the next pass.
// On a partitioned trajectory (collective over `comm`): each rank advances the nodes it owns,
// refreshes its halo from their owners after every step, and `predicted` is the assembled global
// state on every rank; errors are over the whole graph. Equal to the single-process rollout.
// `on_step`, when given, is called after each step (a progress line).
Rollout rollout(Simulator& model, const Normalizers& norms, const TrajectoryData& t, int64_t steps,
                const Comm& comm = Comm::self(), const std::function<void()>& on_step = {});

// Each state of a rollout as it is made: k = 0 (the true v_0) .. steps, the global [N, 2] state on
// the host, on every rank.
using RolloutStates = std::function<void(int64_t k, const at::Tensor& state)>;
// The same rollout, handing each state to `on_state` instead of keeping them (`predicted` stays
// undefined): its memory does not grow with the steps, which a long rollout on a large mesh needs
// (10,000 steps of 100,000 nodes are 8 GB of float states).
Rollout stream_rollout(Simulator& model, const Normalizers& norms, const TrajectoryData& t, int64_t steps,
                       const Comm& comm, const RolloutStates& on_state, const std::function<void()>& on_step = {});

}  // namespace tessera::train
