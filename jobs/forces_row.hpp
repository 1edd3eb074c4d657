// One row of a job: case's forces table (<name>_forces.csv): the step, its time, the force
// coefficients, the pressure difference between the two probes, and the step's linear iterations
// and wall seconds. A restart file carries the rows up to its state, so that a continuation's
// table, plot and analysis cover the whole run, not only its own steps.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::jobs {

struct ForcesRow {
  int64_t step = 0;
  double time = 0, c_d = 0, c_l = 0, delta_p = 0;
  int64_t linear_iterations = 0;
  double seconds = 0;
  std::vector<double> probes;  // u, v, p at each of output.probes' points, in its order
};

// What a forces table's rows are: the time they start at (the run's start, or a restart's whose
// file did not carry the earlier rows), the probe points of their u_k, v_k, p_k columns, and the
// basis of their values (the coefficients' scale 2 / (ρ U_ref² L_ref) and the delta_p points):
// a continuation carries the rows only on the same basis.
struct ForcesTableInfo {
  double from = 0;
  std::vector<std::array<double, 2>> probe_points;
  std::string basis;
};

// The columns of the forces table, and of a restart file's /forces dataset, in this order; then
// u_k, v_k, p_k for each probe point k = 1, 2, ...
inline constexpr const char* kForcesColumns = "step,time,c_d,c_l,delta_p,linear_iterations,seconds";
inline constexpr int kForcesColumnCount = 7;

// The table's header: kForcesColumns and the probes' columns.
inline std::string forces_header(size_t probes) {
  std::string h = kForcesColumns;
  for (size_t k = 1; k <= probes; ++k) {
    const std::string n = std::to_string(k);
    h += ",u_" + n + ",v_" + n + ",p_" + n;
  }
  return h;
}

}  // namespace tessera::jobs
