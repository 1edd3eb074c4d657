#include "jobs/cfd_case.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/interrupt_note.hpp"
#include "core/on_root.hpp"
#include "core/progress.hpp"
#include "core/same_on_ranks.hpp"
#include "io/deck_difference.hpp"
#include "jobs/case_output.hpp"
#include "jobs/case_restart.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_HDF5
#include "io/fingerprint.hpp"
#endif
#include "solvers/navier_stokes.hpp"
#include "solvers/signal.hpp"

namespace tessera::jobs {

namespace {

using solvers::NavierStokes;

// The solver, the two pressure probes and output.probes' points, located once (a linear search
// over the cells).
struct CaseSolver {
  std::unique_ptr<NavierStokes> ns;
  NavierStokes::Probe front, back;
  std::vector<NavierStokes::Probe> points;
  double delta_p() const { return ns->pressure_at(front) - ns->pressure_at(back); }
  // u, v, p at each point, for the forces table.
  std::vector<double> probe_values() const {
    std::vector<double> v;
    for (const NavierStokes::Probe& p : points) {
      const std::array<double, 2> u = ns->velocity_at(p);
      v.insert(v.end(), {u[0], u[1], ns->pressure_at(p)});
    }
    return v;
  }
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
    // Said to be the default: a user's own mesh met DFG's points, in a key it had not set.
    throw Error(cat(e.what(), o.forces.pressure_points_default
                                  ? cat(" (the default [", p[0], ", ", p[1], ", ", p[2], ", ", p[3],
                                        "]: DFG's points before and behind its cylinder; give points in this mesh)")
                                  : std::string()),
                "forces.pressure_points");
  }
  for (size_t k = 0; k < o.output.probes.size(); ++k) {
    const auto [x, y] = o.output.probes[k];
    try {
      s.points.push_back(s.ns->probe(x, y));
    } catch (const Error& e) {
      throw Error(cat("point ", k + 1, ": ", e.what()), "output.probes");
    }
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
  out.row({0, 0.0, r.c_d, r.c_l, r.delta_p, info.linear_iterations, info.seconds, s.probe_values()});
  out.fields(*s.ns);
  out.flush_table();
}

// <name>_restart.h5, rewritten every output.restart_every steps and at the last one (HDF5
// builds); what a failed or interrupted run tells the user to go on from: the last state written,
// or before that, the restart file this run started from.
class RestartWriter {
 public:
  RestartWriter(const CaseOptions& o, const mesh::Mesh& m, const Comm& comm)
      : deck_yaml_(o.output.deck_yaml), m_(m), comm_(comm), path_(case_restart_path(o.output.base())) {
#if TESSERA_HAVE_HDF5
    fingerprint_ = io::mesh_fingerprint(m);
#endif
    if (o.time.restart) remember(o.time.restart->path, o.time.restart->state.time);
  }
  ~RestartWriter() { core::set_interrupt_note(""); }
  const std::string& fingerprint() const { return fingerprint_; }
  // What the forces table's rows are (their start, probes and basis), stored with them.
  void set_table_info(ForcesTableInfo info) { table_info_ = std::move(info); }
  const ForcesTableInfo& table_info() const { return table_info_; }
  // Collective; `forces` is the forces table so far.
  void write(const NavierStokes& ns, const std::vector<ForcesRow>& forces, const FieldSteps& fields) {
#if TESSERA_HAVE_HDF5
    write_case_restart(path_, ns, m_, fingerprint_, deck_yaml_, forces, table_info_, fields, comm_);
    written_ = true;
    remember(path_, ns.time());
#else
    (void)ns, (void)forces, (void)fields;
#endif
  }
  // "the state at t = 4.5 is in out/x_restart.h5 (to go on: time.initial: restart)", or "".
  const std::string& note() const { return note_; }
  // ", out/x_restart.h5 (restart)" once this run has written it, for the list of files written.
  std::string listed() const { return written_ ? cat(", ", path_, " (restart)") : std::string(); }

