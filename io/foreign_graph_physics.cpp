// Graph-physics HDF5 (io/foreign.hpp): one group per trajectory, dt from a meta.json beside the file.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "io/foreign.hpp"
#include "io/foreign_raw.hpp"
#include "io/h5.hpp"
#include "io/yaml_message.hpp"

namespace tessera::io {
namespace {

namespace fs = std::filesystem;
using namespace foreign_detail;

Array read_h5(const H5File& f, const std::string& dset) {
  Array a;
  a.what = cat(f.path(), ": ", dset);
  a.v = f.read<double>(dset, &a.dims);
  return a;
}

Raw read_gp_group(const H5File& f, const std::string& group, const ImportOptions& o) {
  Raw r;
  r.source = cat(f.path(), ": group ", group);
  const std::string g = group == "/" ? "" : group;
  // A dataset the deck names (fields.<key>) that the group lacks: located at that key, which
  // gives the source's own name for it.
  auto need = [&](const std::string& name, const std::string& expected, const std::string& key) {
    if (!f.exists(g + "/" + name))
      throw Error(
          cat(f.path(), ": trajectory group ", group, " has no dataset '", name, "'; expected ", name, " ", expected),
          key);
    return read_h5(f, g + "/" + name);
  };
  int ch = 0;
  int64_t steps = 0, rows = 0;
  const Array vel = need(o.velocity, "[T, N, 2]", "fields.velocity");
  dynamic_rows(vel, {2, 3}, steps, rows, ch, "[T, N, 2] (a velocity per step and node)");
  r.steps = steps;
  r.nodes = rows;
  r.velocity = to_2d(vel.v, ch, true, vel.what, rows);
  // A per-step array ([T, ...]) must have velocity's T steps (or one), though its steps must all be equal.
  auto same_steps = [&](const Array& a) {
    if (a.dims.size() == 3 && a.dims[0] != 1 && int64_t(a.dims[0]) != r.steps)
      throw Error(cat(a.what, ": shape ", shape_text(a.dims), " has ", a.dims[0], " steps, but ", o.velocity, " has ",
                      r.steps));
  };
  const Array pos = need(o.mesh_pos, "[N, 2] or [T, N, 2]", "fields.mesh_pos");
  same_steps(pos);
  int64_t n = 0;
  auto p = static_rows(pos, {2, 3}, n, ch, "[N, 2] or [T, N, 2]");
  if (n != r.nodes)
    throw Error(cat(pos.what, ": ", n, " nodes, but ", o.velocity, " has ", r.nodes, " (inconsistent node counts",
                    // Velocity stored node-major, [N, T, 2]: its steps are the mesh's node count.
                    r.steps == n ? cat("; ", o.velocity, " ", shape_text(vel.dims), " looks like [N, T, 2]: tessera ",
                                       "reads [T, N, 2], a velocity per step and node, so transpose it")
                                 : "",
                    ")"));
  r.pos = to_2d(p, ch, false, pos.what);
  const Array cells = need(o.cells, "[C, 3] or [T, C, 3] (triangles)", "fields.cells");
  same_steps(cells);
  int64_t nc = 0;
  r.cells = to_cells(static_rows(cells, {3}, nc, ch, "[C, 3] or [T, C, 3] (triangles)"), r.nodes, cells.what);
  if (f.exists(g + "/" + o.pressure)) {
    const Array pr = read_h5(f, g + "/" + o.pressure);
    int64_t ps = 0, pn = 0;
    dynamic_rows(pr, {1}, ps, pn, ch, "[T, N, 1] or [T, N]");
    if (ps != r.steps || pn != r.nodes)
      throw Error(cat(pr.what, ": shape ", shape_text(pr.dims), " does not match ", o.velocity, " ",
                      shape_text(vel.dims), " (expected [", r.steps, ", ", r.nodes, ", 1])"));
    r.pressure.assign(pr.v.begin(), pr.v.end());
  }
  if (f.exists(g + "/" + o.node_type)) {
    const Array nt = read_h5(f, g + "/" + o.node_type);
    same_steps(nt);
    int64_t nn = 0;
    r.node_type = static_rows(nt, {1}, nn, ch, "[N], [N, 1] or [T, N, 1]",
                              "node types must not change over time (one type per node)");
    if (nn != r.nodes)
      throw Error(cat(nt.what, ": ", nn, " nodes, but ", o.velocity, " has ", r.nodes, " (inconsistent node counts)"));
  }
  return r;
}

// meta.json (JSON is YAML) as a node; a null node when there is no file. Throws YAML::Exception.
YAML::Node load_meta(const std::string& meta_path) {
  std::ifstream in(meta_path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return YAML::Load(ss.str());
}

// The "dt" of meta.json; 0 when there is no meta.json or it has no "dt".
double dt_from_meta(const std::string& meta_path) {
  YAML::Node dt;
  try {
    const YAML::Node n = load_meta(meta_path);
    if (!n.IsMap() || !n["dt"]) return 0;
    dt = n["dt"];
  } catch (const YAML::Exception& e) {
    throw Error(cat(meta_path, ": not valid JSON/YAML: ", yaml_message(e)));
  }
  const std::string text = dt.IsScalar() ? dt.Scalar() : "a list or map";
  double x = NAN;
  try {
    x = dt.as<double>();
  } catch (const YAML::Exception&) {
  }
  if (!std::isfinite(x) || x <= 0)
    throw Error(cat(meta_path, ": \"dt\" is ", text, "; expected a positive number (the time step)"));
  return x;
}

// The "trajectory_length" of meta.json; 0 when there is none (or it is not a whole number, which
// nothing here reads: a doubt, not an error).
int64_t length_from_meta(const std::string& meta_path) {
  try {
    const YAML::Node n = load_meta(meta_path);
    if (n.IsMap() && n["trajectory_length"]) return n["trajectory_length"].as<int64_t>();
  } catch (const YAML::Exception&) {
  }
  return 0;
}

}  // namespace

ImportedDataset read_graph_physics(const std::string& path, const ImportOptions& o) {
  ImportedDataset d;
  d.source = path;
  d.format = ForeignFormat::GraphPhysics;
  if (fs::is_directory(path))
    throw Error(cat(path, ": a directory; graph-physics data is one .h5 file (give the file as import.source)"));
  const H5File f = H5File::open_read(path);
  std::vector<std::string> groups;
  if (f.exists("/" + o.velocity)) {
    groups = {"/"};  // a file holding one trajectory at its root
    // ... and trajectory groups beside it: which is meant is not clear.
    for (const auto& name : f.list("/"))
      if (f.exists("/" + name + "/" + o.velocity))
        throw Error(cat(path, ": holds '", o.velocity, "' both at its root and in group /", name,
                        " (a trajectory each); keep one layout: the root's datasets, or one group per trajectory"));
  } else {
    // Objects holding none of a trajectory's datasets (a /meta_info group, a root attribute table)
    // are no trajectories: left out with a warning (the first of them stopped the import).
    std::vector<std::string> skipped;
    for (const auto& name : f.list("/")) {
      const std::string g = "/" + name;
      if (f.exists(g + "/" + o.velocity) || f.exists(g + "/" + o.mesh_pos) || f.exists(g + "/" + o.cells))
        groups.push_back(g);
      else
        skipped.push_back(g);
    }
    // A trajectory group reached by a soft or external link would be skipped without a word.
    if (const auto links = f.unfollowed_links("/"); !links.empty()) throw Error(links.front());
    // None holds any: the file's datasets have other names (fields.* names them), or it is no
    // graph-physics file ("no trajectory groups" said so of a file holding groups).
    if (groups.empty() && !skipped.empty()) {
      std::sort(skipped.begin(), skipped.end(), natural_less);
      throw Error(
          cat(path, ": none of its ", skipped.size(), skipped.size() == 1 ? " object" : " objects", " (", skipped[0],
              skipped.size() > 1 ? ", ..." : "", ") holds '", o.velocity, "', '", o.mesh_pos, "' or '", o.cells,
              "'; name the file's datasets with fields.velocity, fields.mesh_pos and fields.cells"),
          "fields.velocity");
    }
    if (!skipped.empty() && !groups.empty()) {
      std::sort(skipped.begin(), skipped.end(), natural_less);
      std::string names;
      for (size_t k = 0; k < skipped.size() && k < 5; ++k) names += cat(k ? ", " : "", skipped[k]);
      d.warnings.push_back(cat(path, ": left out ", skipped.size(), skipped.size() == 1 ? " object" : " objects",
                               " holding none of '", o.velocity, "', '", o.mesh_pos, "', '", o.cells,
                               "' (not trajectories): ", names, skipped.size() > 5 ? ", ..." : ""));
    }
  }
  std::sort(groups.begin(), groups.end(), natural_less);
  if (groups.empty()) throw Error(cat(path, ": no trajectory groups (expected groups holding '", o.velocity, "')"));
  for (const auto& g : groups) {
    if (o.max_trajectories > 0 && int64_t(d.trajectories.size()) >= o.max_trajectories) break;
    d.trajectories.push_back(finish(read_gp_group(f, g, o), o));
  }
  const std::string meta = (fs::path(path).parent_path() / "meta.json").string();
  settle_dt(
      d, o, [&] { return dt_from_meta(meta); }, meta,
      fs::exists(meta) ? cat(meta, " has no \"dt\"") : cat("no meta.json beside the file (", meta, ")"));
  // A file shorter than its meta.json says is most often cut off (a copy or a download that
  // stopped): it imported without a word (a review found it, 2026-12-07).
  if (const int64_t length = length_from_meta(meta); length > 0 && !o.one_step)
    for (const ImportedTrajectory& t : d.trajectories)
      if (t.steps != length) {
        d.warnings.push_back(cat(t.source, " has ", t.steps, " steps, but ", meta, " gives \"trajectory_length\": ",
                                 length, t.steps < length ? " (a file cut off?)" : ""));
        break;
      }
  return d;
}

}  // namespace tessera::io
