// One trajectory of job: dataset: its parameters, drawn reproducibly from (dataset.seed, index)
// alone, and the fingerprint that says whether stored data were made with the same settings.
#pragma once
#include <cstdint>
#include <string>

#include "jobs/cfd_options.hpp"

namespace tessera::jobs {

struct FlowSample {
  double center_x = 0, center_y = 0, radius = 0, inflow_speed = 0;
};
// Draws sample `index` uniformly within options.ranges, from options.seed and `index` only.
FlowSample draw_sample(const DatasetOptions& options, int64_t index);

// Re = Ū D / ν, Ū = 2/3 of the parabola's peak.
double reynolds(const DatasetOptions& options, const FlowSample& sample);

// Everything that determines a trajectory's data: a part file made with other settings is
// regenerated rather than reused. Linear-solver settings are left out on purpose: they change
// the data only at the solver tolerance.
std::string fingerprint(const DatasetOptions& options, const FlowSample& sample);

}  // namespace tessera::jobs
