// Options of the Lagrangian PINN family (model.family: pinn; docs/pinn.md, docs/references.md §8):
// formulation (Eulerian PINN or Lagrangian LPINN), the 1D periodic problem, the tanh MLP, the loss
// weights, the optimiser schedule (Adam, then L-BFGS with strong Wolfe line search) and the sweep
// of cases that tessera-train spreads over MPI ranks. Only options.cpp reads the deck.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "physics/residuals_1d.hpp"
#include "physics/taylor_mlp.hpp"

namespace tessera::io {
class Deck;
class Schema;
}  // namespace tessera::io

namespace tessera::train::pinn {

enum class Formulation { Eulerian, Lagrangian };
std::string formulation_name(Formulation f);  // "pinn" or "lpinn"

struct PinnOptions {
  Formulation formulation = Formulation::Lagrangian;
  physics::Problem1D problem;
  physics::TanhMlpOptions network;  // outputs set from the formulation (1 or 2)
  bool separate_branches = true;    // one MLP per output (else one MLP for all; network.hpp)
  int64_t nx = 256, nt = 100;       // collocation = evaluation grid: x_j = 2πj/nx, t_n = T n/(nt − 1)
  // Loss weights of §8: r_x (LPINN only), r_u (or the Eulerian residual), initial conditions.
  double weight_x = 10, weight_u = 1, weight_ic = 1000;
  // LPINN: the network's first output is the displacement in units of displacement_scale(problem)
  // (the largest distance a characteristic travels by T), so it stays O(1) at any speed.
  bool scale_displacement = true;
  bool taylor = true;         // derivatives by the Taylor-mode jet (else torch autograd)
  bool fp64 = false;          // parameters and points in double precision
  int64_t adam_steps = 1000;  // steps of Adam, then L-BFGS steps until train.steps
  int64_t steps = 0;          // train.steps, for the log (0: not known)
  double adam_lr = 1e-2;
  bool amsgrad = true;
  // Outputs in the form g(x0) + t·N (physics/hard_initial_condition.hpp): u = u0 + t·N_u and the
  // LPINN's displacement t·N_x, so the initial conditions hold exactly and their loss terms vanish.
  bool hard_initial_condition = false;
  int64_t lbfgs_iterations = 20;  // L-BFGS iterations per step of the loop
  int64_t lbfgs_history = 50;
  double lbfgs_lr = 1.0;
  int64_t seed = 0;
  std::string device = "cpu";
  std::string resume;     // checkpoint to resume from ("" none)
  std::string deck_yaml;  // the resolved deck, stored in checkpoints
  std::string deck_dir;   // the deck's folder, stored beside it in checkpoints (for its relative paths)
  std::string name;       // the case name (sweeps)
};

// U·T with U = max(1, |c|) (advection, convection–diffusion) or max|u0| = 1 + |C| (Burgers): the
// largest displacement x_L − x0 a characteristic reaches by T (Burgers' speed is bounded by max|u0|).
double displacement_scale(const physics::Problem1D& p);

// A study: the base case and the sweep that varies it.
struct PinnStudy {
  PinnOptions base;
  std::vector<Formulation> formulations;  // pinn.formulation: pinn, lpinn or both
  std::string parameter = "none";         // none, c, offset or nu
  std::vector<double> values;             // the swept values (one 'none' case: empty)
  int64_t threads = 1;                    // torch intra-op threads per rank (0: leave as is)
  bool fresh_start = false;               // output.overwrite: a sweep's cases start afresh, not resumed
};

// Every case of the study, in order (formulation-major), with problem and name set.
std::vector<PinnOptions> study_cases(const PinnStudy& study);

void add_pinn_keys(io::Schema& s);
// `stored`: a resolved deck stored in a checkpoint, where every key is written out, so that a
// sweep's own key is not an error there (in a deck file it would be replaced without a word).
PinnStudy read_pinn_study(const io::Deck& d, bool stored = false);

}  // namespace tessera::train::pinn
