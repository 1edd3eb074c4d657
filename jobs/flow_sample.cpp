#include "jobs/flow_sample.hpp"

#include <sstream>

namespace tessera::jobs {

namespace {
// splitmix64: a fixed, portable generator, so draws do not depend on the standard library.
uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

FlowSample draw_sample(const DatasetOptions& o, int64_t index) {
  uint64_t state = static_cast<uint64_t>(o.seed) * 0x100000001B3ull + static_cast<uint64_t>(index);
  for (int i = 0; i < 4; ++i) splitmix(state);  // decorrelate neighbouring seeds
  auto uniform = [&](const std::array<double, 2>& r) {
    const double u = static_cast<double>(splitmix(state) >> 11) * 0x1.0p-53;
    return r[0] + (r[1] - r[0]) * u;
  };
  FlowSample s;
  s.center_x = uniform(o.ranges.center_x);
  s.center_y = uniform(o.ranges.center_y);
  s.radius = uniform(o.ranges.radius);
  s.inflow_speed = uniform(o.ranges.inflow_speed);
  return s;
}

double reynolds(const DatasetOptions& o, const FlowSample& s) {
  return 2.0 / 3.0 * s.inflow_speed * 2 * s.radius / o.flow.flow.viscosity;
}

std::string fingerprint(const DatasetOptions& o, const FlowSample& s) {
  const solvers::FlowConfig& flow = o.flow.flow;
  std::ostringstream f;
  f.precision(17);
  f << "center " << s.center_x << " " << s.center_y << " radius " << s.radius << " inflow " << s.inflow_speed
    << " profile " << (flow.profile == solvers::FlowConfig::Profile::Uniform ? "uniform" : "parabolic") << " nu "
    << flow.viscosity << " rho " << flow.density << " steps " << o.steps << " dt " << o.dt << " spinup " << o.spinup;
  const mesh::CylinderChannel& c = o.channel;
  f << " length " << c.length << " height " << c.height << " h_near " << c.h_near << " h_far " << c.h_far
    << " transition " << c.transition;
  // The linear solver's settings change the data too (solver.rtol 1e-2 moved velocities by up to
  // 0.8), and were left out: an interrupted dataset resumed with other settings mixed both. Written
  // only where they differ from the defaults (solver.rtol 1e-8, solver.refactor_every 5, no PETSc
  // options), so that datasets made before keep their fingerprint.
  const solvers::LinearSolverConfig& l = o.flow.linear;
  if (l.rtol != 1e-8 || l.refactor_every != 5 || !o.petsc_options.empty())
    f << " rtol " << l.rtol << " refactor_every " << l.refactor_every << " petsc '" << o.petsc_options << "'";
  // Curved cylinder cells (solver.curved_boundaries) came after the datasets above: a dataset of
  // straight cells resumed with curved ones would mix both, so the curved ones say so.
  if (flow.curved_boundaries) f << " curved";
  return f.str();
}

}  // namespace tessera::jobs
