#include "train/mesh_rollout.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "core/progress.hpp"
#include "core/same_on_ranks.hpp"
#include "io/dataset.hpp"
#include "linalg/bf16_products.hpp"
#include "train/device.hpp"
#include "train/family.hpp"
#include "train/model_io.hpp"
#include "train/rollout_batch.hpp"
#include "train/rollout_output.hpp"

namespace tessera::train {

namespace {

// The trajectory to roll out: a dataset's (with ground truth), a mesh with an initial condition,
// or a series' state. Sets `what` (its name in messages), `dt` and `t0`, the time of its first
// state; logs what a series' state is.
io::Trajectory source_trajectory(const RolloutOptions& o, const TrainedModel& m, std::string& what, double& dt,
                                 double& t0, spdlog::logger* log) {
  const bool data_dt = !o.dt_given && m.data_dt > 0;  // the training data's, else rollout.dt
  dt = data_dt ? m.data_dt : o.dt;
  t0 = 0;
  if (!o.state.file.empty()) {
    SeriesState s = read_series_state(o.state);
    what = s.what;
    core::log_info(log, cat("initial state: ", s.what, "; node types ", s.node_types));
    for (const std::string& w : s.warnings) core::log_warn(log, w);
    if (std::isfinite(s.time))
      t0 = s.time;
    else
      core::log_info(log, "the series has no time stamps: the rollout's times start at 0");
    // The series' states a whole number of the rollout's steps apart (output.every of a stopped
    // rollout) go on seamlessly; other spacings (a first run with rollout.dt = 0.01, a solver's
    // output every 0.01 against a model trained on 0.05) would change step at the seam unsaid.
    if (const double ratio = s.spacing / dt;
        std::isfinite(ratio) && !(std::round(ratio) >= 1 && std::abs(ratio - std::round(ratio)) <= 1e-6 * ratio))
      core::log_warn(log, cat("the series' states are ", s.spacing, " apart, and the rollout's steps ", dt, " (",
                              data_dt ? "the training data's" : "rollout.dt",
                              "): its times go on from the state's in steps of ", dt));
    // A stopped bundling rollout goes on exactly only from the first state of a bundle (its
    // partial series usually ends inside one: 6 + 2 steps of bundle 4 differed from 8 by 3e-3).
    if (const int64_t bundle = m.model->bundle(); bundle > 1)
      core::log_info(log, cat("model.bundle = ", bundle, ": a rollout goes on exactly from a state whose rollout step ",
                              "is a multiple of ", bundle, "; from another, its first pass starts a new bundle there"));
    return std::move(s.data);
  }
  if (!o.from_dataset) {
    what = "the deck's mesh";
    mesh::Mesh mesh = io::build_mesh(o.mesh);
    // Checked here, naming the file and what it holds (add_mesh_fields refused it later, naming
    // itself: "the graph-physics layout here stores 2D triangle meshes").
    if (mesh.dim != 2 || mesh.cell_type != mesh::CellType::Triangle)
      throw Error(cat(o.mesh.source == "cylinder" ? "the built-in channel" : o.mesh.file, ": ", mesh.num_cells(), " ",
                      mesh::cell_type_name(mesh.cell_type), " cells in ", mesh.dim,
                      "D; the mesh simulators roll out on 2D triangle meshes"),
                  "mesh.file");
    if (const std::string w = io::untyped_boundary_warning(mesh); !w.empty()) core::log_warn(log, w);
    io::Trajectory t = initial_condition_trajectory(mesh, o.inflow_speed, o.fill_interior);
    // What the rollout starts from, to check against the mesh (which nodes took the inflow).
    const mesh::Box in = mesh::inflow_extent(mesh);
    std::string types;
    for (const auto& [type, count] : mesh::node_type_counts(mesh))
      types += cat(types.empty() ? "" : ", ", type, ": ", count);
    core::log_info(log, cat("mesh: ", mesh.num_nodes(), " nodes, ", mesh.num_cells(), " triangles; node types ", types,
                            "; a parabolic inflow of peak ", o.inflow_speed, " at x = ", in.x0, ", y ", in.y0, " to ",
                            in.y1, o.fill_interior ? ", and in the interior" : ""));
    return t;
  }
  DatasetTrajectory d = read_dataset_trajectory(o.data_dir.empty() ? m.options.data.dir : o.data_dir, o.split,
                                                o.trajectory, "rollout.trajectory");
  what = d.what;
  dt = d.dt;
  return std::move(d.data);
}

void log_summary(spdlog::logger* log, const RolloutSummary& s, size_t steps) {
  const std::string first50 = steps >= 50 ? cat("rollout RMSE over 50 steps ", core::sci(s.rmse_50), " (persistence ",
                                                core::sci(s.persistence_50), "), ")
                                          : std::string("rollout RMSE ");
  core::log_info(log,
                 cat("1-step RMSE ", core::sci(s.one_step), " (persistence ", core::sci(s.one_step_persistence), "); ",
                     first50, "over ", steps == 1 ? std::string("its 1 step") : cat("all ", steps, " steps"), " ",
                     core::sci(s.rmse_all), " (persistence ", core::sci(s.persistence_all), ")"));
}

}  // namespace

void run_mesh_rollout(const RolloutOptions& o, const Comm& comm, const std::shared_ptr<spdlog::logger>& log) {
  // Every rank reads the checkpoint and the data: what one rank cannot read is every rank's error.
  TrainedModel m;
  run_on_every_rank(comm, [&] { m = load_trained_model(o.checkpoint); });
  const at::Device device = select_device_for(o.device, "rollout.device", comm);
  m.model->module().to(device);
  core::log_info(log.get(),
                 cat("model: ", m.model->family(), " from ", o.checkpoint, " (step ", m.step, ") on ", device.str()));
  // rollout.precision: bf16 holds the bf16 weights for the whole job (rollouts and one-step errors).
  std::optional<linalg::Bf16Products> bf16;
  if (o.bf16_products) {
    bf16.emplace(linalg::matrix_weights(m.model->module()));
    core::log_info(log.get(), "matrix products in bf16 (rollout.precision)");
  }
  if (!o.trajectories.empty()) return run_rollout_batch(o, m, device, comm, log);
  std::string what;
  double dt = 0, t0 = 0;
  io::Trajectory traj;
  run_on_every_rank(comm, [&] { traj = source_trajectory(o, m, what, dt, t0, log.get()); });
  if (o.from_dataset)  // which data is scored, also when data.dir comes from the training deck
    core::log_info(log.get(),
                   cat("trajectory: ", what, o.data_dir.empty() ? " (data.dir of the checkpoint's deck)" : ""));
  if (!o.from_dataset)
    core::log_info(log.get(), cat("time step dt = ", dt,
                                  o.dt_given      ? " (rollout.dt)"
                                  : m.data_dt > 0 ? " (the training data's; rollout.dt sets another)"
                                                  : " (no rollout.dt given, and the checkpoint does not store the "
                                                    "training data's dt)"));
  if (const std::string w = dt_mismatch_warning(m.data_dt, dt, o.from_dataset ? what : "the rollout (rollout.dt)");
      !w.empty())
    core::log_warn(log.get(), w);
  // Whole trajectory (truth, output; on the host); under MPI also this rank's partition with a
  // halo as deep as the model, on which the rollout runs.
  TrajectoryData t = prepare_trajectory(traj, m.options.augment, what);
  // Every rank read it for itself: another copy on one node ended in MPI_ERR_TRUNCATE (checked
  // before the partitioning below, the first collective on the data).
  core::require_same_data(comm, t.fingerprint, "data to roll out", o.from_dataset ? "data.dir" : "");
  if (const std::string w = mesh_scale_warning(m.data_edge_length, mesh::mean_edge_length(t.mesh), what); !w.empty())
    core::log_warn(log.get(), w);
  if (o.from_dataset) {
    require_steps_to_roll_out(t.steps(), what);
    const std::string file = cat(o.data_dir.empty() ? m.options.data.dir : o.data_dir, "/", o.split, ".h5");
    if (const std::string w = trajectory_trained_on_warning(m.trained_on, file, o.trajectory, t.fingerprint);
        !w.empty())
      core::log_warn(log.get(), w);
  }
  const int64_t available = o.from_dataset ? t.steps() - 1 : o.steps;
  if (o.from_dataset && o.steps > available)
    core::log_warn(log.get(), cat("rollout.steps = ", o.steps, " exceeds the ", available, " steps of ", what,
                                  ": rolling out ", available));
  const int64_t steps = o.steps > 0 ? std::min(o.steps, available) : available;
  // On a mesh the one initial state is held for every step (a view, not copies).
  auto hold = [&](TrajectoryData d) { return o.from_dataset ? d : held_for(std::move(d), steps); };
  TrajectoryData on_device = hold(t.to(device));
  t = hold(std::move(t));
  std::optional<TrajectoryData> local;
  if (comm.size() > 1) {
    const int hops = static_cast<int>(m.options.model.depth());
    local = hold(prepare_trajectory(traj, m.options.augment, what, comm, hops).to(device));
    if (const std::string w = halo_coverage_warning(
            *local, m.options.augment, hops,
            // rollout.trajectories is read with source dataset only: no advice to use it elsewhere.
            o.from_dataset ? "one rank would be as fast, and rollout.trajectories deals whole trajectories to the ranks"
                           : "one rank would be as fast");
        !w.empty())
      core::log_warn(log.get(), w);
  }
  traj = io::Trajectory{};  // prepared: the file's copy of the data goes
  // The states go to the files as they are made, into <output.dir>/<name>.partial until the last:
  // a run stopped while it computes (a time limit, Ctrl-C) leaves the earlier results as they
  // were, and its own steps so far in the staging folder (a series ParaView opens).
  RolloutWriter writer(o.output_base, t, steps, dt, o.vtu, o.deck_yaml, comm, o.from_dataset, true, o.every);
  writer.start_at(t0);  // a series' state goes on from its time
  // A line every 10 s while it computes (1,000 steps of a 15,000-node mesh ran 66 s without one).
  core::Progress progress(log, "rollout steps", steps, 10.0, comm.root() && core::Progress::is_terminal());
  auto advance = [&] { progress.advance(1); };
  auto write = [&](int64_t k, const at::Tensor& state) { writer.write_state(k, state); };
  const Rollout r = local ? stream_rollout(*m.model, m.norms, *local, steps, comm, write, advance)
                          : stream_rollout(*m.model, m.norms, on_device, steps, Comm::self(), write, advance);
  progress.finish_quietly();  // the results' lines follow
  // Only rank 0 logs and writes the metrics: the whole-graph one-step error is computed there
  // alone; a rollout without ground truth has none (its one-step predictions doubled its time).
  const RolloutSummary summary = summarize(
      r, comm.root() && o.from_dataset ? one_step_error(*m.model, m.norms, {on_device}, 1, steps) : OneStepError{});
  // The results are there: what an earlier rollout into this folder left goes, in either form (a
  // rollout of one trajectory after a list, or the other way round, left the other's files:
  // rollout_12.vtu, step 12 of one trajectory, beside rollout_0.pvd, trajectory 0 of a list),
  // just before the new series moves in.
  const auto written = writer.finish(r, summary, [&] { remove_earlier_rollouts(o.output_base); });
  if (const std::string w = divergence_warning(r, what); !w.empty()) core::log_warn(log.get(), w);
  if (o.from_dataset) log_summary(log.get(), summary, r.rmse.size());
  std::string files;
  for (const std::string& f : written) files += (files.empty() ? "" : ", ") + f;
  const std::string held = o.every > 1 ? cat(" (the series holds ", writer.series_states(), " of the ", steps + 1,
                                             " states: output.every ", o.every, ")")
                                       : "";
  core::log_info(log.get(), cat("wrote ", files, held));
}

}  // namespace tessera::train
