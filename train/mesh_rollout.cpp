#include "train/mesh_rollout.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <optional>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "io/dataset.hpp"
#include "io/deck.hpp"
#include "linalg/bf16_products.hpp"
#include "train/device.hpp"
#include "train/family.hpp"
#include "train/model_io.hpp"
#include "train/rollout_batch.hpp"
#include "train/rollout_output.hpp"

namespace tessera::train {

void add_rollout_keys(io::Schema& s) {
  using io::KeyType;
  s.add("rollout.source", KeyType::Choice, "dataset",
        "dataset: initial state and ground truth from a dataset trajectory; mesh: the `mesh` section and an "
        "initial condition (no ground truth, no error metrics)")
      .choices = {"dataset", "mesh"};
  s.add("rollout.trajectory", KeyType::Int, "0", "trajectory index in the split").min = 0;
  s.add("rollout.trajectories", KeyType::IntList, "[]",
        "several trajectories of the split instead of rollout.trajectory (source dataset): each is written to "
        "<output.dir>/<output.name>_<id>.*, the per-trajectory and mean metrics to <output.name>_trajectories.csv; "
        "under mpirun they are dealt out to the ranks")
      .min = 0;
  s.add("rollout.batch", KeyType::Bool, "true",
        "with rollout.trajectories: roll a rank's trajectories out together, one forward pass per step for all of "
        "them (the disjoint union of their graphs); false: one after another");
  auto& dt =
      s.add("rollout.dt", KeyType::Float, "0.01",
            "time step for output time stamps (source mesh); default: the training data's dt where the checkpoint "
            "stores it, else 0.01");
  dt.min = 0, dt.min_exclusive = true;
  s.add("rollout.precision", KeyType::Choice, "fp32",
        "fp32, or bf16: the model's matrix products in bf16 (weights rounded once, activations per panel, sums and "
        "everything else in fp32), about twice the products' speed on CPUs with AVX512-BF16; the CPU only")
      .choices = {"fp32", "bf16"};
  s.add("rollout.initial.inflow_speed", KeyType::Float, "1.0", "peak of the parabolic inflow profile (source mesh)");
  s.add("rollout.initial.fill_interior", KeyType::Bool, "true",
        "start interior and outflow nodes with the inflow profile too, instead of at rest (source mesh)");
  io::add_mesh_keys(s);
  s.section("data", "the dataset to take the initial condition and ground truth from");
  s.add("data.dir", KeyType::String, "", "dataset directory; default: the training deck's data.dir");
  s.add("data.split", KeyType::String, "test", "split to read the trajectory from");
  s.add("output.vtu", KeyType::Bool, "false", "also write one .vtu per step and a .pvd collection");
  // What each source does not read: set anyway, a warning (run_app).
  for (const char* k : {"rollout.dt", "rollout.initial", "mesh"}) s.read_only_when(k, {{"rollout.source", {"mesh"}}});
  for (const char* k : {"rollout.trajectory", "rollout.batch", "data"})
    s.read_only_when(k, {{"rollout.source", {"dataset"}}});
  // One trajectory, or the list: the other key is idle (an out-of-range rollout.trajectory beside
  // a list ran without a word).
  s.read_only_when("rollout.trajectory", {{"rollout.trajectories", {"[]"}}}, "rollout.trajectories lists them");
  s.read_only_when("rollout.batch", {io::not_one_of("rollout.trajectories", {"[]"})},
                   "one trajectory is rolled out alone");
  io::add_mesh_read_conditions(s);
}

RolloutOptions rollout_options(const io::Deck& d) {
  RolloutOptions o;
  o.from_dataset = d.get_string("rollout.source") == "dataset";
  o.steps = d.get_int("rollout.steps");
  if (!o.from_dataset && o.steps == 0) d.fail("rollout.steps", "must be > 0 with rollout.source: mesh");
  o.checkpoint = d.resolve_path(d.get_string("rollout.checkpoint"));
  o.trajectory = d.get_int("rollout.trajectory");
  o.trajectories = d.get_ints("rollout.trajectories");
  if (!o.trajectories.empty() && !o.from_dataset) d.fail("rollout.trajectories", "needs rollout.source: dataset");
  for (size_t i = 0; i < o.trajectories.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (o.trajectories[i] == o.trajectories[j])  // its files and metrics would be written twice
        d.fail("rollout.trajectories", cat("lists trajectory ", o.trajectories[i], " twice"));
  o.batch = d.get_bool("rollout.batch");
  o.device = read_device(d, "rollout.device");
  o.bf16_products = d.get_string("rollout.precision") == "bf16";
  if (o.bf16_products && o.device != "cpu") d.fail("rollout.precision", "bf16 is for rollout.device: cpu");
  if (o.bf16_products && !linalg::bf16_products_available())
    d.fail("rollout.precision", "bf16 needs libxsmm's bf16 kernels and a CPU with AVX512-BF16; this machine has none");
  o.dt = d.get_float("rollout.dt");
  o.dt_given = d.given("rollout.dt");
  o.inflow_speed = d.get_float("rollout.initial.inflow_speed");
  o.fill_interior = d.get_bool("rollout.initial.fill_interior");
  if (!o.from_dataset) o.mesh = io::mesh_options(d);
  if (d.has("data.dir")) o.data_dir = d.resolve_path(d.get_string("data.dir"));
  o.split = d.get_string("data.split");
  o.output_base = d.get_output_dir("output.dir") + "/" + d.get_file_name("output.name");
  o.vtu = d.get_bool("output.vtu");
  o.deck_yaml = d.resolved_yaml();
  return o;
}

namespace {

// The trajectory to roll out: a dataset's (with ground truth) or a mesh with an initial
// condition. Sets `what` (its name in messages) and `dt`.
io::Trajectory source_trajectory(const RolloutOptions& o, const TrainedModel& m, std::string& what, double& dt) {
  dt = !o.dt_given && m.data_dt > 0 ? m.data_dt : o.dt;
  if (!o.from_dataset) {
    what = "the deck's mesh";
    return initial_condition_trajectory(io::build_mesh(o.mesh), o.steps, o.inflow_speed, o.fill_interior);
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
  core::log_info(log, cat("1-step RMSE ", core::sci(s.one_step), " (persistence ", core::sci(s.one_step_persistence),
                          "); ", first50, "over all ", steps, " steps ", core::sci(s.rmse_all), " (persistence ",
                          core::sci(s.persistence_all), ")"));
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
  double dt = 0;
  io::Trajectory traj;
  run_on_every_rank(comm, [&] { traj = source_trajectory(o, m, what, dt); });
  if (!o.from_dataset)
    core::log_info(log.get(), cat("time step dt = ", dt,
                                  o.dt_given      ? " (rollout.dt)"
                                  : m.data_dt > 0 ? " (the training data's; rollout.dt sets another)"
                                                  : " (rollout.dt's default; the checkpoint does not store the "
                                                    "training data's)"));
  if (const std::string w = dt_mismatch_warning(m.data_dt, dt, o.from_dataset ? what : "the rollout (rollout.dt)");
      !w.empty())
    core::log_warn(log.get(), w);
  // Whole trajectory (truth, output; on the host); under MPI also this rank's partition with a
  // halo as deep as the model, on which the rollout runs.
  TrajectoryData t = prepare_trajectory(traj, m.options.augment, what), on_device = t.to(device);
  if (o.from_dataset) require_steps_to_roll_out(t.steps(), what);
  const int64_t available = t.steps() - 1;
  if (o.from_dataset && o.steps > available)
    core::log_warn(log.get(), cat("rollout.steps = ", o.steps, " exceeds the ", available, " steps of ", what,
                                  ": rolling out ", available));
  const int64_t steps = o.steps > 0 ? std::min(o.steps, available) : available;
  Rollout r;
  if (comm.size() > 1) {
    const int hops = static_cast<int>(m.options.model.depth());
    auto local = prepare_trajectory(traj, m.options.augment, what, comm, hops);
    if (const std::string w = halo_coverage_warning(
            local, m.options.augment, hops,
            "one rank would be as fast, and rollout.trajectories deals whole trajectories to the ranks");
        !w.empty())
      core::log_warn(log.get(), w);
    r = rollout(*m.model, m.norms, local.to(device), steps, comm);
  } else {
    r = rollout(*m.model, m.norms, on_device, steps);
  }
  // Only rank 0 logs and writes the metrics: the whole-graph one-step error is computed there alone.
  auto summary = summarize(r, comm.root() ? one_step_error(*m.model, m.norms, {on_device}, 1, steps) : OneStepError{},
                           comm.root() && o.from_dataset ? &t : nullptr, dt);
  const auto written = write_rollout(o.output_base, t, r, summary, dt, o.vtu, o.deck_yaml, comm, o.from_dataset);
  if (const std::string w = divergence_warning(r, what); !w.empty()) core::log_warn(log.get(), w);
  if (o.from_dataset) log_summary(log.get(), summary, r.rmse.size());
  std::string files;
  for (const std::string& f : written) files += (files.empty() ? "" : ", ") + f;
  core::log_info(log.get(), cat("wrote ", files));
}

}  // namespace tessera::train
