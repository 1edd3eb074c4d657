#include "jobs/cfd_options.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "io/deck.hpp"
#include "jobs/flow_sample.hpp"
#include "mesh/gmsh_io.hpp"
#include "solvers/petsc_session.hpp"
#include "tessera/config.hpp"

namespace tessera::jobs {

namespace {
void positive(io::KeySpec& k) {
  k.min = 0;
  k.min_exclusive = true;
}
}  // namespace

void add_flow_keys(io::Schema& s) {
  s.section("flow", "fluid and inflow");
  positive(s.add("flow.viscosity", io::KeyType::Float, "1e-3", "kinematic viscosity ν"));
  positive(s.add("flow.density", io::KeyType::Float, "1", "density ρ (scales pressure and forces)"));
  s.add("flow.inflow.profile", io::KeyType::Choice, "parabolic",
        "parabolic: 4 U y (H - y) / H² across the inflow boundary's own y-extent H (its end points); uniform: U "
        "everywhere")
      .choices = {"parabolic", "uniform"};
  s.add("flow.inflow.speed", io::KeyType::Float, "0.3", "U: peak (parabolic) or uniform inflow speed").min = 0;
  s.add("flow.inflow.period", io::KeyType::Float, "0",
        "0: a constant inflow; > 0 (job: case, transient): U sin(2π t / period), from 0 at t = 0 (DFG 2D-3: 16 "
        "with time.end 8, half a period; past half a period the flow would reverse)")
      .min = 0;
}

void add_case_keys(io::Schema& s) {
  s.add("job", io::KeyType::Choice, "case",
        "case: one flow with forces and fields; dataset: many randomized trajectories")
      .choices = {"case", "dataset"};
  add_flow_keys(s);
  s.section("forces", "forces on a boundary group and their coefficients c = 2 F / (ρ U_ref² L_ref)");
  s.add("forces.group", io::KeyType::String, "cylinder", "boundary group the forces act on");
  positive(s.add("forces.reference_length", io::KeyType::Float, "0.1", "L_ref (the cylinder diameter)"));
  s.add("forces.reference_velocity", io::KeyType::Float, "0",
        "U_ref; 0: the mean inflow speed (2/3 of the peak for a parabolic profile)")
      .min = 0;
  s.add("forces.pressure_points", io::KeyType::FloatList, "[0.15, 0.2, 0.25, 0.2]",
        "x1, y1, x2, y2: delta_p = p(x1, y1) - p(x2, y2)")
      .list_size = 4;
  s.section("time", "steady or transient, and the time step");
  s.add("time.mode", io::KeyType::Choice, "steady",
        "steady: Picard iteration to the steady state; transient: BDF2 steps")
      .choices = {"steady", "transient"};
  positive(s.add("time.dt", io::KeyType::Float, "0.005", "time step (transient)"));
  positive(s.add("time.end", io::KeyType::Float, "1", "end time (transient)"));
  s.add("time.initial", io::KeyType::Choice, "rest",
        "transient start: rest (zero velocity), steady (the steady solution) or restart (the state in "
        "time.restart_file, from its time on)")
      .choices = {"rest", "steady", "restart"};
  io::Schema::input_path(s.add("time.restart_file", io::KeyType::String, "",
                               "time.initial: restart: a <name>_restart.h5 that job: case wrote (every "
                               "output.restart_every steps and at the last step), on the same mesh; time.end is the "
                               "absolute end time"));
  positive(s.add("time.max_cfl", io::KeyType::Float, "20",
                 "stop when max |u| dt / h exceeds this (the time step is too large for the flow)"));
  positive(
      s.add("steady.rtol", io::KeyType::Float, "1e-10", "relative velocity change at which Picard iteration stops"));
  s.add("steady.max_iterations", io::KeyType::Int, "60", "Picard iterations before giving up").min = 1;
  s.add("analysis.start", io::KeyType::Float, "0", "transient: maxima and the Strouhal number use t >= this").min = 0;
  s.section("solver", "linear solver");
  s.add("solver.petsc_options", io::KeyType::String, "",
        "PETSc options (default -pc_type lu -pc_factor_mat_solver_type mumps, with -ksp_type preonly where "
        "solver.refactor_every is 1, else gmres); "
        "command-line PETSc options override these");
  s.add("solver.refactor_every", io::KeyType::Int, "5",
        "rebuild the LU factors every this many time steps, GMRES on the stale factors in between; 1: a direct "
        "solve (preonly). Steady runs refactor at every Picard iteration: there 1 is a direct solve, more GMRES on "
        "fresh factors")
      .min = 1;
  {  // PETSc refuses rtol >= 1 (as "Argument out of range", without the key)
    io::KeySpec& rtol =
        s.add("solver.rtol", io::KeyType::Float, "1e-8", "Krylov solves stop at residual norm <= rtol * |rhs|");
    positive(rtol);
    rtol.max = 1;
    rtol.max_exclusive = true;
  }
  s.add("solver.curved_boundaries", io::KeyType::Bool, "true",
        "a closed boundary loop of 8 or more edges whose vertices lie on one circle (the cylinder) gets curved, "
        "isoparametric P2 cells; false: straight-sided cells (a polygonal cylinder)");
  s.section("output", "what is written, and where");
  s.add("output.dir", io::KeyType::String, "out/cfd", "output directory (relative to the working directory)");
  s.add("output.name", io::KeyType::String, "flow", "base name of the output files");
  s.add("output.every", io::KeyType::Int, "0",
        "transient: write fields every this many steps (and at t = 0 and the end); 0: at t = 0 and the end only")
      .min = 0;
  s.add("output.restart_every", io::KeyType::Int, "100",
        "transient: rewrite <name>_restart.h5, the state to go on from (time.initial: restart), every this many "
        "steps (counted from t = 0) and at the last step; 0: at the last step only")
      .min = 0;
  s.add("output.probes", io::KeyType::FloatList, "[]",
        "points x1, y1, x2, y2, ...: the velocity and pressure there after every step, as columns u_k, v_k, p_k "
        "of <name>_forces.csv (k = 1, 2, ... in this order); empty: none; not given in a continuation "
        "(time.initial: restart): the restart file's points");
  s.add("output.xdmf", io::KeyType::Bool, "true", "write <name>.xmf + <name>_*.h5 (XDMF3)");
  s.add("output.vtu", io::KeyType::Bool, "false", "write <name>.pvd + <name>_<k>.vtu (VTK XML)");
}

void add_dataset_keys(io::Schema& s) {
  s.section("dataset",
            "job: dataset — randomized cylinder flows (the channel and element sizes come from mesh.cylinder.*)");
  s.add("dataset.dir", io::KeyType::String, "out/cylinder-flow",
        "output directory (relative to the working directory)");
  s.add("dataset.train", io::KeyType::Int, "50", "trajectories in train.h5").min = 0;
  s.add("dataset.valid", io::KeyType::Int, "5", "trajectories in valid.h5").min = 0;
  s.add("dataset.test", io::KeyType::Int, "5", "trajectories in test.h5").min = 0;
  s.add("dataset.seed", io::KeyType::Int, "1", "seed of the parameter draws; trajectory i depends on (seed, i) only")
      .min = 0;
  s.add("dataset.steps", io::KeyType::Int, "600", "stored time steps per trajectory").min = 2;
  auto& dt = s.add("dataset.dt", io::KeyType::Float, "0.01", "time between stored steps (also the solver step)");
  dt.min = 0;
  dt.min_exclusive = true;
  s.add("dataset.max_new", io::KeyType::Int, "0",
        "stop after generating this many trajectories (e.g. to fit a batch-queue time limit); rerun to continue; 0: "
        "no limit")
      .min = 0;
  s.add("dataset.overwrite", io::KeyType::Bool, "false",
        "replace a finished dataset in dataset.dir that was made with other settings (otherwise that is an error)");
  s.add("dataset.spinup", io::KeyType::Float, "1.0",
        "simulated time from rest before the first stored step (taken in steps of 2 dt)")
      .min = 0;
  auto range = [&](const char* key, const char* def, const char* doc) {
    s.add(std::string("dataset.ranges.") + key, io::KeyType::FloatList, def, doc).list_size = 2;
  };
  range("center_x", "[0.2, 0.4]", "cylinder centre x: [min, max], min <= max");
  range("center_y", "[0.16, 0.25]", "cylinder centre y: [min, max], min <= max");
  range("radius", "[0.03, 0.07]", "cylinder radius: [min, max], 0 < min <= max");
  range("inflow_speed", "[0.6, 2.0]",
        "peak inflow speed: [min, max], 0 < min <= max (with ν = 1e-3: Re from about 24 to 190)");
}

JobOptions job_options(const io::Deck& d) {
  JobOptions j;
  j.kind = d.get_string("job") == "dataset" ? JobOptions::Kind::Dataset : JobOptions::Kind::Case;
  j.petsc_options = d.has("solver.petsc_options") ? d.get_string("solver.petsc_options") : "";
  if (const std::string problem = solvers::petsc_options_problem(j.petsc_options); !problem.empty())
    d.fail("solver.petsc_options", problem);
  return j;
}

FlowOptions flow_options(const io::Deck& d) {
  FlowOptions o;
  solvers::FlowConfig& f = o.flow;
  f.viscosity = d.get_float("flow.viscosity");
  f.density = d.get_float("flow.density");
  f.profile = d.get_string("flow.inflow.profile") == "uniform" ? solvers::FlowConfig::Profile::Uniform
                                                               : solvers::FlowConfig::Profile::Parabolic;
  f.inflow_speed = d.get_float("flow.inflow.speed");
  f.inflow_period = d.get_float("flow.inflow.period");
  f.curved_boundaries = d.get_bool("solver.curved_boundaries");
  o.linear = {d.get_int32("solver.refactor_every"), d.get_float("solver.rtol")};
  o.max_cfl = d.get_float("time.max_cfl");
  return o;
}

namespace {

ForceOptions force_options(const io::Deck& d, const solvers::FlowConfig& flow) {
  ForceOptions o;
  o.group = d.get_string("forces.group");
  o.reference_length = d.get_float("forces.reference_length");
  const double given = d.get_float("forces.reference_velocity");
  // U_ref defaults to the mean inflow speed: 2/3 of a parabola's peak.
  o.reference_velocity = given > 0                                                 ? given
                         : flow.profile == solvers::FlowConfig::Profile::Parabolic ? 2.0 / 3.0 * flow.inflow_speed
                                                                                   : flow.inflow_speed;
  if (!(o.reference_velocity > 0))
    d.fail("forces.reference_velocity", "is 0 and so is the inflow speed: give a reference velocity");
  // The coefficients divide the forces by U^2 L / 2 (times the density): a product that underflows
  // (U = 1e-300) would print infinities as results.
  if (const double scale = o.reference_velocity * o.reference_velocity * o.reference_length;
      !(scale > 0) || !std::isfinite(1 / scale))
    d.fail("forces.reference_velocity",
           cat("squared times forces.reference_length is ", scale, ", too small to divide the forces by"));
  const auto pts = d.get_floats("forces.pressure_points");
  for (int k = 0; k < 4; ++k) o.pressure_points[k] = pts[k];
  o.pressure_points_default = !d.given("forces.pressure_points");
  o.reference_length_default = !d.given("forces.reference_length");
  return o;
}

// time.initial: restart: the file time.restart_file names, read and checked.
CaseRestart read_restart(const io::Deck& d) {
  const std::string file = d.has("time.restart_file") ? d.get_string("time.restart_file") : std::string();
  if (file.empty()) d.fail("time.restart_file", "required when time.initial is restart: the state to start from");
  if (!TESSERA_HAVE_HDF5)
    d.fail("time.initial", "this build has no HDF5 to read a restart file; start from rest or steady");
  try {
    return read_case_restart(d.resolve_path(file));
  } catch (const Error& e) {
    d.fail("time.restart_file", e.what());
  }
}

TimeOptions time_options(const io::Deck& d) {
  TimeOptions o;
  o.steady = d.get_string("time.mode") == "steady";
  o.from_steady = !o.steady && d.get_string("time.initial") == "steady";
  o.dt = d.get_float("time.dt");
  o.end = d.get_float("time.end");
  o.steady_rtol = d.get_float("steady.rtol");
  o.steady_max_iterations = d.get_int32("steady.max_iterations");
  o.analysis_start = d.get_float("analysis.start");
  if (!o.steady && d.get_string("time.initial") == "restart") o.restart = read_restart(d);
  if (!o.steady) {
    // The run takes (end - start) / dt steps: that must be a whole number of at least one, and the
    // analysis window must lie inside the run, or the maxima and Strouhal number are of nothing.
    const double start = o.restart ? o.restart->state.time : 0.0;
    if (o.restart && !(o.end > start))
      d.fail("time.end", cat(o.end, " is not after the restart's time ", start, " (", o.restart->path,
                             "); time.end is the absolute end time"));
    const double steps = (o.end - start) / o.dt;
    if (steps < 1 - 1e-9)
      d.fail("time.end", cat(o.end, " is shorter than one step of time.dt = ", o.dt,
                             o.restart ? cat(" after the restart's time ", start) : std::string()));
    // A step count beyond any run (and beyond the step counter: 1e300 steps ran as none and wrote NaN results).
    if (!(steps <= 1e9))
      d.fail("time.end",
             cat(o.end, " is ", steps, " steps of time.dt = ", o.dt, "; at most 1e9 (is time.dt too small?)"));
    if (std::abs(steps - std::round(steps)) > 1e-6 * steps)
      d.fail("time.end", cat(o.end, " is not a whole number of steps of time.dt = ", o.dt,
                             o.restart ? cat(" after the restart's time ", start) : std::string(), " (", steps,
                             "); the run would end at ", start + std::round(steps) * o.dt));
    if (o.analysis_start >= o.end)
      d.fail("analysis.start",
             cat(o.analysis_start, " is not before time.end = ", o.end, "; the analysis window is empty"));
  }
  return o;
}

OutputOptions output_options(const io::Deck& d) {
  OutputOptions o;
  o.dir = d.get_output_dir("output.dir");
  o.name = d.get_file_name("output.name");
  o.every = d.get_int("output.every");
  o.restart_every = d.get_int("output.restart_every");
  const std::vector<double> points = d.get_floats("output.probes");
  if (points.size() % 2 != 0)
    d.fail("output.probes", cat("expected x, y pairs (x1, y1, x2, y2, ...); got ", points.size(), " numbers"));
  for (size_t k = 0; k + 1 < points.size(); k += 2) {
    const std::array<double, 2> p{points[k], points[k + 1]};
    // Two columns of one point, and a continuation's mapping of points by value, would be ambiguous.
    if (const auto same = std::find(o.probes.begin(), o.probes.end(), p); same != o.probes.end())
      d.fail("output.probes", cat("point ", o.probes.size() + 1, " (", p[0], ", ", p[1], ") repeats point ",
                                  same - o.probes.begin() + 1));
    o.probes.push_back(p);
  }
  o.xdmf = d.get_bool("output.xdmf");
  o.vtu = d.get_bool("output.vtu");
  if (o.xdmf && !TESSERA_HAVE_HDF5) d.fail("output.xdmf", "this build has no HDF5; set output.xdmf: false");
  if (o.vtu && !TESSERA_HAVE_VTK) d.fail("output.vtu", "this build has no VTK; set output.vtu: false");
  o.deck_yaml = d.resolved_yaml();
  return o;
}

}  // namespace

CaseOptions case_options(const io::Deck& d) {
  CaseOptions o;
  o.flow = flow_options(d);
  o.forces = force_options(d, o.flow.flow);
  o.flow.flow.force_group = o.forces.group;
  o.time = time_options(d);
  // A time-varying inflow is 0 at t = 0: its steady state is no flow at all.
  if (o.flow.flow.inflow_period > 0 && (o.time.steady || o.time.from_steady))
    d.fail("flow.inflow.period",
           cat(o.flow.flow.inflow_period,
               " (a time-varying inflow) needs time.mode: transient from rest or a "
               "restart; time.",
               o.time.steady ? "mode is steady" : "initial is steady", ", and the inflow is 0 at t = 0"));
  // A period of two steps or less samples the sine at its zeros (a run without any flow, said nowhere).
  if (const double period = o.flow.flow.inflow_period; period > 0 && !o.time.steady && period <= 2 * o.time.dt)
    d.fail("flow.inflow.period", cat(period, " is at most 2 steps of time.dt = ", o.time.dt,
                                     ": the steps would sample the sine at or near its zeros; resolve it with 20 "
                                     "steps or more per period"));
  o.output = output_options(d);
  o.builtin_mesh = d.get_string("mesh.source") == "cylinder";
  // A continuation probes where the run it continues did unless told otherwise (a continuation
  // with the documented command dropped the probes' history).
  if (o.time.restart && !d.given("output.probes") && !o.time.restart->forces_info.probe_points.empty()) {
    o.output.probes = o.time.restart->forces_info.probe_points;
    o.output.probes_from_restart = true;
  }
  // The run would replace the files of the run it continues (its fields and forces from t = 0),
  // and the restart file itself.
  if (o.time.restart) {
    std::error_code ec;
    const auto own = std::filesystem::weakly_canonical(case_restart_path(o.output.base()), ec);
    if (!ec && own == std::filesystem::weakly_canonical(o.time.restart->path, ec) && !ec)
      d.fail("time.restart_file", cat(o.time.restart->path,
                                      " is this run's own restart file (output.dir and output.name): the run would "
                                      "replace the fields and forces of the run it continues; choose another "
                                      "output.name or output.dir"));
    // A run further back (A, continued by B, continued by C with A's output.name): its fields are
    // in this continuation's series.
    const auto base = std::filesystem::weakly_canonical(o.output.base(), ec);
    for (const std::string& segment : o.time.restart->fields.segments)
      if (std::error_code e; !ec && std::filesystem::weakly_canonical(segment, e) == base && !e)
        d.fail("output.name", cat(o.output.base(), " holds fields of the run ", o.time.restart->path,
                                  " continues, which this run's series refer to: the run would replace them; "
                                  "choose another output.name or output.dir"));
  }
  return o;
}

namespace {

std::vector<DatasetSplit> splits_of(const io::Deck& d) {
  std::vector<DatasetSplit> out;
  int64_t next = 0;
  for (const char* name : {"train", "valid", "test"}) {
    const int64_t n = d.get_int(std::string("dataset.") + name);
    if (n > 0) out.push_back({name, next, next + n});
    next += n;
  }
  if (out.empty()) d.fail("dataset.train", "dataset.train, dataset.valid and dataset.test are all 0");
  return out;
}

std::array<double, 2> range_of(const io::Deck& d, const char* name) {
  const std::string key = std::string("dataset.ranges.") + name;
  const auto r = d.get_floats(key);
  if (r[1] < r[0]) d.fail(key, "expected [min, max] with min <= max");
  // A radius or inflow speed of zero or below is no flow past a cylinder (and fails late, in the
  // mesher or as a negative Reynolds number).
  const std::string n = name;
  if ((n == "radius" || n == "inflow_speed") && !(r[0] > 0))
    d.fail(key, cat("expected [min, max] with min > 0, got [", r[0], ", ", r[1], "]"));
  return {r[0], r[1]};
}

mesh::CylinderChannel channel_of(const io::Deck& d) {
  mesh::CylinderChannel c;
  c.length = d.get_float("mesh.cylinder.length");
  c.height = d.get_float("mesh.cylinder.height");
  c.h_near = d.get_float("mesh.cylinder.h_near");
  c.h_far = d.get_float("mesh.cylinder.h_far");
  c.transition = d.get_float("mesh.cylinder.transition");
  return c;
}

// Checks the whole parameter range before any time is spent: every draw must pass the mesher's
// own checks (the cylinder strictly inside the channel, the sizes against its radius and gaps).
void check_draws(const io::Deck& d, const DatasetOptions& o) {
  for (int64_t i = 0; i < o.total(); ++i) {
    const FlowSample s = draw_sample(o, i);
    mesh::CylinderChannel c = o.channel;
    c.cx = s.center_x, c.cy = s.center_y, c.radius = s.radius;
    try {
      mesh::check_cylinder_channel(c);
    } catch (const Error& e) {
      d.fail("dataset.ranges", cat("trajectory ", i, " draws a cylinder (centre ", s.center_x, ", ", s.center_y,
                                   ", radius ", s.radius, ") that cannot be meshed: ", e.what()));
    }
  }
}

}  // namespace

DatasetOptions dataset_options(const io::Deck& d) {
  DatasetOptions o;
  o.flow = flow_options(d);
  if (o.flow.flow.inflow_period > 0)
    d.fail("flow.inflow.period",
           "is for job: case; job: dataset draws each trajectory's constant inflow speed from "
           "dataset.ranges.inflow_speed (set 0)");
  o.dir = d.get_output_dir("dataset.dir");
  o.splits = splits_of(d);
  o.seed = d.get_int("dataset.seed");
  o.steps = d.get_int("dataset.steps");
  o.max_new = d.get_int("dataset.max_new");
  o.overwrite = d.get_bool("dataset.overwrite");
  o.dt = d.get_float("dataset.dt");
  o.spinup = d.get_float("dataset.spinup");
  // The spin-up takes steps of 2 dt: a time between them was rounded in silence (0.005 gave none).
  if (const double spin_steps = o.spinup / (2 * o.dt);
      std::abs(spin_steps - std::round(spin_steps)) > 1e-9 * std::max(1.0, spin_steps))
    d.fail("dataset.spinup", cat(o.spinup, " is not a whole number of spin-up steps of 2 x dataset.dt = ", 2 * o.dt,
                                 " (", spin_steps, "); the spin-up would last ", std::round(spin_steps) * 2 * o.dt));
  o.petsc_options = d.has("solver.petsc_options") ? d.get_string("solver.petsc_options") : "";
  o.ranges = {range_of(d, "center_x"), range_of(d, "center_y"), range_of(d, "radius"), range_of(d, "inflow_speed")};
  o.channel = channel_of(d);
  o.deck_yaml = d.resolved_yaml();
  check_draws(d, o);
  return o;
}

}  // namespace tessera::jobs
