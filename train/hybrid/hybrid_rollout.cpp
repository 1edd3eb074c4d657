#include "train/hybrid/hybrid_rollout.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "train/hybrid/indicator.hpp"

namespace tessera::train::hybrid {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<double> to_doubles(const at::Tensor& t) {
  at::Tensor c = t.to(at::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

at::Tensor from_doubles(std::vector<double> v, int64_t nodes) {
  return at::from_blob(v.data(), {nodes, 2}, at::kDouble).to(at::kFloat);  // .to copies out of `v`
}

// Rank 0's surrogate states [J, N, 2] on every rank (exactly: the other ranks add zeros).
at::Tensor share(at::Tensor on_root, int64_t nodes, const Comm& comm) {
  if (comm.root()) {
    if (on_root.dim() == 2) on_root = on_root.unsqueeze(0);
    if (on_root.dim() != 3 || on_root.size(0) < 1 || on_root.size(1) != nodes || on_root.size(2) != 2)
      throw Error(cat("hybrid_rollout: the surrogate returned ", on_root.sizes(), ", expected [J, ", nodes, ", 2]"));
  }
  if (comm.size() == 1) return on_root;
  int64_t count = comm.root() ? on_root.size(0) : 0;
  comm.allreduce_max(&count, 1);
  at::Tensor g = comm.root() ? on_root.to(at::kFloat).contiguous().clone() : at::zeros({count, nodes, 2}, at::kFloat);
  comm.allreduce_sum(g.data_ptr<float>(), g.numel());
  return g;
}

// As train::rollout measures it: over all nodes and both components.
double rms(const at::Tensor& a, const at::Tensor& b) {
  const double se = (a - b).pow(2).sum().item<double>();
  return std::sqrt(se / double(a.size(0) * a.size(1)));
}

}  // namespace

SurrogateStep model_step(Simulator& model, const Normalizers& norms, const TrajectoryData& on_device) {
  return [&model, &norms, &on_device](const at::Tensor& state, int64_t step) {
    const at::Tensor fixed = on_device.fixed_mask.unsqueeze(1);
    const at::Tensor v = state.to(on_device.velocity.device());
    const at::Tensor next = predict_bundle(model, norms, on_device, v);
    const int64_t used = std::min<int64_t>(next.size(0), on_device.steps() - 1 - step);
    // Boundary values of each of the bundle's steps, as train::rollout imposes them.
    return at::where(fixed, on_device.velocity.narrow(0, step + 1, used), next.narrow(0, 0, used)).cpu();
  };
}

int64_t HybridResult::solver_steps() const { return std::count(by_solver.begin(), by_solver.end(), char(1)); }
double HybridResult::solver_fraction() const {
  return by_solver.empty() ? 0.0 : double(solver_steps()) / double(by_solver.size());
}

HybridResult hybrid_rollout(const Schedule& schedule, const SurrogateStep& surrogate, solvers::NavierStokes& solver,
                            const TrajectoryData& truth, int64_t steps, double dt, const Comm& comm,
                            const std::function<void()>& on_step) {
  check_schedule(schedule);
  const bool fixed = schedule.trigger == Trigger::Fixed;
  const int64_t K = schedule.surrogate_steps, M = schedule.solver_steps;
  // M = 0 is the surrogate alone, whatever K (K = 0 as well: the deck warns that K has no effect).
  if (!surrogate && !(fixed && K == 0 && M > 0)) throw Error("hybrid_rollout: the schedule needs a surrogate");
  at::NoGradGuard no_grad;
  steps = std::min<int64_t>(steps, truth.steps() - 1);
  const int64_t nodes = truth.nodes();
  const auto start = Clock::now();
  HybridResult r;
  const at::Tensor v0 = truth.velocity[0].contiguous();
  at::Tensor state = v0;
  std::vector<at::Tensor> states{state};
  at::Tensor pending;  // the surrogate's last pass: states not yet taken (from `taken` on)
  int64_t taken = 0;
  int64_t in_cycle = 0;             // surrogate steps since the solver last ran
  int64_t solver_left = 0;          // solver steps still due in this cycle
  bool solver_holds_state = false;  // the solver's own state is the current one: no hand-over
  // K caps the surrogate's run, except for a divergence trigger with K = 0.
  const bool capped = fixed || K > 0;
  for (int64_t s = 0; s < steps; ++s) {
    if (solver_left == 0 && M > 0 && capped && in_cycle >= K) solver_left = M;
    double indicator = 0, proposed = std::numeric_limits<double>::quiet_NaN();
    if (solver_left == 0) {
      const auto t0 = Clock::now();
      if (!pending.defined() || taken == pending.size(0)) {
        pending = share(comm.root() ? surrogate(state, s) : at::Tensor(), nodes, comm);
        taken = 0;
      }
      const at::Tensor next = pending[taken++];
      if (!fixed) indicator = divergence_indicator(truth.mesh, to_doubles(next));
      r.surrogate_seconds += since(t0);
      if (fixed) indicator = divergence_indicator(truth.mesh, to_doubles(next));  // for the record only
      proposed = indicator;
      if (!fixed && !(indicator <= schedule.threshold)) {  // NaN (a diverged state) too
        ++r.rejected;                                      // this step is the solver's
        solver_left = M;                                   // the solver branch below drops the rest of the pass
      } else {
        state = next;
        ++in_cycle;
        solver_holds_state = false;
        r.by_solver.push_back(0);
      }
    }
    if (solver_left > 0) {
      pending = at::Tensor();  // the solver's state replaces the surrogate's: its later steps are void
      const auto t0 = Clock::now();
      if (!solver_holds_state) {
        std::vector<double> handed = to_doubles(state);
        if (!std::all_of(handed.begin(), handed.end(), [](double x) { return std::isfinite(x); })) {
          r.stopped_by =
              Error(cat("hybrid rollout: the surrogate's state before step ", s + 1,
                        " is not finite (NaN or Inf), so the solver cannot take over: the surrogate ",
                        "diverged (a divergence trigger, hybrid.trigger: divergence, hands over before that)"));
          break;
        }
        solver.set_vertex_velocity(std::move(handed));
      }
      try {
        solver.step(dt);
      } catch (const Error& e) {
        // Which step failed, and where its settings come from (the linear solver's: PETSc options).
        // PETSc's failures are collective (every rank sees the same converged reason), so every
        // rank stops here.
        r.stopped_by = Error(
            cat("hybrid rollout: the solver's step ", s + 1, " (t = ", double(s + 1) * dt, ") failed: ", e.what()),
            e.key().empty() ? "solver.petsc_options" : e.key());
        break;
      }
      std::vector<double> u = solver.vertex_velocity();
      r.solver_seconds += since(t0);
      indicator = divergence_indicator(truth.mesh, u);
      state = from_doubles(std::move(u), nodes);
      solver_holds_state = true;
      if (--solver_left == 0) in_cycle = 0;
      r.by_solver.push_back(1);
    }
    r.indicator.push_back(indicator);
    r.surrogate_indicator.push_back(proposed);
    states.push_back(state);
    r.rollout.rmse.push_back(rms(state, truth.velocity[s + 1]));
    r.rollout.persistence_rmse.push_back(rms(v0, truth.velocity[s + 1]));
    if (on_step) on_step();
  }
  r.rollout.predicted = at::stack(states);
  r.rollout.non_finite_from = first_non_finite_state(r.rollout.predicted);
  r.seconds = since(start);
  for (double* t : {&r.surrogate_seconds, &r.solver_seconds, &r.seconds}) comm.allreduce_max(t, 1);
  return r;
}

}  // namespace tessera::train::hybrid
