// tessera-rollout deck.yaml: rolls a trained model out autoregressively on a dataset trajectory
// (boundary nodes imposed every step) and writes prediction, truth and error for ParaView plus
// RMSE metrics. Under mpirun the rollout is partitioned (halo refreshed every step).
#include "apps/app.hpp"
#include "io/dataset.hpp"
#include "io/log.hpp"
#include "io/mesh_deck.hpp"
#include "mesh/error.hpp"
#include "train/device.hpp"
#include "train/model_io.hpp"
#include "train/rollout_output.hpp"

using namespace tessera;

static void run(apps::Context& ctx) {
  const io::Deck& d = ctx.deck;
  const bool truth = d.get_string("rollout.source") == "dataset";
  if (!truth && d.get_int("rollout.steps") == 0) d.fail("rollout.steps", "must be > 0 with rollout.source: mesh");
  const std::string ck = d.resolve_path(d.get_string("rollout.checkpoint"));
  train::TrainedModel m = train::load_trained_model(ck);
  const at::Device device = train::device_from_deck(d, "rollout.device", ctx.comm);
  m.model->module().to(device);
  io::log_info(ctx.log.get(), cat("model: ", m.model->family(), " from ", ck, " (step ", m.step, ") on ", device.str()));
  // The trajectory: a dataset's (with ground truth) or a mesh with an initial condition.
  io::Trajectory traj;
  std::string what;
  double dt = d.get_float("rollout.dt");
  if (truth) {
    const std::string dir = d.has("data.dir") ? d.resolve_path(d.get_string("data.dir"))
                                              : m.deck->resolve_path(m.deck->get_string("data.dir"));
    const std::string split = d.get_string("data.split");
    io::DatasetReader reader(dir, split);
    const int64_t id = d.get_int("rollout.trajectory");
    const auto& ids = reader.trajectories();
    if (std::find(ids.begin(), ids.end(), id) == ids.end())
      d.fail("rollout.trajectory", cat(dir, "/", split, ".h5 has no trajectory ", id, " (it has ", ids.size(), ")"));
    traj = reader.read(id);
    what = cat(dir, "/", split, ".h5 #", id);
    dt = reader.meta().dt;
  } else {
    traj = train::initial_condition_trajectory(io::mesh_from_deck(d), d.get_int("rollout.steps"),
                                               d.get_float("rollout.initial.inflow_speed"),
                                               d.get_bool("rollout.initial.fill_interior"));
    what = "the deck's mesh";
  }
  // Whole trajectory (truth, output; on the host); under MPI also this rank's partition with a
  // halo as deep as the model, on which the rollout runs.
  train::TrajectoryData t = train::prepare_trajectory(traj, *m.deck, what), on_device = t.to(device);
  const int64_t steps = d.get_int("rollout.steps") > 0 ? d.get_int("rollout.steps") : t.steps() - 1;
  train::Rollout r;
  if (ctx.comm.size() > 1) {
    auto local = train::prepare_trajectory(traj, *m.deck, what, ctx.comm, static_cast<int>(m.deck->get_int("model.layers")));
    r = train::rollout(*m.model, m.norms, local.to(device), steps, ctx.comm);
  } else {
    r = train::rollout(*m.model, m.norms, on_device, steps);
  }
  // Only rank 0 logs and writes the metrics: the whole-graph one-step error is computed there alone.
  auto summary = train::summarize(
      r, ctx.comm.root() ? train::one_step_error(*m.model, m.norms, {on_device}, 1) : train::OneStepError{});
  const std::string base = d.get_string("output.dir") + "/" + d.get_string("output.name");
  train::write_rollout(base, t, r, summary, dt, d.get_bool("output.vtu"), d.resolved_yaml(), ctx.comm, truth);
  if (truth)
    io::log_info(ctx.log.get(), cat("1-step RMSE ", io::sci(summary.one_step), " (persistence ",
                                    io::sci(summary.one_step_persistence), "); rollout RMSE over 50 steps ",
                                    io::sci(summary.rmse_50), " (persistence ", io::sci(summary.persistence_50),
                                    "), over all ", r.rmse.size(), " steps ", io::sci(summary.rmse_all),
                                    " (persistence ", io::sci(summary.persistence_all), ")"));
  io::log_info(ctx.log.get(), cat("wrote ", base, ".xmf", truth ? cat(", ", base, "_metrics.csv, ", base, "_summary.csv") : ""));
}

int main(int argc, char** argv) {
  return apps::run_app(argc, argv,
                       {"tessera-rollout", "Roll a trained mesh simulator out on a trajectory and write ParaView files",
                        train::add_rollout_keys, run});
}
