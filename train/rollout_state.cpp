#include "train/rollout_state.hpp"

#include <algorithm>
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
    std::string what = e.what();
    // The importer's node-type setting is rollout.state.node_types here (the same values).
    for (size_t at = what.find("node_types.mode"); at != std::string::npos; at = what.find("node_types.mode", at))
      what.replace(at, 15, "rollout.state.node_types");
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
  using Mode = io::NodeTypeOptions::Mode;
  io_options.node_types.mode = o.node_types == "field"   ? Mode::Field
                               : o.node_types == "infer" ? Mode::Infer
                                                         : Mode::Auto;
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
  // Inferred from this one state: walls are the boundary nodes at rest in it. At rest everywhere
  // (a solver's step 0), every boundary node would be a wall, inflow and outflow held at 0.
  if (t.node_types == "inferred") {
    const auto& v = t.fields.at("velocity").f32;
    if (std::all_of(v.begin(), v.end(), [](float x) { return x == 0; }))
      throw Error(cat(o.file, ": step ", t.step, " is at rest (every velocity 0): node types cannot be inferred from ",
                      "it (every boundary node would be a wall); start from a later step, or from a series with a ",
                      "node_type field"),
                  "rollout.state.step");
  }
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