 private:
  void remember(const std::string& file, double t) {
    note_ = cat("the state at t = ", t, " is in ", file, " (to go on: time.initial: restart)");
    core::set_interrupt_note(note_);
  }
  const std::string& deck_yaml_;  // stored in the file
  const mesh::Mesh& m_;
  Comm comm_;
  std::string path_, fingerprint_, note_;
  ForcesTableInfo table_info_;
  bool written_ = false;
};

// Time step k (counted from the run's start, a restart's steps included); a failure (or a CFL
// number above time.max_cfl) flushes the table and names the step in the error.
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
    // Without rows (the first step of a run with none carried) there are none: "results up to
    // step 0" named a file with its header alone.
    const bool reversed = solvers::inflow_scale(o.flow.flow, t_next) < 0;
    throw Error(cat("step ", k, " (t = ", t_next, "): ", e.what(),
                    reversed ? " (the inflow is reversed here: flow.inflow.period)" : "",
                    out.rows().empty()
                        ? std::string()
                        : cat("; results up to step ", out.rows().back().step, " are in ", out.base(), "_forces.csv")),
                e.key());
  }
}

// BDF2 steps to time.end, with fields every output.every steps and the restart file every
// output.restart_every steps, both counted from t = 0 (a restart's output times are the
// uninterrupted run's), and both at the last step. Returns the steps' linear iterations.
int64_t run_transient(const CaseOptions& o, CaseSolver& s, CaseOutput& out, RestartWriter& restart, int64_t nsteps,
                      const std::shared_ptr<spdlog::logger>& log, bool root) {
  const double coef = coefficient(o);
  const int64_t every = o.output.every, restart_every = o.output.restart_every;
  NavierStokes& ns = *s.ns;
  int64_t linear_iterations = 0;
  core::Progress progress(log, "time steps", nsteps, 10.0, root && core::Progress::is_terminal());
  if (!o.time.from_steady) out.fields(ns);
  for (int64_t k = 1; k <= nsteps; ++k) {
    const solvers::SolveInfo info = time_step(o, ns, out, ns.steps() + 1);
    const solvers::Forces f = ns.forces();
    linear_iterations += info.linear_iterations;
    const int64_t step = ns.steps();
    const ForcesRow row{step,          ns.time(),       coef * f.drag,
                        coef * f.lift, s.delta_p(),     info.linear_iterations,
                        info.seconds,  s.probe_values()};
    out.row(row);
    const bool output_step = (every > 0 && step % every == 0) || k == nsteps;
    const bool restart_step = (restart_every > 0 && step % restart_every == 0) || k == nsteps;
    if (output_step) out.fields(ns);
    if (restart_step) restart.write(ns, out.rows(), out.field_steps());
    // The table at output steps and with each restart file (paced): a run stopped by a signal
    // leaves it at least at the restart state unless it has grown too large to rewrite so often.
    if (output_step || restart_step) out.flush_table();
    progress.advance(1, cat("t ", ns.time(), "  c_D ", row.c_d, "  c_L ", row.c_l));
  }
  progress.finish();
  return linear_iterations;
}

