// The divergence indicator that triggers the solver: how far a velocity field given at the mesh
// vertices is from divergence-free, as |div u|_L2 / |grad u|_L2 of its piecewise-linear
// interpolant. Dimensionless and independent of the flow's speed and size: 0 for a
// divergence-free linear field, |a + d| / sqrt(a² + b² + c² + d²) for u = (a x + b y, c x + d y).
// The solver's own vertex fields are divergence-free only in the P2 sense, so their indicator
// is small but not zero (docs/hybrid.md shows the levels); the trigger compares against that.
#pragma once
#include <vector>

#include "mesh/mesh.hpp"

namespace tessera::train::hybrid {

// `velocity`: 2 per vertex. 0 when the gradient vanishes (a uniform field).
double divergence_indicator(const mesh::Mesh& mesh, const std::vector<double>& velocity);

}  // namespace tessera::train::hybrid
