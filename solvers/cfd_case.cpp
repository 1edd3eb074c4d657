#include "solvers/cfd_case.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "io/atomic_file.hpp"
#include "io/progress.hpp"
#include "mesh/error.hpp"
#include "solvers/signal.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_HDF5
#include "io/xdmf.hpp"
#endif
#if TESSERA_HAVE_VTK
#include "io/vtk.hpp"
#endif

namespace tessera::solvers {

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
        "parabolic: 4 U y (H - y) / H² across the mesh's y-extent H; uniform: U everywhere")
      .choices = {"parabolic", "uniform"};
  s.add("flow.inflow.speed", io::KeyType::Float, "0.3", "U: peak (parabolic) or uniform inflow speed").min = 0;
}

LinearSolverConfig linear_solver_from_deck(const io::Deck& d) {
  return {static_cast<int>(d.get_int("solver.refactor_every")), d.get_float("solver.rtol")};
}

FlowConfig flow_from_deck(const io::Deck& d) {
  FlowConfig f;
  f.viscosity = d.get_float("flow.viscosity");
  f.density = d.get_float("flow.density");
  f.profile = d.get_string("flow.inflow.profile") == "uniform" ? FlowConfig::Profile::Uniform
                                                                : FlowConfig::Profile::Parabolic;
  f.inflow_speed = d.get_float("flow.inflow.speed");
  return f;
}

void add_case_keys(io::Schema& s) {
  s.add("job", io::KeyType::Choice, "case", "case: one flow with forces and fields; dataset: many randomized trajectories")
      .choices = {"case", "dataset"};
  add_flow_keys(s);
  s.section("forces", "forces on a boundary group and their coefficients c = 2 F / (ρ U_ref² L_ref)");
  s.add("forces.group", io::KeyType::String, "cylinder", "boundary group the forces act on");
  positive(s.add("forces.reference_length", io::KeyType::Float, "0.1", "L_ref (the cylinder diameter)"));
  s.add("forces.reference_velocity", io::KeyType::Float, "0",
        "U_ref; 0: the mean inflow speed (2/3 of the peak for a parabolic profile)").min = 0;
  s.add("forces.pressure_points", io::KeyType::FloatList, "[0.15, 0.2, 0.25, 0.2]",
        "x1, y1, x2, y2: delta_p = p(x1, y1) - p(x2, y2)").list_size = 4;
  s.section("time", "steady or transient, and the time step");
  s.add("time.mode", io::KeyType::Choice, "steady", "steady: Picard iteration to the steady state; transient: BDF2 steps")
      .choices = {"steady", "transient"};
  positive(s.add("time.dt", io::KeyType::Float, "0.005", "time step (transient)"));
  positive(s.add("time.end", io::KeyType::Float, "1", "end time (transient)"));
  s.add("time.initial", io::KeyType::Choice, "rest", "transient start: rest (zero velocity) or steady (the steady solution)")
      .choices = {"rest", "steady"};
  positive(s.add("time.max_cfl", io::KeyType::Float, "20",
                 "stop when max |u| dt / h exceeds this (the time step is too large for the flow)"));
  positive(s.add("steady.rtol", io::KeyType::Float, "1e-10", "relative velocity change at which Picard iteration stops"));
  s.add("steady.max_iterations", io::KeyType::Int, "60", "Picard iterations before giving up").min = 1;
  s.add("analysis.start", io::KeyType::Float, "0", "transient: maxima and the Strouhal number use t >= this").min = 0;
  s.section("solver", "linear solver");
  s.add("solver.petsc_options", io::KeyType::String, "",
        "PETSc options (default -ksp_type preonly -pc_type lu -pc_factor_mat_solver_type mumps); "
        "command-line PETSc options override these");
  s.add("solver.refactor_every", io::KeyType::Int, "5",
        "transient: rebuild the LU factors every this many steps, GMRES on the stale factors in between").min = 1;
  positive(s.add("solver.rtol", io::KeyType::Float, "1e-8", "Krylov solves stop at residual norm <= rtol * |rhs|"));
  s.section("output", "what is written, and where");
  s.add("output.dir", io::KeyType::String, "out/cfd", "output directory (relative to the working directory)");
  s.add("output.name", io::KeyType::String, "flow", "base name of the output files");
  s.add("output.every", io::KeyType::Int, "0", "transient: write fields every this many steps; 0: the last step only").min = 0;
  s.add("output.xdmf", io::KeyType::Bool, "true", "write <name>.xmf + <name>_*.h5 (XDMF3)");
  s.add("output.vtu", io::KeyType::Bool, "false", "write <name>.pvd + <name>_<k>.vtu (VTK XML)");
}

