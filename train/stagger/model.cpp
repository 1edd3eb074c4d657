#include "train/stagger/model.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "core/allgather.hpp"
#include "core/error.hpp"
#include "core/malloc_policy.hpp"
#include "physics/stagger.hpp"

namespace tessera::train::stagger {

int64_t feature_channels(const StaggerOptions& o) {
  const int64_t fields = 1 + (o.velocity_inputs ? 2 : 0) + (o.physics.forcing ? 1 : 0);
  return fields * o.s * o.s;
}

FeatureScales measure_scales(const StaggerOptions& o, int64_t samples, uint64_t seed) {
  const physics::PeriodicGrid grid(o.n);
  const at::Tensor w = physics::random_vorticity(grid, o.initial, samples, seed);
  const auto rms = [](const at::Tensor& t) { return std::sqrt(t.square().mean().item<double>()); };
  FeatureScales s;
  s.vorticity = rms(w);
  const physics::Velocity v = grid.velocity(w);
  s.velocity = std::sqrt(0.5 * (v.u.square().mean() + v.v.square().mean()).item<double>());
  if (o.physics.forcing) s.forcing = rms(physics::kolmogorov_forcing(grid, *o.physics.forcing));
  s.tendency = rms(physics::vorticity_rhs(grid, o.physics, w));
  for (double* x : {&s.vorticity, &s.velocity, &s.forcing, &s.tendency})
    if (!(*x > 0) || !std::isfinite(*x)) *x = 1;
  return s;
}

StaggerModel::StaggerModel(const StaggerOptions& o, const FeatureScales& scales, const at::TensorOptions& to)
    : options_(o),
      scales_(scales),
      grid_(o.n),
      bank_(CoarseSolverShape{o.solvers(), feature_channels(o), o.width, o.blocks, o.kernel}, to) {
  o.validate();
  // Every round allocates and frees the solvers' activations (megabytes each at N = 128): with
  // glibc's default thresholds they were unmapped and page-faulted in afresh each round, 0.6-2.5
  // million faults per rank in a bench_stagger run (docs/neuralstagger.md).
  core::retain_freed_memory();
  if (o.physics.forcing)
    forcing_pieces_ = physics::stagger_split(
        physics::kolmogorov_forcing(grid_, *o.physics.forcing, to.requires_grad(false)).unsqueeze(0) / scales_.forcing,
        o.s);
}

at::Tensor StaggerModel::features(const at::Tensor& w) const {
  grid_.check_field(w, "state");
  if (w.dim() != 3) throw Error(cat("stagger model: states must be [B, N, N], got ", w.sizes()));
  const int64_t s = options_.s;
  std::vector<at::Tensor> channels{physics::stagger_split(w / scales_.vorticity, s)};
  if (options_.velocity_inputs) {
    const physics::Velocity v = grid_.velocity(w);
    channels.push_back(physics::stagger_split(v.u / scales_.velocity, s));
    channels.push_back(physics::stagger_split(v.v / scales_.velocity, s));
  }
  if (forcing_pieces_.defined()) channels.push_back(forcing_pieces_.expand({w.size(0), -1, -1, -1}));
  return at::cat(channels, 1);
}

at::Tensor StaggerModel::solve(const at::Tensor& w, const at::Tensor& features, int64_t first, int64_t last) const {
  const int64_t s2 = options_.s * options_.s;
  const at::Tensor out = bank_.forward(features, first, last);  // [B, g, n, n]
  if (last == first) return out;
  // Residual form: the piece of ω_t each solver advances, times (τ + 1) ∆t · scale.
  const at::Tensor pieces = physics::stagger_split(w, options_.s);  // [B, s², n, n]
  std::vector<int64_t> which, tau;
  for (int64_t g = first; g < last; ++g) {
    which.push_back(g % s2);
    tau.push_back(g / s2 + 1);
  }
  const at::Tensor idx = at::tensor(which, at::kLong).to(w.device());
  const at::Tensor steps =
      at::tensor(std::vector<double>(tau.begin(), tau.end()), w.options().requires_grad(false)).view({1, -1, 1, 1});
  return pieces.index_select(1, idx) + out * (steps * (options_.physics.dt * scales_.tendency));
}

at::Tensor StaggerModel::assemble(const at::Tensor& pieces) const {
  const int64_t s2 = options_.s * options_.s, T = options_.T;
  if (pieces.dim() != 4 || pieces.size(1) != s2 * T)
    throw Error(cat("stagger model: expected [B, ", s2 * T, ", n, n] pieces, got ", pieces.sizes()));
  std::vector<at::Tensor> states;
  for (int64_t tau = 0; tau < T; ++tau)
    states.push_back(physics::stagger_merge(pieces.narrow(1, tau * s2, s2), options_.s));
  return at::stack(states, 0);
}

at::Tensor StaggerModel::forward(const at::Tensor& w) const {
  return assemble(solve(w, features(w), 0, options_.solvers()));
}

std::pair<int64_t, int64_t> StaggerModel::solver_range(int rank, int ranks) const {
  const int64_t G = options_.solvers(), base = G / ranks, extra = G % ranks;
  const int64_t first = rank * base + std::min<int64_t>(rank, extra);
  return {first, first + base + (rank < extra ? 1 : 0)};
}

at::Tensor StaggerModel::forward_distributed(const at::Tensor& w, const Comm& comm) const {
  if (comm.size() == 1) return forward(w);
  const auto [first, last] = solver_range(comm.rank(), comm.size());
  const int64_t B = w.size(0), n = options_.coarse_n(), per_piece = n * n;
  // Each rank's pieces laid out solver-major ([g, B, n, n]) so the gathered buffer is [G, B, n, n].
  const at::Tensor mine = solve(w, features(w), first, last).transpose(0, 1).contiguous();
  std::vector<int64_t> counts(comm.size());
  for (int r = 0; r < comm.size(); ++r) {
    const auto [a, b] = solver_range(r, comm.size());
    counts[r] = (b - a) * B * per_piece;
  }
  at::Tensor all = at::empty({options_.solvers(), B, n, n}, w.options());
  const at::Tensor send = mine.cpu(), recv = all.cpu();
  if (w.scalar_type() == at::kDouble)
    allgatherv(comm, send.data_ptr<double>(), recv.data_ptr<double>(), counts);
  else if (w.scalar_type() == at::kFloat)
    allgatherv(comm, send.data_ptr<float>(), recv.data_ptr<float>(), counts);
  else
    throw Error(cat("stagger model: distributed rounds need float or double states, got ", w.scalar_type()));
  return assemble(recv.to(w.device()).transpose(0, 1));
}

}  // namespace tessera::train::stagger
