// Staggered decomposition of a periodic N×N field into s² coarse sub-grids, the spatial split of
// NeuralStagger (docs/references.md §9): piece p = i·s + j is field[..., i::s, j::s], an
// (N/s)×(N/s) grid offset by (i, j) fine cells. Merging interleaves the pieces back; the round trip
// is exact (pure index permutation, pixel (un)shuffle).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace tessera::physics {

// [..., N, N] -> [..., s², N/s, N/s]. Throws tessera::Error unless s >= 1 divides N.
at::Tensor stagger_split(const at::Tensor& field, int64_t s);
// [..., s², n, n] -> [..., s n, s n], the inverse of stagger_split.
at::Tensor stagger_merge(const at::Tensor& pieces, int64_t s);

}  // namespace tessera::physics
