#include "jobs/cfd_case.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "jobs/case_output.hpp"
#include "solvers/navier_stokes.hpp"
#include "solvers/signal.hpp"

namespace tessera::jobs {

namespace {

using solvers::NavierStokes;

// The solver and the two pressure probes, located once (a linear search over the cells).
struct CaseSolver {
  std::unique_ptr<NavierStokes> ns;
  NavierStokes::Probe front, back;
  double delta_p() const { return ns->pressure_at(front) - ns->pressure_at(back); }
};

// Errors about the mesh or forces.group come keyed from the solver; a probe outside the mesh
// is about forces.pressure_points.
CaseSolver build_solver(const CaseOptions& o, const mesh::Mesh& m, const Comm& comm) {
  CaseSolver s;
  s.ns = std::make_unique<NavierStokes>(m, o.flow.flow, comm, o.flow.linear);
  const auto& p = o.forces.pressure_points;
  try {
    s.front = s.ns->probe(p[0], p[1]);
    s.back = s.ns->probe(p[2], p[3]);
  } catch (const Error& e) {
    throw Error(e.what(), "forces.pressure_points");
  }
  return s;
}

// c = coefficient() * F.
double coefficient(const CaseOptions& o) {
  const double u = o.forces.reference_velocity;
  return 2.0 / (o.flow.flow.density * u * u * o.forces.reference_length);
}

// Picard iteration to the steady state: its forces as step 0 of the table, and its fields.
void solve_steady_state(const CaseOptions& o, CaseSolver& s, CaseOutput& out, CaseResult& r, spdlog::logger& log) {
  solvers::SolveInfo info;
  try {
    info = s.ns->solve_steady(o.time.steady_rtol, o.time.steady_max_iterations);
  } catch (const Error& e) {
    throw Error(cat("steady solve: ", e.what()));
  }
  const solvers::Forces f = s.ns->forces();
  const double coef = coefficient(o);
  r.c_d = coef * f.drag;
  r.c_l = coef * f.lift;
  r.delta_p = s.delta_p();
  r.mean_linear_iterations = double(info.linear_iterations) / info.nonlinear_iterations;
  log.info("steady state in {} Picard iterations ({:.2f} s): c_D = {:.6f}, c_L = {:.6f}, delta_p = {:.6f}",
           info.nonlinear_iterations, info.seconds, r.c_d, r.c_l, r.delta_p);
  out.row(0, 0.0, r.c_d, r.c_l, r.delta_p, info.linear_iterations, info.seconds);
  out.fields(*s.ns);
  out.flush_table();
}

// The force coefficients after every time step.
struct History {
  std::vector<double> t, c_d, c_l;
  int64_t linear_iterations = 0;
};

// Time step k; a failure (or a CFL number above time.max_cfl) flushes the table and names the
// step in the error.
solvers::SolveInfo time_step(const CaseOptions& o, NavierStokes& ns, CaseOutput& out, int64_t k) {
  const double dt = o.time.dt, max_cfl = o.flow.max_cfl;
  const double t_next = ns.time() + dt;
  try {
    solvers::SolveInfo info = ns.step(dt);
    const double cfl = ns.max_cfl(dt);
    if (cfl > max_cfl)
      throw Error(cat("CFL number ", cfl, " exceeds time.max_cfl = ", max_cfl, ": the time step ", dt,
                      " is too large for this flow; reduce time.dt"));
    return info;
  } catch (const Error& e) {
    out.flush_table(/*collective=*/false);  // the step may have failed on this rank alone
    // At the first step there are none ("results up to step 0" named a file with its header alone).
    throw Error(cat("step ", k, " (t = ", t_next, "): ", e.what(),
                    k > 1 ? cat("; results up to step ", k - 1, " are in ", out.base(), "_forces.csv") : std::string()),
                e.key());
  }
}

// BDF2 steps to time.end, with fields every output.every steps and at the last one.
History run_transient(const CaseOptions& o, CaseSolver& s, CaseOutput& out, int64_t nsteps,
                      const std::shared_ptr<spdlog::logger>& log, bool root) {
  const double coef = coefficient(o);
  const int64_t every = o.output.every;
  NavierStokes& ns = *s.ns;
  History h;
  core::Progress progress(log, "time steps", nsteps, 10.0, root && core::Progress::is_terminal());
  if (!o.time.from_steady) out.fields(ns);
  for (int64_t k = 1; k <= nsteps; ++k) {
    const solvers::SolveInfo info = time_step(o, ns, out, k);
    const solvers::Forces f = ns.forces();
    h.t.push_back(ns.time());
    h.c_d.push_back(coef * f.drag);
    h.c_l.push_back(coef * f.lift);
    h.linear_iterations += info.linear_iterations;
    out.row(k, ns.time(), h.c_d.back(), h.c_l.back(), s.delta_p(), info.linear_iterations, info.seconds);
    if ((every > 0 && k % every == 0) || k == nsteps) {
      out.fields(ns);
      out.flush_table();
    }
    progress.advance(1, cat("t ", ns.time(), "  c_D ", h.c_d.back(), "  c_L ", h.c_l.back()));
  }
  progress.finish();
  return h;
}

// Maxima and the Strouhal number over t >= analysis.start.
void analyse(const CaseOptions& o, const History& h, int64_t nsteps, CaseResult& r, spdlog::logger& log) {
  const double start = o.time.analysis_start;
  r.steps = nsteps;
  r.c_d = solvers::window_max(h.t, h.c_d, start);
  r.c_l = solvers::window_max(h.t, h.c_l, start);
  std::string why;
  r.strouhal =
      solvers::peak_frequency(h.t, h.c_l, start, &why) * o.forces.reference_length / o.forces.reference_velocity;
  if (std::isnan(r.strouhal))
    log.warn(
        "St not determined: c_L after analysis.start = {} has {} (a steady flow, a start-up transient, or a window "
        "shorter than two periods: raise time.end or analysis.start); the summary writes nan",
        start, why);
  r.mean_linear_iterations = double(h.linear_iterations) / std::max<int64_t>(nsteps, 1);
}

}  // namespace

CaseResult run_case(const CaseOptions& o, const mesh::Mesh& m, const Comm& comm,
                    const std::shared_ptr<spdlog::logger>& log) {
  CaseSolver s = build_solver(o, m, comm);
  CaseResult r;
  r.dofs = s.ns->num_dofs();
  r.cells = s.ns->num_cells();
  const double ref_u = o.forces.reference_velocity, ref_l = o.forces.reference_length, nu = o.flow.flow.viscosity;
  log->info("Taylor-Hood P2/P1: {} cells, {} unknowns, {}; Re = {:.1f} (U_ref {:.6g}, L_ref {:.6g}, ν {:.6g})", r.cells,
            r.dofs, core::counted(comm.size(), "rank", "ranks"), ref_u * ref_l / nu, ref_u, ref_l, nu);
  // A reference length far from the size of the body the forces act on: most likely a mesh in other
  // units than the deck's (a mesh in millimetres gave c_D 10^7 times too large, without a word).
  if (const mesh::PhysicalGroup* g = m.find_group(o.forces.group); g && comm.root()) {
    double lo[2] = {1e300, 1e300}, hi[2] = {-1e300, -1e300};
    for (int64_t v : g->nodes())
      for (int k = 0; k < 2; ++k)
        lo[k] = std::min(lo[k], m.coords[v * m.dim + k]), hi[k] = std::max(hi[k], m.coords[v * m.dim + k]);
    const double size = std::max(hi[0] - lo[0], hi[1] - lo[1]);
    if (size > 0 && !(ref_l <= 10 * size && ref_l >= 0.1 * size))
      log->warn(
          "forces.reference_length {:.6g} against a '{}' group {:.6g} across: the coefficients and Re use the "
          "reference length, so a mesh in other units than the deck's (millimetres for metres) scales them; "
          "check the mesh's units or forces.reference_length",
          ref_l, o.forces.group, size);
  }
  for (const solvers::BoundaryCircle& c : s.ns->curved_circles())
    log->info(
        "curved boundary: {} edges on the circle of centre ({:.6g}, {:.6g}) and radius {:.6g} (vertices within "
        "{:.1e} of the radius)",
        c.edges, c.cx, c.cy, c.radius, c.max_deviation);
  CaseOutput out(o.output, m, comm);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  if (o.time.steady || o.time.from_steady) solve_steady_state(o, s, out, r, *log);
  if (o.time.steady) {
    r.seconds = elapsed();
    out.finish();
    if (const std::string files = out.summary(r); !files.empty()) log->info("wrote {}", files);
    return r;
  }
  r.steady = false;
  const int64_t nsteps = static_cast<int64_t>(std::llround(o.time.end / o.time.dt));
  const History h = run_transient(o, s, out, nsteps, log, comm.root());
  out.finish();
  analyse(o, h, nsteps, r, *log);
  r.delta_p = s.delta_p();
  r.seconds = elapsed();
  log->info("t in [{}, {}]: c_D,max = {:.5f}, c_L,max = {:.5f}, St = {:.5f}; {} steps in {:.1f} s ({:.3f} s/step)",
            o.time.analysis_start, o.time.end, r.c_d, r.c_l, r.strouhal, nsteps, r.seconds,
            r.seconds / std::max<int64_t>(nsteps, 1));
  if (const std::string files = out.summary(r); !files.empty()) log->info("wrote {}", files);
  return r;
}

}  // namespace tessera::jobs
