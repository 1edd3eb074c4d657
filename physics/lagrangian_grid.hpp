// Evaluation of a Lagrangian prediction on the fixed grid (docs/references.md §8): the LPINN gives
// u at moving points x_L(x0, t); at every time the points are wrapped into [0, L) (x_L mod L),
// sorted, and u is interpolated linearly, periodically, onto x_j = L j / N.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <numbers>

namespace tessera::physics {

// x_l, u: [K, M] (M ≥ 2 trajectories at K times; any real positions) -> [K, n], double, CPU.
// Throws tessera::Error for mismatched shapes or fewer than 2 points per row.
at::Tensor lagrangian_to_grid(const at::Tensor& x_l, const at::Tensor& u, int64_t n,
                              double period = 2 * std::numbers::pi);

}  // namespace tessera::physics
