#include "train/rollout_state.hpp"

#include <cmath>

#include "core/error.hpp"
#include "io/foreign.hpp"

namespace tessera::train {

namespace {

// The importer's errors carry its own deck's keys (import.source, fields.velocity): here they are
// rollout.state's.
io::ImportedDataset read_keyed(const std::string& file, const io::ImportOptions& o) {
  try {
    return io::read_foreign(file, o);
  } catch (const Error& e) {
    const std::string what = e.what();
    const std::string key = e.key() == "fields.velocity"                   ? "rollout.state.velocity"
                            : what.find(": no step ") != std::string::npos ? "rollout.state.step"
                                                                           : "rollout.state.file";
    throw Error(what, key);
  }
}

}  // namespace

SeriesState read_series_state(const StateOptions& o) {
  io::ImportOptions io_options;
  io_options.one_step = o.step;
  io_options.dt = 1;  // one state has no time step; the rollout's is the model's (rollout.dt)
  io_options.velocity = o.velocity.empty() ? "velocity" : o.velocity;
  io::ImportedDataset d;
  try {
    d = read_keyed(o.file, io_options);
  } catch (const Error& e) {
    // A tessera rollout's series holds its prediction as velocity_pred: continuing one needs no key.
    if (!o.velocity.empty() || e.key() != "rollout.state.velocity" ||
        std::string(e.what()).find("velocity_pred") == std::string::npos)
      throw;
    io_options.velocity = "velocity_pred";
    d = read_keyed(o.file, io_options);
  }
  if (d.trajectories.size() != 1)
    throw Error(
        cat(o.file, ": ", d.trajectories.size(), " series (a folder of trajectory folders); a state comes from ",
            "one series: name its folder, .pvd or .xmf"),
        "rollout.state.file");
  io::ImportedTrajectory& t = d.trajectories[0];
  SeriesState s;
  s.step = t.step;
  s.series_steps = t.series_steps;
  s.time = t.time;
  s.node_types = t.node_types;
  s.warnings = d.warnings;
  s.what =
      cat(o.file, " step ", t.step, " of ", t.series_steps,
          std::isfinite(t.time) ? cat(" (t = ", t.time, ")") : std::string(), ", field '", io_options.velocity, "'");
  s.data = std::move(t.fields);
  s.data.erase("pressure");  // the mesh simulators read velocity alone
  return s;
}

}  // namespace tessera::train