// Maxima and the Strouhal number over the time steps at t >= analysis.start in the forces table,
// which starts at forces_from: 0, or a restart's time where its file did not carry the earlier
// rows. A steady start's row (step 0) is not a time step.
void analyse(const CaseOptions& o, const std::vector<ForcesRow>& rows, double forces_from, CaseResult& r,
             spdlog::logger& log) {
  const double start = o.time.analysis_start;
  std::vector<double> t, c_d, c_l;
  for (const ForcesRow& row : rows)
    if (row.step > 0) t.push_back(row.time), c_d.push_back(row.c_d), c_l.push_back(row.c_l);
  const solvers::Peak drag = solvers::window_peak(t, c_d, start), lift = solvers::window_peak(t, c_l, start);
  r.c_d = drag.value, r.c_d_time = drag.time;
  r.c_l = lift.value, r.c_l_time = lift.time;
  // Under a time-varying inflow the shedding frequency follows the Reynolds number: no one St.
  if (o.flow.flow.inflow_period > 0) {
    r.strouhal = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  std::string why;
  r.strouhal = solvers::peak_frequency(t, c_l, start, &why) * o.forces.reference_length / o.forces.reference_velocity;
  if (std::isnan(r.strouhal))
    log.warn(
        "St not determined: c_L after {} has {} (a steady flow, a start-up transient, or a window shorter than two "
        "periods: raise time.end or analysis.start); the summary writes nan",
        forces_from > start ? cat("the restart's t = ", forces_from) : cat("analysis.start = ", start), why);
}

// time.initial: restart: the saved state on this mesh (errors at time.restart_file), and what
// differs from the run that wrote it.
void start_from_restart(const CaseOptions& o, const CaseRestart& r, const mesh::Mesh& m, const std::string& fingerprint,
                        NavierStokes& ns, const Comm& comm, spdlog::logger& log) {
  // Every rank read the file for itself: one whose copy is of another mesh (a node-local path) is
  // every rank's error, and so is a copy that holds another state.
  run_on_every_rank(comm, [&] {
    with_key("time.restart_file", [&] { check_restart_mesh(r, m, fingerprint); });
    try {
      ns.set_time_state(r.state);
    } catch (const Error& e) {
      throw Error(cat(r.path, ": ", e.what()), "time.restart_file");
    }
  });
  std::string state_bytes = cat(r.state.time, " ", r.state.steps, " ", r.state.last_dt, " ");
  for (const auto* v : {&r.state.velocity, &r.state.previous_velocity, &r.state.pressure, &r.state.previous_pressure})
    state_bytes.append(reinterpret_cast<const char*>(v->data()), v->size() * sizeof(double));
  if (!core::same_on_every_rank(comm, state_bytes))
    throw Error(cat(r.path,
                    ": the ranks read different states from it (a node-local copy that differs from the "
                    "others?): every rank must read the same file"),
                "time.restart_file");
  log.info("restart: t = {} after {} from {}", r.state.time, core::counted(r.state.steps, "step", "steps"), r.path);
  // Files written before restart files carried the forces table (2026-12-07) hold the state alone.
  if (r.forces.empty() && r.state.steps > 0)
    log.info("{} holds no forces table (an older file): this run's table and analysis start at t = {}", r.path,
             r.state.time);
  // A continuation may change the flow on purpose (a ramp in Reynolds number); said, not refused.
  try {
    if (const auto d = io::first_deck_difference(r.deck_yaml, o.output.deck_yaml, {"flow", "forces"}, {}))
      log.warn("{}: the restart state was computed with {} = {}; this run has {} (the flow goes on from that state)",
               d->key, d->key, d->stored, d->now);
  } catch (const Error&) {
    log.warn("{}: its stored deck could not be read; the settings of the run it continues are not compared", r.path);
  }
  if (r.state.steps > 0 && std::abs(o.time.dt - r.state.last_dt) > 1e-12 * o.time.dt)
    log.info("time.dt {} after the restart's {}: the first step is BDF1, as after any change of step", o.time.dt,
             r.state.last_dt);
}

// The restart file's forces table with its probe columns put in this run's order: a point both
// runs probe keeps its values, one this run adds gets NaN before the restart (said in the log).
std::vector<ForcesRow> carried_rows(const CaseRestart& r, const std::vector<std::array<double, 2>>& points,
                                    spdlog::logger& log) {
  const auto& had = r.forces_info.probe_points;
  if (had == points) return r.forces;
  std::vector<int64_t> from;  // index in the file's points, or -1
  size_t added = 0;
  for (const auto& p : points) {
    const auto it = std::find(had.begin(), had.end(), p);
    from.push_back(it == had.end() ? -1 : it - had.begin());
    added += it == had.end();
  }
  auto listed = [](const std::vector<std::array<double, 2>>& ps, const std::vector<std::array<double, 2>>& not_in) {
    std::string s;
    for (const auto& p : ps)
      if (std::find(not_in.begin(), not_in.end(), p) == not_in.end())
        s += cat(s.empty() ? "" : ", ", "(", p[0], ", ", p[1], ")");
    return s;
  };
  const std::string new_points = listed(points, had), dropped_points = listed(had, points);
  if (!r.forces.empty())
    log.warn("output.probes differ from those of the run that wrote {}:{}{}", r.path,
             new_points.empty() ? std::string() : cat(" new ", new_points, " (nan before t = ", r.state.time, ")"),
             dropped_points.empty() ? std::string() : cat(new_points.empty() ? "" : ";", " left out ", dropped_points));
  std::vector<ForcesRow> rows = r.forces;
  for (ForcesRow& row : rows) {
    std::vector<double> v;
    for (int64_t k : from)
      for (int c = 0; c < 3; ++c) v.push_back(k < 0 ? std::numeric_limits<double>::quiet_NaN() : row.probes[k * 3 + c]);
    row.probes = std::move(v);
  }
  return rows;
}

// What the values of a forces table are relative to: the coefficients' scale and the delta_p
// points (and the density, which scales the pressures). Rows on another basis are not carried.
std::string forces_basis(const CaseOptions& o) {
  const auto& p = o.forces.pressure_points;
  return fmt::format("c = {} F; delta_p = p({}, {}) - p({}, {}); density {}", coefficient(o), p[0], p[1], p[2], p[3],
                     o.flow.flow.density);
}

// The rows a continuation's forces table starts with (its restart file's, on the same basis) and
// what they are.
struct TableStart {
  std::vector<ForcesRow> rows;
  ForcesTableInfo info;
};
TableStart forces_table_start(const CaseOptions& o, spdlog::logger& log) {
  TableStart t;
  t.info.basis = forces_basis(o);
  t.info.probe_points = o.output.probes;
  if (!o.time.restart) return t;  // from t = 0
  const CaseRestart& r = *o.time.restart;
  t.info.from = r.state.time;
  if (r.forces.empty()) return t;  // an older file (said when it was read)
  // Files from before the basis was stored (2026-12-07) carry theirs unchecked.
  if (!r.forces_info.basis.empty() && r.forces_info.basis != t.info.basis) {
    log.warn(
        "{}: its forces table is not carried: its values are on another basis ({}; this run: {}, from forces.* "
        "or flow.*); this run's table and analysis start at t = {}",
        r.path, r.forces_info.basis, t.info.basis, r.state.time);
    return t;
  }
  t.rows = carried_rows(r, o.output.probes, log);
  t.info.from = r.forces_info.from;
  return t;
}

// The steady solve or the time steps, the analysis and the summary, into `r` and `out`, whose
// table starts with `carried`.
void run_case_into(const CaseOptions& o, CaseSolver& s, CaseResult& r, RestartWriter& restart,
                   const std::vector<ForcesRow>& carried, CaseOutput& out, const Comm& comm,
                   const std::shared_ptr<spdlog::logger>& log) {
  const double forces_from = restart.table_info().from;
  out.continue_table(carried);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  if (o.time.steady || o.time.from_steady) solve_steady_state(o, s, out, r, *log);
  if (o.time.steady) {
    restart.write(*s.ns, out.rows(), out.field_steps());  // a transient run may start from it (time.initial: restart)
    r.seconds = elapsed();
    out.finish();
    if (const std::string files = out.summary(r); !files.empty()) log->info("wrote {}{}", files, restart.listed());
    return;
  }
  r.steady = false;
  const double start = s.ns->time();
  const int64_t nsteps = static_cast<int64_t>(std::llround((o.time.end - start) / o.time.dt));
  const int64_t linear_iterations = run_transient(o, s, out, restart, nsteps, log, comm.root());
  out.finish();
  analyse(o, out.rows(), forces_from, r, *log);
  r.steps = nsteps;
  r.mean_linear_iterations = double(linear_iterations) / std::max<int64_t>(nsteps, 1);
  r.delta_p = s.delta_p();
  r.seconds = elapsed();
  log->info("t in [{}, {}]: c_D,max = {:.5f}, c_L,max = {:.5f}, St = {:.5f}; {} steps in {:.1f} s ({:.3f} s/step)",
            std::max(o.time.analysis_start, forces_from), o.time.end, r.c_d, r.c_l, r.strouhal, nsteps, r.seconds,
            r.seconds / std::max<int64_t>(nsteps, 1));
  log->info(
      "c_D,max at t = {:.5f}, c_L,max at t = {:.5f}; delta_p = {:.5f} at t = {}{}", r.c_d_time, r.c_l_time, r.delta_p,
      o.time.end,
      o.flow.flow.inflow_period > 0 ? " (St not computed: the inflow varies in time, and the shedding with it)" : "");
  if (const std::string files = out.summary(r); !files.empty()) log->info("wrote {}{}", files, restart.listed());
}

// The case from its start (or restart) on, into `r`: its outputs, then run_case_into.
void run_case_from(const CaseOptions& o, CaseSolver& s, CaseResult& r, RestartWriter& restart,
                   const std::vector<ForcesRow>& carried, const mesh::Mesh& m, const Comm& comm,
                   const std::shared_ptr<spdlog::logger>& log) {
  CaseOutput out(o.output, m, comm, o.time.restart ? o.time.restart->fields : FieldSteps{});
  if (!out.earlier_note().empty()) log->info("{}", out.earlier_note());
  try {
    run_case_into(o, s, r, restart, carried, out, comm, log);
  } catch (const Error&) {
    // The steps done are results (a restart file that could not be written is no reason to lose
    // them); a table that cannot be written either leaves the first error to report.
    try {
      out.flush_table(/*collective=*/false);
    } catch (const Error&) {
    }
    throw;
  }
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
    double xmin = 1e300, xmax = -1e300;
    for (int64_t v = 0; v < m.num_nodes(); ++v)
      xmin = std::min(xmin, m.coords[v * m.dim]), xmax = std::max(xmax, m.coords[v * m.dim]);
    const double along = hi[0] - lo[0], across = hi[1] - lo[1];
    const auto near = [&](double extent) { return extent > 0 && std::abs(ref_l - extent) <= 0.25 * extent; };
    // The channel's walls (a channel without a body): their length is no body's size, and the
    // units hint below misled (a review, 2026-12-08).
    if (along >= 0.99 * (xmax - xmin))
      log->info(
          "forces.group '{}' spans the channel's length ({:.6g}): the coefficients are those of forces on the "
          "channel's walls, relative to forces.reference_length {:.6g}",
          o.forces.group, along, ref_l);
    else if (size > 0 && !(ref_l <= 10 * size && ref_l >= 0.1 * size))
      log->warn(
          "forces.reference_length {:.6g} against a '{}' group {:.6g} across: the coefficients and Re use the "
          "reference length, so a mesh in other units than the deck's (millimetres for metres) scales them; "
          "check the mesh's units or forces.reference_length",
          ref_l, o.forces.group, size);
    // Neither of the body's extents: an elliptic body of 0.16 x 0.08 took DFG's default 0.1 without
    // a word. A chord (streamwise) or a height (cross-stream) passes.
    else if (size > 0 && !near(along) && !near(across))
      log->warn(
          "forces.reference_length {:.6g}{} is neither the '{}' group's streamwise extent {:.6g} nor its "
          "cross-stream extent {:.6g}: c_D, c_L and Re are relative to it (DFG's is the cylinder's diameter)",
          ref_l, o.forces.reference_length_default ? " (the default)" : "", o.forces.group, along, across);
  }
  for (const solvers::BoundaryCircle& c : s.ns->curved_circles()) {
    const std::string what = fmt::format(
        "curved boundary: {} edges on the circle of centre ({:.6g}, {:.6g}) and radius {:.6g} (vertices "
        "within {:.1e} of the radius)",
        c.edges, c.cx, c.cy, c.radius, c.max_deviation);
    // A regular polygon's vertices lie on a circle too: an octagonal obstacle became a cylinder
    // (c_D 59.0 for 54.0) with an info line alone. The built-in channel's cylinder is a circle at any
    // h_near (12 edges at 0.03), so it is not warned.
    if (c.edges < 16 && !o.builtin_mesh)
      log->warn(
          "{}: so few edges may be a polygon, not a coarse circle; if the obstacle is a polygon, set "
          "solver.curved_boundaries: false",
          what);
    else
      log->info("{}", what);
  }
  if (!o.output.probes.empty()) {
    std::string where;
    for (size_t k = 0; k < o.output.probes.size(); ++k)
      where += cat(k ? ", " : "", k + 1, " (", o.output.probes[k][0], ", ", o.output.probes[k][1], ")");
    log->info("probes (u_k, v_k, p_k in the forces table): {}{}", where,
              o.output.probes_from_restart ? "; the restart file's, as output.probes is not given" : "");
  }
  if (const double period = o.flow.flow.inflow_period; period > 0) {
    if (o.time.end > period / 2 * (1 + 1e-12))
      log->warn(
          "flow.inflow.period {}: the inflow turns round at t = {} (half a period), before time.end = {}; from then "
          "on the flow leaves through the inflow and enters through the do-nothing outflow, which was not made for "
          "inflow (DFG 2D-3: period 16, time.end 8)",
          period, period / 2, o.time.end);
    if (period < 20 * o.time.dt)
      log->warn("flow.inflow.period {} is {:.3g} steps of time.dt = {}: the sine is coarsely resolved", period,
                period / o.time.dt, o.time.dt);
  }
  RestartWriter restart(o, m, comm);
  if (o.time.restart) start_from_restart(o, *o.time.restart, m, restart.fingerprint(), *s.ns, comm, *log);
  // A continuation's forces table goes on from its restart file's.
  TableStart table = forces_table_start(o, *log);
  restart.set_table_info(std::move(table.info));
  // From here a failure (a step, a full disk, an output folder) leaves the last restart state to
  // go on from, as an interrupt does: the error names it too.
  try {
    run_case_from(o, s, r, restart, table.rows, m, comm, log);
  } catch (const Error& e) {
    if (restart.note().empty()) throw;
    throw Error(cat(e.what(), "; ", restart.note()), e.key());
  }
  return r;
}

}  // namespace tessera::jobs
