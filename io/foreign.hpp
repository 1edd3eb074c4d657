// Foreign mesh-simulation datasets (docs/import.md): readers for the published layouts into
// tessera's trajectories (io/dataset.hpp), and a writer of tessera's dataset layout from them.
//
//   graph-physics HDF5  one .h5 file, one group per trajectory: mesh_pos [T,N,2|3] or [N,2|3],
//                       cells [T,C,3] or [C,3], node_type [T,N,1] or [N,1] or [N], velocity
//                       [T,N,2|3], optional pressure [T,N,1] or [T,N]; dt from a meta.json beside it
//   VTU series          one .vtu per step (meshio/VTK): triangle cells, point data velocity,
//                       optional pressure and node_type; a .pvd collection, a directory of .vtu
//                       files (one trajectory, ordered by the last number in their names) or a
//                       directory of such directories (one trajectory each)
//   XDMF3 series        meshio's TimeSeriesWriter layout (a temporal Grid collection whose grids
//                       take Topology/Geometry from a mesh grid through xi:include, or carry
//                       their own, as tessera writes), HDF or XML data items; one trajectory
//
// Velocity is required. Pressure is optional: a dataset without it lists no pressure field in
// its meta.json (tessera's training and rollout read velocity only) and says so in import.yaml.
// Node types come from a field or are inferred from the boundary (NodeTypeOptions).
#pragma once
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/dataset.hpp"

namespace tessera::io {

enum class ForeignFormat { Auto, GraphPhysics, VtuSeries, Xdmf };
ForeignFormat parse_foreign_format(const std::string& name);  // auto, graph-physics, vtu, xdmf
const char* foreign_format_name(ForeignFormat f);

// Node types: from the data's field, or inferred. The inference rule, applied to the boundary
// nodes (nodes of mesh edges that belong to one triangle only), first match wins:
//   1. speed <= wall_speed * (largest speed of the trajectory) at every step        -> wall (6)
//   2. coordinate `axis` within tolerance * (extent along axis) of the upstream end   -> inflow (4)
//   3. coordinate `axis` within tolerance * (extent along axis) of the downstream end -> outflow (5)
//   4. any other boundary node                                                     -> other_boundary
// Interior nodes are normal (0). Upstream is the axis's minimum for flow towards +axis, its maximum
// for flow towards -axis; `direction` 0 takes the way from the data: the sign of the velocity
// component along the axis, summed over all nodes and steps.
struct NodeTypeOptions {
  enum class Mode { Auto, Field, Infer } mode = Mode::Auto;  // auto: the field if present, else infer
  double wall_speed = 1e-6;
  int axis = 0;       // 0: x, 1: y
  int direction = 0;  // +1: flow towards +axis, -1: towards -axis, 0: from the data
  double tolerance = 1e-6;
  int32_t other_boundary = 0;  // node type of boundary nodes matched by no rule
  std::string describe() const;
};

struct ImportOptions {
  ForeignFormat format = ForeignFormat::Auto;
  double dt = 0;  // 0: from the source (meta.json, .pvd or XDMF times); required otherwise
  // Field names in the source.
  std::string velocity = "velocity", pressure = "pressure", node_type = "node_type";
  // A field named on purpose (tessera-import: a name other than the default) must be there;
  // otherwise a misspelt name would silently drop the source's pressure or node types.
  bool pressure_required = false, node_type_required = false;
  std::string mesh_pos = "mesh_pos", cells = "cells";  // graph-physics HDF5 only
  NodeTypeOptions node_types;
  int64_t max_trajectories = 0;  // 0: all
  // A state, not a dataset: step `one_step` of a VTU or XDMF series alone (negative: counted from
  // the end, -1 the last), the rest of the series unread (tessera-rollout's rollout.source: state).
  // Unset: every step.
  std::optional<int64_t> one_step;
};

// One imported trajectory: fields cells, mesh_pos, node_type, velocity and (if present) pressure
// in tessera's layout ([T, rows, channels]).
struct ImportedTrajectory {
  std::string source;  // file or group it came from
  Trajectory fields;
  int64_t steps = 0, nodes = 0, cells = 0;
  bool has_pressure = false;
  std::string node_types;                  // "field 'node_type'" or "inferred"
  std::string inferred_flow;               // inferred: the flow's way along the axis, "+x" or "-x" (or y)
  std::map<int32_t, int64_t> type_counts;  // nodes per type code
  // ImportOptions::one_step: the step read (counted from 0) of the series' `series_steps`, and its
  // time stamp (NaN where the source has none).
  int64_t step = 0, series_steps = 0;
  double time = std::numeric_limits<double>::quiet_NaN();
  double spacing = std::numeric_limits<double>::quiet_NaN();  // its first two stamps' step, where stamped
};

struct ImportedDataset {
  std::string source;
  ForeignFormat format = ForeignFormat::Auto;
  double dt = 0;
  std::string dt_source;  // where dt came from
  // A different dt that the source gives and import.dt replaced (0: none), and where it came from.
  double replaced_dt = 0;
  std::string replaced_dt_source;
  std::vector<ImportedTrajectory> trajectories;
  std::vector<std::string> warnings;  // doubts about the source that the app logs (uneven step numbers)
  bool has_pressure() const;          // every trajectory has pressure
};

ForeignFormat detect_foreign_format(const std::string& path);
ImportedDataset read_graph_physics(const std::string& path, const ImportOptions& o);
ImportedDataset read_vtu_series(const std::string& path, const ImportOptions& o);
ImportedDataset read_xdmf_series(const std::string& path, const ImportOptions& o);
// Detects the format (unless o.format says it) and reads.
ImportedDataset read_foreign(const std::string& path, const ImportOptions& o);

// Writes <dir>/<split>.h5 + meta.json (atomically, io::DatasetWriter) and <dir>/<split>.import.yaml,
// which records the source, the fields present and absent and the node-type rule. All
// trajectories must have the same number of steps; `split` is a plain name (no path).
void write_imported(const ImportedDataset& d, const ImportOptions& o, const std::string& dir, const std::string& split,
                    const std::string& deck_yaml = "");

}  // namespace tessera::io