namespace {

// Field output and the forces table; rank 0 writes the text and VTK files.
class CaseWriter {
public:
  CaseWriter(const io::Deck& d, const mesh::Mesh& m, const Comm& comm)
      : d_(d), m_(m), comm_(comm), base_(d.get_string("output.dir") + "/" + d.get_string("output.name")) {
    if (comm.root()) io::ensure_parent_dir(base_ + ".xmf");
    comm.barrier();
    for (int32_t t : m.node_type) node_type_.data.push_back(t);
#if TESSERA_HAVE_HDF5
    if (d.get_bool("output.xdmf")) xdmf_ = std::make_unique<io::XdmfSeries>(base_, m, comm, std::vector{node_type_}, d.resolved_yaml());
#else
    if (d.get_bool("output.xdmf")) d.fail("output.xdmf", "this build has no HDF5; set output.xdmf: false");
#endif
#if TESSERA_HAVE_VTK
    if (d.get_bool("output.vtu") && comm.root()) pvd_ = std::make_unique<io::PvdCollection>(base_ + ".pvd");
#else
    if (d.get_bool("output.vtu")) d.fail("output.vtu", "this build has no VTK; set output.vtu: false");
#endif
    table_ << "step,time,c_d,c_l,delta_p,linear_iterations,seconds\n";
    table_.precision(10);
  }

  void fields(const NavierStokes& ns) {
    std::vector<io::Field> f{{"velocity", 2, false, ns.vertex_velocity()},
                             {"pressure", 1, false, ns.vertex_pressure()},
                             {"vorticity", 1, false, ns.vertex_vorticity()}};
#if TESSERA_HAVE_HDF5
    if (xdmf_) xdmf_->write_step(ns.time(), f);
#endif
#if TESSERA_HAVE_VTK
    if (pvd_) {
      const std::string name = cat(std::filesystem::path(base_).filename().string(), "_", vtu_count_++, ".vtu");
      f.push_back(node_type_);
      io::write_vtu(std::filesystem::path(base_).parent_path().string() + "/" + name, m_, f, d_.resolved_yaml());
      pvd_->add(ns.time(), name);
    }
#endif
  }

  void row(int64_t step, double t, double cd, double cl, double dp, int its, double seconds) {
    table_ << step << "," << t << "," << cd << "," << cl << "," << dp << "," << its << "," << seconds << "\n";
  }
  void flush_table() const {
    if (comm_.root()) io::write_text_atomic(base_ + "_forces.csv", table_.str());
  }
  void summary(const CaseResult& r) const {
    if (!comm_.root()) return;
    std::ostringstream s;
    s.precision(10);
    s << "quantity,value\n";
    if (r.steady) s << "c_d," << r.c_d << "\nc_l," << r.c_l << "\n";
    else s << "c_d_max," << r.c_d << "\nc_l_max," << r.c_l << "\nstrouhal," << r.strouhal << "\n";
    s << "delta_p," << r.delta_p << "\ndofs," << r.dofs << "\ncells," << r.cells << "\nsteps," << r.steps
      << "\nseconds," << r.seconds << "\nmean_linear_iterations," << r.mean_linear_iterations << "\n";
    io::write_text_atomic(base_ + "_summary.csv", s.str());
  }
  const std::string& base() const { return base_; }

private:
  const io::Deck& d_;
  const mesh::Mesh& m_;
  Comm comm_;
  std::string base_;
  io::Field node_type_{"node_type", 1, false, {}};
#if TESSERA_HAVE_HDF5
  std::unique_ptr<io::XdmfSeries> xdmf_;
#endif
  std::unique_ptr<io::PvdCollection> pvd_;
  int vtu_count_ = 0;
  std::ostringstream table_;
};

}  // namespace

