// A flow case (tessera-cfd, job: case): steady or transient Navier–Stokes on a mesh, force
// coefficients over time, field output for ParaView.
//
// Outputs under output.dir/output.name:
//   <name>.xmf + <name>_*.h5    velocity, pressure, vorticity, node_type every output.every steps
//   <name>.pvd + <name>_<k>.vtu  the same as VTK XML (output.vtu)
//   <name>_forces.csv            step, time, c_D, c_L, delta_p, linear iterations, seconds
//   <name>_summary.csv           the case's characteristic values (see CaseResult)
// The CSV files are rewritten atomically at each output step and when the run stops, so a run
// that fails keeps valid files of everything before the failing step.
#pragma once
#include <cstdint>
#include <memory>

#include "core/comm.hpp"
#include "jobs/cfd_options.hpp"
#include "mesh/mesh.hpp"

namespace spdlog {
class logger;
}

namespace tessera::jobs {

struct CaseResult {
  bool steady = true;
  int64_t dofs = 0, cells = 0, steps = 0;
  double seconds = 0;
  // Steady: final values. Transient: maxima over t >= analysis.start, their times, and the
  // Strouhal number D f / U of the lift oscillation (NaN if the lift did not oscillate steadily, or
  // the inflow varies in time); delta_p at the last step.
  double c_d = 0, c_l = 0, delta_p = 0, strouhal = 0;
  double c_d_time = 0, c_l_time = 0;
  double mean_linear_iterations = 0;
};

// Runs the case; collective over `comm`. Throws tessera::Error naming the step and the cause
// when a step fails (linear solver, non-finite values, CFL above time.max_cfl). Errors about a
// setting (the mesh, forces.group, forces.pressure_points) carry its key (run_app locates it in the deck).
CaseResult run_case(const CaseOptions& options, const mesh::Mesh& mesh, const Comm& comm,
                    const std::shared_ptr<spdlog::logger>& log);

}  // namespace tessera::jobs
