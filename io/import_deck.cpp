#include "io/import_deck.hpp"

#include "io/deck.hpp"
#include "io/foreign.hpp"

namespace tessera::io {

void add_import_keys(Schema& s) {
  s.section("import", "the foreign dataset");
  Schema::input_path(
      s.required("import.source", KeyType::String,
                 "graph-physics .h5, a .pvd or directory of .vtu files (VTU series), or an .xmf/.xdmf (XDMF3 series)"));
  s.add("import.format", KeyType::Choice, "auto", "source format; auto: from the name (.h5, .pvd/dir, .xmf)")
      .choices = {"auto", "graph-physics", "vtu", "xdmf"};
  s.add("import.dt", KeyType::Float, "0", "time step; 0: from the source (meta.json, .pvd or XDMF times)").min = 0;
  s.add("import.max_trajectories", KeyType::Int, "0", "import at most this many trajectories; 0: all").min = 0;
  s.section("fields", "names of the fields in the source");
  s.add("fields.velocity", KeyType::String, "velocity", "velocity (required): [T, N, 2] or point data");
  s.add("fields.pressure", KeyType::String, "pressure", "pressure (optional; absent: not written)");
  s.add("fields.node_type", KeyType::String, "node_type", "node types (optional; see node_types.mode)");
  s.add("fields.mesh_pos", KeyType::String, "mesh_pos", "node positions (graph-physics HDF5)");
  s.add("fields.cells", KeyType::String, "cells", "triangles (graph-physics HDF5)");
  s.section("node_types", "node types: from the field, or inferred from the boundary (docs/import.md)");
  s.add("node_types.mode", KeyType::Choice, "auto", "auto: the field if present, else inferred; field; infer")
      .choices = {"auto", "field", "infer"};
  s.add("node_types.wall_speed", KeyType::Float, "1e-6",
        "wall: boundary nodes whose speed stays <= this x the largest speed")
      .min = 0;
  s.add("node_types.axis", KeyType::Choice, "x", "flow axis: inflow at its upstream end, outflow at the other")
      .choices = {"x", "y"};
  s.add("node_types.direction", KeyType::Choice, "auto",
        "the flow's way along the axis: positive (inflow at the axis's minimum), negative (inflow at its maximum), "
        "auto (the sign of the velocity component along the axis, summed over nodes and steps)")
      .choices = {"auto", "positive", "negative"};
  // Above one half the inflow band would cover the outflow band.
  auto& tolerance =
      s.add("node_types.tolerance", KeyType::Float, "1e-6", "distance to the min/max, relative to the extent");
  tolerance.min = 0;
  tolerance.max = 0.5;
  // The codes tessera's mesh simulators train on (mesh::validate); others would be written here and
  // refused only by tessera-train or tessera-rollout.
  s.add("node_types.other_boundary", KeyType::Choice, "0",
        "type of other boundary nodes: 0 normal (predicted), 4 inflow, 5 outflow or 6 wall (imposed)")
      .choices = {"0", "4", "5", "6"};
  s.section("output", "the tessera dataset written");
  s.add("output.dir", KeyType::String, "out/import", "dataset directory (relative to the working directory)");
  s.add("output.split", KeyType::String, "test", "split name: <dir>/<split>.h5");
  s.add("output.overwrite", KeyType::Bool, "false",
        "replace an existing <dir>/<split>.h5 (otherwise that is an error: a split imported or made earlier)");
  // Keys that some settings do not read: set anyway, a warning (run_app).
  for (const char* k : {"fields.mesh_pos", "fields.cells"})
    s.read_only_when(k, {{"import.format", {"auto", "graph-physics"}}});
  for (const char* k : {"node_types.wall_speed", "node_types.axis", "node_types.direction", "node_types.tolerance",
                        "node_types.other_boundary"})
    s.read_only_when(k, {{"node_types.mode", {"auto", "infer"}}});
}

ImportOptions import_options(const Deck& d) {
  ImportOptions o;
  o.format = parse_foreign_format(d.get_string("import.format"));
  o.dt = d.get_float("import.dt");
  o.max_trajectories = d.get_int("import.max_trajectories");
  o.velocity = d.get_string("fields.velocity");
  o.pressure = d.get_string("fields.pressure");
  o.node_type = d.get_string("fields.node_type");
  o.mesh_pos = d.get_string("fields.mesh_pos");
  o.cells = d.get_string("fields.cells");
  o.pressure_required = o.pressure != ImportOptions{}.pressure;
  o.node_type_required = o.node_type != ImportOptions{}.node_type;
  const std::string mode = d.get_string("node_types.mode");
  o.node_types.mode = mode == "field"   ? NodeTypeOptions::Mode::Field
                      : mode == "infer" ? NodeTypeOptions::Mode::Infer
                                        : NodeTypeOptions::Mode::Auto;
  o.node_types.wall_speed = d.get_float("node_types.wall_speed");
  o.node_types.axis = d.get_string("node_types.axis") == "y" ? 1 : 0;
  const std::string direction = d.get_string("node_types.direction");
  o.node_types.direction = direction == "positive" ? 1 : direction == "negative" ? -1 : 0;
  o.node_types.tolerance = d.get_float("node_types.tolerance");
  o.node_types.other_boundary = int32_t(std::stoi(d.get_string("node_types.other_boundary")));
  return o;
}

}  // namespace tessera::io