CaseResult run_case(const io::Deck& d, const mesh::Mesh& m, const Comm& comm, const std::shared_ptr<spdlog::logger>& log) {
  FlowConfig flow = flow_from_deck(d);
  flow.force_group = d.get_string("forces.group");
  const double ref_u = d.get_float("forces.reference_velocity") > 0 ? d.get_float("forces.reference_velocity")
                       : flow.profile == FlowConfig::Profile::Parabolic ? 2.0 / 3.0 * flow.inflow_speed
                                                                        : flow.inflow_speed;
  if (!(ref_u > 0)) d.fail("forces.reference_velocity", "is 0 and so is the inflow speed: give a reference velocity");
  const double ref_l = d.get_float("forces.reference_length");
  const double coef = 2.0 / (flow.density * ref_u * ref_u * ref_l);
  const auto pts = d.get_floats("forces.pressure_points");

  std::unique_ptr<NavierStokes> ns;
  NavierStokes::Probe front, back;  // located once: a linear search over the cells
  try {
    ns = std::make_unique<NavierStokes>(m, flow, comm, linear_solver_from_deck(d));
    front = ns->probe(pts[0], pts[1]);
    back = ns->probe(pts[2], pts[3]);
  } catch (const Error& e) {
    const std::string what = e.what();
    d.fail(what.find("point") != std::string::npos ? "forces.pressure_points"
           : what.find("force group") != std::string::npos ? "forces.group"
                                                           : "mesh",
           what);
  }
  CaseResult r;
  r.dofs = ns->num_dofs();
  r.cells = ns->num_cells();
  log->info("Taylor-Hood P2/P1: {} cells, {} unknowns, {} rank(s); Re = {:.1f} (U_ref {:.6g}, L_ref {:.6g}, ν {:.6g})", r.cells, r.dofs,
            comm.size(), ref_u * ref_l / flow.viscosity, ref_u, ref_l, flow.viscosity);
  CaseWriter out(d, m, comm);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto delta_p = [&] { return ns->pressure_at(front) - ns->pressure_at(back); };

  const bool steady = d.get_string("time.mode") == "steady";
  const bool from_steady = !steady && d.get_string("time.initial") == "steady";
  if (steady || from_steady) {
    SolveInfo info;
    try {
      info = ns->solve_steady(d.get_float("steady.rtol"), static_cast<int>(d.get_int("steady.max_iterations")));
    } catch (const Error& e) {
      throw Error(cat("steady solve: ", e.what()));
    }
    const Forces f = ns->forces();
    r.c_d = coef * f.drag;
    r.c_l = coef * f.lift;
    r.delta_p = delta_p();
    r.mean_linear_iterations = double(info.linear_iterations) / info.nonlinear_iterations;
    log->info("steady state in {} Picard iterations ({:.2f} s): c_D = {:.6f}, c_L = {:.6f}, delta_p = {:.6f}",
              info.nonlinear_iterations, info.seconds, r.c_d, r.c_l, r.delta_p);
    out.row(0, 0.0, r.c_d, r.c_l, r.delta_p, info.linear_iterations, info.seconds);
    out.fields(*ns);
    out.flush_table();
  }
  if (steady) {
    r.seconds = elapsed();
    out.summary(r);
    return r;
  }

  r.steady = false;
  const double dt = d.get_float("time.dt"), t_end = d.get_float("time.end");
  const double max_cfl = d.get_float("time.max_cfl");
  const int64_t nsteps = static_cast<int64_t>(std::llround(t_end / dt));
  const int64_t every = d.get_int("output.every");
  std::vector<double> ts, cds, cls;
  io::Progress progress(log, "time steps", nsteps, 10.0, comm.root() && io::Progress::is_terminal());
  int64_t total_its = 0;
  if (!from_steady) out.fields(*ns);
  for (int64_t k = 1; k <= nsteps; ++k) {
    const double t_next = ns->time() + dt;
    SolveInfo info;
    try {
      info = ns->step(dt);
      const double cfl = ns->max_cfl(dt);
      if (cfl > max_cfl)
        throw Error(cat("CFL number ", cfl, " exceeds time.max_cfl = ", max_cfl, ": the time step ", dt,
                        " is too large for this flow; reduce time.dt"));
    } catch (const Error& e) {
      out.flush_table();
      throw Error(cat("step ", k, " (t = ", t_next, "): ", e.what(), "; results up to step ", k - 1, " are in ",
                      out.base(), "_forces.csv"));
    }
    const Forces f = ns->forces();
    ts.push_back(ns->time());
    cds.push_back(coef * f.drag);
    cls.push_back(coef * f.lift);
    total_its += info.linear_iterations;
    out.row(k, ns->time(), cds.back(), cls.back(), delta_p(), info.linear_iterations, info.seconds);
    if ((every > 0 && k % every == 0) || k == nsteps) {
      out.fields(*ns);
      out.flush_table();
    }
    progress.advance(1, cat("t ", ns->time(), "  c_D ", cds.back(), "  c_L ", cls.back()));
  }
  progress.finish();
  const double start = d.get_float("analysis.start");
  r.steps = nsteps;
  r.c_d = window_max(ts, cds, start);
  r.c_l = window_max(ts, cls, start);
  r.strouhal = peak_frequency(ts, cls, start) * ref_l / ref_u;
  r.delta_p = delta_p();
  r.mean_linear_iterations = double(total_its) / std::max<int64_t>(nsteps, 1);
  r.seconds = elapsed();
  log->info("t in [{}, {}]: c_D,max = {:.5f}, c_L,max = {:.5f}, St = {:.5f}; {} steps in {:.1f} s ({:.3f} s/step)", start,
            t_end, r.c_d, r.c_l, r.strouhal, nsteps, r.seconds, r.seconds / std::max<int64_t>(nsteps, 1));
  out.summary(r);
  return r;
}

}  // namespace tessera::solvers
