#include "train/hybrid/job.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "core/progress.hpp"
#include "io/dataset.hpp"
#include "train/device.hpp"
#include "train/family.hpp"
#include "train/hybrid/flow_config.hpp"
#include "train/hybrid/hybrid_rollout.hpp"
#include "train/hybrid/indicator.hpp"
#include "train/hybrid/output.hpp"
#include "train/model_io.hpp"

namespace tessera::train::hybrid {
namespace {

std::vector<double> first_state(const TrajectoryData& t) {
  at::Tensor v = t.velocity[0].to(at::kDouble).contiguous();
  return {v.data_ptr<double>(), v.data_ptr<double>() + v.numel()};
}

std::string schedule_text(const Schedule& s) {
  if (s.trigger == Trigger::Fixed) return cat("K = ", s.surrogate_steps, " surrogate, M = ", s.solver_steps, " solver");
  return cat("divergence indicator > ", s.threshold,
             s.surrogate_steps > 0 ? cat(" (at most K = ", s.surrogate_steps, " surrogate steps)")
                                   : std::string(" (K = 0: no cap on the surrogate's steps)"),
             ", then M = ", s.solver_steps, " solver");
}

}  // namespace

void run_hybrid(const HybridOptions& o, const Comm& comm, const std::shared_ptr<spdlog::logger>& log) {
  // Threads: torch's and OpenMP's, which the solver's BLAS shares (one per process avoids the
  // two spinning against each other; docs/hybrid.md).
  set_threads(o.threads, "rollout.threads", log.get());
  // The model (rank 0 alone runs it; the others only need its training deck's data.dir).
  TrainedModel m;
  run_on_every_rank(comm, [&] {
    m = with_key("rollout.checkpoint", [&] { return load_trained_model(o.checkpoint); });
  });  // one rank's failure: every rank's
  const at::Device device =
      comm.root() ? select_device_for(o.device, "rollout.device", Comm::self()) : at::Device(at::kCPU);
  m.model->module().to(device);
  const int64_t bundle = m.model->bundle();
  core::log_info(log.get(),
                 cat("model: ", m.model->family(), " from ", o.checkpoint, " (step ", m.step, ") on ", device.str(),
                     bundle > 1 ? cat("; ", bundle, " steps per forward pass (model.bundle)") : std::string()));
  // A turn of K steps that is no multiple of the bundle drops the rest of its last pass.
  // (A divergence trigger with K > 0 caps the turn too.)
  if (const int64_t K = o.schedule.surrogate_steps;
      bundle > 1 && K > 0 && o.schedule.solver_steps > 0 && K % bundle != 0)
    core::log_warn(log.get(), cat("hybrid.surrogate_steps = ", K, " is not a multiple of the model's bundle (", bundle,
                                  " steps per forward pass): each turn computes ",
                                  core::counted(bundle - K % bundle, "step", "steps"),
                                  " it drops; K = ", (K / bundle + 1) * bundle,
                                  K >= bundle ? cat(" or ", K / bundle * bundle) : std::string(), " wastes none"));
  // The trajectory: truth, boundary values, mesh.
  const std::string dir = o.data_dir.empty() ? m.options.data.dir : o.data_dir;
  DatasetTrajectory source;
  run_on_every_rank(comm, [&] { source = read_dataset_trajectory(dir, o.split, o.trajectory, "rollout.trajectory"); });
  const std::string& what = source.what;
  core::log_info(log.get(),
                 cat("trajectory: ", what, o.data_dir.empty() ? " (data.dir of the checkpoint's deck)" : ""));
  const double dt = source.dt;
  // Where the solver takes steps too, the run hands states between steps of two lengths: its
  // times are the solver's, and its errors those of a surrogate advancing another step.
  if (const std::string w = dt_mismatch_warning(m.data_dt, dt, what); !w.empty())
    core::log_warn(log.get(), o.schedule.solver_steps > 0 &&
                                      (o.schedule.surrogate_steps > 0 || o.schedule.trigger == Trigger::Divergence)
                                  ? cat(w, "; the solver's steps advance dt = ", dt,
                                        ", so this hybrid run alternates steps of two lengths and its times (dt = ", dt,
                                        " a step) are the solver's: give it a trajectory of the model's dt")
                                  : w);
  const TrajectoryData t = prepare_trajectory(source.data, m.options.augment, what);
  if (const std::string w = mesh_scale_warning(m.data_edge_length, mesh::mean_edge_length(t.mesh), what); !w.empty())
    core::log_warn(log.get(), w);
  require_steps_to_roll_out(t.steps(), what);
  if (const std::string w =
          trajectory_trained_on_warning(m.trained_on, cat(dir, "/", o.split, ".h5"), o.trajectory, t.fingerprint);
      !w.empty())
    core::log_warn(log.get(), w);
  const TrajectoryData on_device = t.to(device);
  const int64_t available = t.steps() - 1;
  if (o.steps > available)
    core::log_warn(log.get(), cat("rollout.steps = ", o.steps, " exceeds the ", available, " steps of ", what,
                                  ": rolling out ", available));
  const int64_t steps = o.steps > 0 ? std::min(o.steps, available) : available;
  // A fixed schedule whose surrogate turn covers the whole run is the surrogate alone.
  if (const Schedule& sc = o.schedule;
      sc.trigger == Trigger::Fixed && sc.solver_steps > 0 && sc.surrogate_steps >= steps)
    core::log_warn(log.get(), cat("hybrid.surrogate_steps = ", sc.surrogate_steps, " covers all ", steps,
                                  " steps: the solver takes none (a hybrid needs more steps, or a shorter turn)"));
  // A divergence threshold the data's own states exceed rejects every surrogate step: the level
  // of the solver's vertex fields depends on the mesh (0.086 on the example's, 0.18 on a coarser
  // one, where the default 0.1 made the hybrid the solver alone, 1.7 times slower, unwarned).
  const std::vector<double> v0 = first_state(t);
  if (const Schedule& sc = o.schedule; sc.trigger == Trigger::Divergence) {
    const double level = divergence_indicator(t.mesh, v0);
    if (!(sc.threshold > level))
      core::log_warn(log.get(), cat("hybrid.threshold ", sc.threshold, " is not above the divergence indicator of ",
                                    what, "'s first state (", core::sig3(level),
                                    "): the solver's own fields on this mesh exceed it, so the surrogate's steps will "
                                    "be rejected; set it above that level (docs/hybrid.md: about 1.2 times it)"));
  }
  // The solver, with the data's fluid and inflow.
  const TrajectoryFlow flow = [&] {
    try {
      return trajectory_flow(source.deck_yaml, cat(dir, "/", o.split, ".h5"), t.mesh, v0, o.solver);
    } catch (const Error& e) {  // the data's inflow: which trajectory's
      if (e.key() != "data.dir") throw;
      throw Error(cat(what, ": ", e.what()), e.key());
    }
  }();
  core::log_info(log.get(), cat("solver: viscosity ", flow.flow.viscosity, " (settings: ", flow.source,
                                "); inflow peak ", flow.flow.inflow_speed, " fitted to the data; ", t.mesh.num_nodes(),
                                " nodes, ", core::counted(comm.size(), "rank", "ranks")));
  // The solver imposes its profile at the inflow: data that do not follow it would be compared
  // with a solver driven by another inflow (a uniform inflow fitted by the parabola: misfit ~0.3).
  if (flow.inflow_misfit > 0.05)
    core::log_warn(log.get(),
                   cat("the inflow nodes' x-velocity differs from the ",
                       flow.flow.profile == solvers::FlowConfig::Profile::Uniform ? "uniform" : "parabolic",
                       " profile the solver imposes by ", std::lround(100 * flow.inflow_misfit),
                       "% (RMS): the solver is driven by another inflow than the data's, and its error says so"));
  // The mesh's node types come from the dataset here, not from mesh.groups: a mesh error is the data's.
  std::optional<solvers::NavierStokes> built;
  try {
    built.emplace(t.mesh, flow.flow, comm, flow.linear);
  } catch (const Error& e) {
    // Keyed to tessera-cfd's deck (mesh, mesh.groups), which this run has not: the data is at fault.
    if (e.key() == "mesh.groups")
      throw Error(cat(what, ": the solver cannot run on this trajectory's node types: ", e.what(),
                      "; for imported data, re-import with node_types.other_boundary or a node-type field "
                      "(docs/import.md)"));
    if (e.key() == "mesh") throw Error(cat(what, ": the solver cannot run on this trajectory's mesh: ", e.what()));
    throw;
  }
  solvers::NavierStokes& solver = *built;
  // The hybrid rollout, then the solver alone over the same steps.
  core::log_info(log.get(),
                 cat("hybrid rollout of ", core::counted(steps, "step", "steps"), ": ", schedule_text(o.schedule)));
  // A line every 10 s while each run computes (a solver step of a fine mesh takes seconds).
  auto run_with_progress = [&](const std::string& what, const Schedule& schedule, const SurrogateStep& surrogate,
                               solvers::NavierStokes& by) {
    core::Progress progress(log, what, steps, 10.0, comm.root() && core::Progress::is_terminal());
    HybridResult r = hybrid_rollout(schedule, surrogate, by, t, steps, dt, comm, [&] { progress.advance(1); });
    progress.finish_quietly();  // the results' lines follow
    return r;
  };
  const HybridResult h =
      run_with_progress("hybrid steps", o.schedule, model_step(*m.model, m.norms, on_device), solver);
  // A run stopped by the solver writes the steps before the failure (they hold what led to it),
  // then reports the failure; the solver alone is not run for a comparison it cannot complete.
  if (h.stopped_by && h.by_solver.empty()) throw *h.stopped_by;  // nothing to write
  if (h.stopped_by)
    core::log_warn(log.get(), cat("the hybrid rollout stopped at step ", h.by_solver.size() + 1, " of ", steps,
                                  ": writing the ", core::counted(h.by_solver.size(), "step", "steps"), " before it",
                                  o.pure_solver ? " (without the solver-alone run)" : ""));
  std::unique_ptr<HybridResult> alone;
  if (o.pure_solver && !h.stopped_by) {
    solvers::NavierStokes reference(t.mesh, flow.flow, comm, flow.linear);
    alone = std::make_unique<HybridResult>(
        run_with_progress("solver-alone steps", {0, 1, Trigger::Fixed, 0}, {}, reference));
  }
  // The solver alone failing (where the hybrid's solver steps did not): the hybrid's results are
  // written without a comparison that stopped part way, then the failure is reported.
  std::optional<Error> alone_failed;
  if (alone && alone->stopped_by) {
    alone_failed = Error(cat("the solver-alone run: ", alone->stopped_by->what()), alone->stopped_by->key());
    core::log_warn(log.get(), cat("the solver-alone run stopped at step ", alone->by_solver.size() + 1,
                                  ": writing the hybrid's results without it"));
    alone.reset();
  }
  const OneStepError one = comm.root() ? one_step_error(*m.model, m.norms, {on_device}, 1, steps) : OneStepError{};
  const HybridSummary s = summarize_hybrid(h, one, alone.get());
  const auto written = write_hybrid(o.output_base, t, h, alone.get(), s, o.schedule, dt, o.vtu, o.deck_yaml, comm);
  std::string cost;
  if (s.solver_alone_seconds)
    cost = cat("; solver alone ", core::sci(*s.solver_alone_seconds), " s (RMSE ", core::sci(*s.solver_alone_rmse),
               "): hybrid/solver time ", core::sci(s.seconds / *s.solver_alone_seconds));
  core::log_info(log.get(),
                 cat("solver took ", h.solver_steps(), " of ", h.by_solver.size(), " steps (", h.rejected,
                     " surrogate steps rejected); RMSE over all steps ", core::sci(s.rollout.rmse_all),
                     " (persistence ", core::sci(s.rollout.persistence_all), ", ratio ",
                     core::sci_ratio(s.rollout.rmse_all, s.rollout.persistence_all), "); the surrogate's 1-step RMSE ",
                     core::sci(s.rollout.one_step), "; wall ", core::sci(s.seconds), " s (surrogate ",
                     core::sci(s.surrogate_seconds), ", solver ", core::sci(s.solver_seconds), ")", cost));
  std::string files;
  for (const std::string& f : written) files += (files.empty() ? "" : ", ") + f;
  core::log_info(log.get(), cat("wrote ", files));
  if (h.stopped_by) throw *h.stopped_by;
  if (alone_failed) throw *alone_failed;
}

}  // namespace tessera::train::hybrid
