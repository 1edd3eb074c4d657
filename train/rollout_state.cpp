#include "train/rollout_state.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>
#include <vector>

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
    auto has = [&](const char* text) { return what.find(text) != std::string::npos; };
    // A field of the wrong shape (a scalar named as the velocity) is the velocity key's error.
    const std::string key =
        e.key() == "fields.velocity" || has("; expected [N, 2] or [N, 3]") || has("; expected 2 or 3")
            ? "rollout.state.velocity"
        : has(": no step ")         ? "rollout.state.step"
        : has("no node-type field") ? "rollout.state.node_types"
                                    : "rollout.state.file";
    throw Error(what, key);
  }
}

// The series `file` names: a folder holding one XDMF series (tessera's outputs: no .vtu or .pvd
// beside it) is that series' .xmf; the data file of an XDMF step (tessera's <name>_000012.h5) is
// refused, naming its series (it was read as a graph-physics dataset and refused as one).
std::string series_file(const std::string& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(file);
  auto listed = [](const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& n : names) text += cat(text.empty() ? "" : ", ", n);
    return text;
  };
  auto xdmf_in = [&](const fs::path& dir) {
    std::vector<std::string> found;
    bool vtk = false;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string ext = e.path().extension().string();
      if (ext == ".xmf" || ext == ".xdmf") found.push_back(e.path().filename().string());
      vtk = vtk || ext == ".vtu" || ext == ".pvd";
    }
    std::sort(found.begin(), found.end());
    return std::pair{found, vtk};
  };
  if (fs::is_directory(p, ec)) {
    const auto [found, vtk] = xdmf_in(p);
    if (vtk || found.empty()) return file;  // a VTU series, or the reader's own error
    if (found.size() == 1) return (p / found[0]).string();
    throw Error(cat(file, ": a folder of ", found.size(), " XDMF series (", listed(found), "); name one"),
                "rollout.state.file");
  }
  if (p.extension() == ".h5") {
    const auto [found, vtk] = xdmf_in(p.parent_path().empty() ? fs::path(".") : p.parent_path());
    if (!found.empty())
      throw Error(cat(file, ": a data file beside an XDMF series; give the series (", listed(found), ")"),
                  "rollout.state.file");
  }
  return file;
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
  const std::string file = series_file(o.file);
  io::ImportedDataset d;
  try {
    d = read_keyed(file, io_options);
  } catch (const Error& e) {
    // A tessera rollout's series holds its prediction as velocity_pred: continuing one needs no key.
    if (!o.velocity.empty() || e.key() != "rollout.state.velocity" ||
        std::string(e.what()).find("velocity_pred") == std::string::npos)
      throw;
    io_options.velocity = "velocity_pred";
    d = read_keyed(file, io_options);
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
  s.time = t.time;
  s.spacing = t.spacing;
  // The types' counts, and a word where inference found no inflow or no outflow (a channel whose
  // flow runs along y finds neither: rollout.state.node_types names the way out).
  auto count = [&](int32_t type) {
    const auto it = t.type_counts.find(type);
    return it == t.type_counts.end() ? int64_t(0) : it->second;
  };
  s.node_types = cat(t.node_types, t.inferred_flow.empty() ? "" : ", flow towards " + t.inferred_flow, " (", count(0),
                     " normal, ", count(4), " inflow, ", count(5), " outflow, ", count(6), " wall)");
  s.warnings = d.warnings;
  if (t.node_types == "inferred" && (count(4) == 0 || count(5) == 0))
    s.warnings.push_back(
        cat(file, " step ", t.step, ": the node types inferred have no ", count(4) == 0 ? "inflow" : "outflow",
            " nodes (inflow is taken at the upstream end of x, outflow at the other): the rollout holds ",
            "every boundary node it took for a wall at its value; a series with a node_type field ",
            "says which is which"));
  s.what =
      cat(file, " step ", t.step, " of ", t.series_steps,
          std::isfinite(t.time) ? cat(" (t = ", t.time, ")") : std::string(), ", field '", io_options.velocity, "'");
  s.data = std::move(t.fields);
  s.data.erase("pressure");  // the mesh simulators read velocity alone
  return s;
}

}  // namespace tessera::train
