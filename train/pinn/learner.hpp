// The learner of the Lagrangian PINN family (docs/pinn.md): a tanh MLP on (cos x, sin x, t) trained
// full batch on the nx × nt collocation grid — Eulerian PINN (one output u) or LPINN (outputs the
// displacement x_L − x0 and u along the characteristic from x0) — with Adam (amsgrad) for
// pinn.adam.steps steps, then libtorch's L-BFGS with strong Wolfe line search. Seeded; checkpoints
// hold parameters, both optimisers' states and the step, so a resumed run is bit-identical.
#pragma once
#include <ATen/core/Tensor.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "physics/fused_tanh_jet.hpp"
#include "train/loop.hpp"
#include "train/pinn/network.hpp"
#include "train/pinn/options.hpp"

namespace torch::optim {
class Optimizer;
}

namespace tessera::train::pinn {

// The prediction on the fixed nx × nt grid ([nt, nx], double, CPU; LPINN: interpolated from the
// moving points x_L mod 2π) and its errors against the reference solution.
struct Evaluation {
  at::Tensor t, x;   // [nt], [nx], as evaluated (an fp32 network's rounded to fp32)
  double t_end = 0;  // the grid's final time as given (t_n = t_end n / (nt − 1) nominally)
  at::Tensor predicted, reference;
  double rel_l2 = 0;        // ||pred − ref||_F / ||ref||_F over the grid
  double rel_spectral = 0;  // the same in the matrix 2-norm (the authors' measure, §8)
};

// The reference solution on the grid: exact for advection and convection–diffusion, Cole–Hopf for
// Burgers ([nt, nx], double).
at::Tensor reference_solution(const physics::Problem1D& p, const at::Tensor& t, const at::Tensor& x);

class PinnLearner : public Learner {
 public:
  PinnLearner(const PinnOptions& options, std::shared_ptr<spdlog::logger> log);
  ~PinnLearner() override;
  double step() override;
  int64_t steps_done() const override { return step_; }
  std::vector<Metric> validate() override;
  void save(const std::string& path) const override;

  // The full-batch loss at the current parameters (differentiable).
  at::Tensor loss();
  // On the training grid (the collocation points).
  Evaluation evaluate();
  // On another grid of the same form: x_j = 2πj/nx, t_n = t_end n/(nt − 1); t_end may exceed the
  // training's T (extrapolation in time). The training grid's values equal evaluate()'s. The
  // network and the reference go a block of whole times at a time; `times_done` is told each
  // block's count (a fine grid's Cole–Hopf reference takes minutes).
  Evaluation evaluate_on(int64_t nx, int64_t nt, double t_end,
                         const std::function<void(int64_t times)>& times_done = {});
  const PinnOptions& options() const { return options_; }
  PinnNetwork& network() { return net_; }
  // Whether step() now runs L-BFGS.
  bool in_lbfgs() const { return step_ >= options_.adam_steps; }
  // Wall seconds the case took in earlier runs, up to the checkpoint this one resumed (0 for a
  // fresh run, or a checkpoint written before 2026-12-06, which did not store them).
  double seconds_before() const { return seconds_before_; }

 private:
  void load(const std::string& path);
  torch::optim::Optimizer& lbfgs();
  // The derivatives each output's residual reads: u_xx only with viscosity, u_x only in the Eulerian
  // residual.
  std::vector<physics::JetOrder> jet_orders() const;
  // What the LPINN's first output is multiplied by to give x_L − x0 (displacement_scale or 1).
  double displacement_unit() const;
  // The outputs at (t, x), [N, outputs]: the network's, or with a hard initial condition
  // g_k(x) + t·N_k (the LPINN's displacement: t·N_0).
  at::Tensor outputs(const at::Tensor& t, const at::Tensor& x);
  // Output k's function of x that the hard form starts from (u0's jet, or {} for the displacement).
  physics::Jet1D start_of_output(int64_t k, const at::Tensor& x) const;

  PinnOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  double seconds_before_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  PinnNetwork net_{nullptr};
  at::Tensor t_, x_;          // the grid axes [nt], [nx] (device, dtype)
  at::Tensor t_all_, x_all_;  // the collocation points, t-major [nt * nx]
  at::Tensor reference_;      // [nt, nx] double CPU
  std::unique_ptr<torch::optim::Optimizer> adam_, lbfgs_;
  int64_t step_ = 0;
  double last_loss_ = 0;
};

}  // namespace tessera::train::pinn
