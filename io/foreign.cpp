// Foreign datasets (io/foreign.hpp): format names and detection, the dispatch to the readers of
// each format (foreign_graph_physics.cpp, foreign_vtu.cpp, foreign_xdmf.cpp) and the writer of
// tessera's dataset layout with its import record.
#include "io/foreign.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/exact_text.hpp"
#include "io/deck.hpp"
#include "io/foreign_raw.hpp"

namespace tessera::io {
namespace {

namespace fs = std::filesystem;
using foreign_detail::lower;
using foreign_detail::trim;

std::string describe_fields(const ImportedDataset& d) {
  std::string s = "cells, mesh_pos, node_type, velocity";
  if (d.has_pressure()) s += ", pressure";
  return s;
}

}  // namespace

ForeignFormat parse_foreign_format(const std::string& name) {
  if (name == "auto") return ForeignFormat::Auto;
  if (name == "graph-physics") return ForeignFormat::GraphPhysics;
  if (name == "vtu") return ForeignFormat::VtuSeries;
  if (name == "xdmf") return ForeignFormat::Xdmf;
  throw Error(cat("unknown foreign format '", name, "'; expected auto, graph-physics, vtu or xdmf"));
}

const char* foreign_format_name(ForeignFormat f) {
  switch (f) {
    case ForeignFormat::GraphPhysics:
      return "graph-physics";
    case ForeignFormat::VtuSeries:
      return "vtu";
    case ForeignFormat::Xdmf:
      return "xdmf";
    default:
      return "auto";
  }
}

std::string NodeTypeOptions::describe() const {
  const char ax = axis == 0 ? 'x' : 'y';
  const std::string way = direction > 0   ? cat("flow towards +", ax)
                          : direction < 0 ? cat("flow towards -", ax)
                                          : cat("flow towards +", ax, " or -", ax, " by the sign of the mean v", ax);
  return cat("boundary nodes (on edges of one triangle): speed <= ", wall_speed,
             " x max speed at every step -> wall (6); ", "else ", ax, " within ", tolerance,
             " x extent of the upstream end -> inflow (4); of the downstream end -> outflow (5); else -> ",
             other_boundary, "; interior nodes -> normal (0); ", way);
}

bool ImportedDataset::has_pressure() const {
  return !trajectories.empty() &&
         std::all_of(trajectories.begin(), trajectories.end(), [](const auto& t) { return t.has_pressure; });
}

ForeignFormat detect_foreign_format(const std::string& path) {
  if (!fs::exists(path)) throw Error(cat(path, ": file or directory not found"));
  if (fs::is_directory(path)) {
    // A directory is a VTU series; say so if it holds none but files of the other formats, naming
    // an XDMF index before any HDF5 file (an XDMF series' heavy data are .h5 files beside it, which
    // are not graph-physics files), the first by name of each.
    bool series = false;
    std::string xdmf, h5;
    for (const auto& e : fs::directory_iterator(path)) {
      const std::string x = lower(e.path().extension().string()), name = e.path().filename().string();
      series = series || e.is_directory() || x == ".vtu" || x == ".pvd";
      std::string& kind = x == ".xmf" || x == ".xdmf" ? xdmf : h5;
      if ((x == ".h5" || x == ".hdf5" || x == ".xmf" || x == ".xdmf") && (kind.empty() || name < kind)) kind = name;
    }
    if (!series && !(xdmf.empty() && h5.empty()))
      throw Error(cat(path, ": a directory is read as a VTU series, but it holds no .vtu or .pvd files; for ",
                      xdmf.empty() ? "the graph-physics file " + h5 : "the XDMF series " + xdmf,
                      " give the file itself"));
    return ForeignFormat::VtuSeries;
  }
  const std::string ext = lower(fs::path(path).extension().string());
  if (ext == ".h5" || ext == ".hdf5" || ext == ".hdf") return ForeignFormat::GraphPhysics;
  if (ext == ".pvd") return ForeignFormat::VtuSeries;
  if (ext == ".xmf" || ext == ".xdmf") return ForeignFormat::Xdmf;
  if (ext == ".vtu")
    throw Error(cat(path, ": one .vtu file is one time step; give the directory or the .pvd of the series"));
  throw Error(cat(path,
                  ": unknown format (expected .h5/.hdf5 graph-physics, .pvd or a directory of .vtu files, "
                  "or .xmf/.xdmf)"));
}

ImportedDataset read_foreign(const std::string& path, const ImportOptions& o) {
  // A source that is missing or of no known kind is import.source's error; the readers' own
  // errors name the file and, where one is at fault, the fields.* or node_types.* key.
  const ForeignFormat f = with_key("import.source", [&] {
    // One step of one .vtu file: a state (a steady solver's one output); a dataset needs a series.
    if (o.one_step && o.format == ForeignFormat::Auto && fs::is_regular_file(path) &&
        lower(fs::path(path).extension().string()) == ".vtu")
      return ForeignFormat::VtuSeries;
    if (o.format == ForeignFormat::Auto) return detect_foreign_format(path);  // which refuses a missing one too
    if (!fs::exists(path)) throw Error(cat(path, ": file or directory not found"));
    return o.format;
  });
  switch (f) {
    case ForeignFormat::GraphPhysics:
      if (o.one_step)
        throw Error(cat(path,
                        ": a graph-physics HDF5 file is a dataset of trajectories; a state is read from a VTU "
                        "or XDMF series (import the file with tessera-import to roll its trajectories out)"));
      return read_graph_physics(path, o);
    case ForeignFormat::VtuSeries:
      return read_vtu_series(path, o);
    default:
      if (fs::is_directory(path))
        throw Error(cat(path, ": a directory; XDMF data is one .xmf/.xdmf file (give the file as import.source)"));
      return read_xdmf_series(path, o);
  }
}

void write_imported(const ImportedDataset& d, const ImportOptions& o, const std::string& dir, const std::string& split,
                    const std::string& deck_yaml) {
  if (d.trajectories.empty()) throw Error(cat(d.source, ": no trajectories to write"));
  if (!is_plain_file_name(split))
    throw Error(cat("output.split: '", split, "'; expected a plain name (letters, digits, _ - .), not a path"));
  if (split.size() > 3 && split.compare(split.size() - 3, 3, ".h5") == 0)
    throw Error(cat("output.split: '", split, "'; give the split's name without .h5 (the split is written to <dir>/",
                    split, ".h5 otherwise)"));
  const auto& first = d.trajectories.front();
  for (const auto& t : d.trajectories)
    if (t.steps != first.steps)
      throw Error(cat(t.source, ": ", t.steps, " steps, but ", first.source, " has ", first.steps,
                      "; a tessera dataset has one trajectory length (import them separately)"));
  DatasetMeta meta = DatasetMeta::cylinder_flow(first.steps, d.dt);
  if (!d.has_pressure()) meta.fields.pop_back();  // pressure is last: absent, not zero-filled
  // Splits in one directory share meta.json: refuse to make it disagree with another split.
  const std::string meta_path = dir + "/meta.json";
  if (fs::exists(meta_path)) {
    std::ifstream in(meta_path);
    std::stringstream ss;
    ss << in.rdbuf();
    bool other_split = false;
    for (const auto& e : fs::directory_iterator(dir))
      other_split = other_split || (e.path().extension() == ".h5" && e.path().stem() != split);
    if (other_split && ss.str() != meta.to_json()) {
      // Say what differs, rather than show the whole meta.json.
      std::string differs;
      const auto add = [&](const std::string& what) { differs += (differs.empty() ? "" : ", ") + what; };
      const auto names = [](const DatasetMeta& m) {
        std::string out;
        for (const auto& f : m.fields) out += (out.empty() ? "" : " ") + f.name;
        return out;
      };
      try {
        const DatasetMeta there = DatasetMeta::from_json(ss.str(), meta_path);
        if (there.dt != meta.dt) add(cat("dt ", meta.dt, " here, ", there.dt, " there"));
        if (there.trajectory_length != meta.trajectory_length)
          add(cat(meta.trajectory_length, " steps here, ", there.trajectory_length, " there"));
        if (names(there) != names(meta)) add(cat("fields '", names(meta), "' here, '", names(there), "' there"));
      } catch (const Error&) {
        add("its meta.json does not read as a tessera dataset's");
      }
      if (differs.empty()) differs = trim(ss.str());
      throw Error(cat(meta_path, ": another split of this directory differs from this one (", differs,
                      "); write this one to another directory"));
    }
  }
  DatasetWriter w(dir, split, meta, Comm::self(), deck_yaml);
  for (size_t i = 0; i < d.trajectories.size(); ++i) w.write(int64_t(i), d.trajectories[i].fields);
  w.finish();
  // The record of what was imported, and how.
  YAML::Emitter e;
  e << YAML::BeginMap;
  // Absolute: a source given in a deck is relative to the working directory the import ran in.
  e << YAML::Key << "source" << YAML::Value << std::filesystem::absolute(d.source).lexically_normal().string();
  e << YAML::Key << "format" << YAML::Value << foreign_format_name(d.format);
  e << YAML::Key << "split" << YAML::Value << split;
  e << YAML::Key << "trajectories" << YAML::Value << d.trajectories.size();
  e << YAML::Key << "steps" << YAML::Value << first.steps;
  e << YAML::Key << "dt" << YAML::Value << YAML::DoublePrecision(core::exact_digits(d.dt)) << d.dt << YAML::Key
    << "dt_from" << YAML::Value << d.dt_source;
  e << YAML::Key << "fields" << YAML::Value << describe_fields(d);
  // The fields the source lacks, as a list ("absent: \"\"" read as a field with an empty name).
  std::vector<std::string> absent;
  if (!d.has_pressure()) absent.push_back("pressure");
  e << YAML::Key << "absent" << YAML::Value << YAML::Flow << absent;
  e << YAML::Key << "node_types" << YAML::Value << YAML::BeginSeq;
  for (const auto& t : d.trajectories)
    e << cat(t.source, ": ", t.node_types, t.inferred_flow.empty() ? "" : " (flow towards " + t.inferred_flow + ")");
  e << YAML::EndSeq;
  // The inference rule, where it gave some trajectory its types (with node types from a field its
  // settings played no part, and the record would contradict the app's warning that they were idle).
  if (std::any_of(d.trajectories.begin(), d.trajectories.end(),
                  [](const auto& t) { return t.node_types == "inferred"; }))
    e << YAML::Key << "node_type_rule" << YAML::Value << o.node_types.describe();
  e << YAML::EndMap;
  core::write_text_atomic(dir + "/" + split + ".import.yaml", std::string(e.c_str()) + "\n");
}

}  // namespace tessera::io
