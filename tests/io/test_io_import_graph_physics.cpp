// Foreign datasets (io/foreign.hpp), graph-physics HDF5: files written here with the HDF5 C layer
// (velocity only, per-step meshes, 3D velocity, pressure, node types or none), read back into
// tessera trajectories with node types inferred from the boundary, and malformed inputs.
#include <catch2/catch.hpp>

#include "tests/io/import_fixtures.hpp"

using namespace tessera;
using namespace tessera::test::foreign;

TEST_CASE("graph-physics HDF5: velocity-only trajectories with inferred node types", "[import]") {
  const std::string path = write_gp("gp_velocity", false);
  io::ImportOptions o;
  o.dt = 0.25;
  const io::ImportedDataset d = io::read_foreign(path, o);
  CHECK(d.format == io::ForeignFormat::GraphPhysics);
  CHECK(d.dt == 0.25);
  REQUIRE(d.trajectories.size() == 2);
  CHECK_FALSE(d.has_pressure());
  for (const auto& t : d.trajectories) {
    check_channel(t, false);
    check_inferred(t);
  }
  CHECK(d.trajectories[0].source.find("group /0") != std::string::npos);
  CHECK(d.warnings.empty());
  // A group that holds no trajectory's dataset (/meta_info) is left out with a warning (it
  // stopped the import, blamed on fields.velocity).
  const io::ImportedDataset with_meta = io::read_foreign(write_gp("gp_meta_group", false, false, true), o);
  CHECK(with_meta.trajectories.size() == 2);
  REQUIRE(with_meta.warnings.size() == 1);
  CHECK_THAT(with_meta.warnings[0], Catch::Contains("gp_meta_group.h5: left out 1 object holding none of 'velocity', "
                                                    "'mesh_pos', 'cells' (not trajectories): /meta_info"));

  // Written in tessera's layout: meta.json lists no pressure; the reader gets the same values.
  const std::string dir = out + "/gp_velocity_dataset";
  fs::remove_all(dir);
  io::write_imported(d, o, dir, "test");
  io::DatasetReader r(dir, "test");
  CHECK(r.meta().find("pressure") == nullptr);
  CHECK(r.meta().trajectory_length == kSteps);
  CHECK(r.meta().dt == 0.25);
  CHECK(r.trajectories() == std::vector<int64_t>{0, 1});
  io::Trajectory t = r.read(1);
  CHECK(t.count("pressure") == 0);
  CHECK(t.at("velocity").f32 == d.trajectories[1].fields.at("velocity").f32);
  CHECK(t.at("node_type").i32 == d.trajectories[1].fields.at("node_type").i32);
  std::ifstream rec(dir + "/test.import.yaml");
  std::string text((std::istreambuf_iterator<char>(rec)), {});
  CHECK(text.find("absent: [pressure]") != std::string::npos);
  CHECK(text.find("format: graph-physics") != std::string::npos);
}

TEST_CASE("graph-physics HDF5: per-step mesh, 3D velocity with zero z, pressure, dt from meta.json", "[import]") {
  const std::string path = write_gp("gp_full", true, true);
  std::ofstream(out + "/meta.json") << "{\"dt\": 0.02, \"trajectory_length\": 3}\n";
  io::ImportOptions o;
  o.max_trajectories = 1;
  const io::ImportedDataset d = io::read_graph_physics(path, o);
  CHECK(d.dt == 0.02);
  REQUIRE(d.trajectories.size() == 1);
  CHECK(d.has_pressure());
  check_channel(d.trajectories[0], true);
  check_inferred(d.trajectories[0]);
  const std::string dir = out + "/gp_full_dataset";
  fs::remove_all(dir);
  io::write_imported(d, o, dir, "valid");
  CHECK(io::DatasetReader(dir, "valid").meta().find("pressure") != nullptr);
  // Its trajectories have the meta.json's length: no doubt. A longer length (a file cut off) is
  // a warning naming both counts.
  CHECK(d.warnings.empty());
  std::ofstream(out + "/meta.json") << "{\"dt\": 0.02, \"trajectory_length\": 600}\n";
  const io::ImportedDataset cut = io::read_graph_physics(path, o);
  REQUIRE(cut.warnings.size() == 1);
  CHECK_THAT(cut.warnings[0], Catch::Contains("has 3 steps, but") &&
                                  Catch::Contains("meta.json gives \"trajectory_length\": 600 (a file cut off?)"));
  fs::remove(out + "/meta.json");
}

TEST_CASE("graph-physics HDF5: node types from the field, and the inference options", "[import]") {
  const std::string path = out + "/gp_types.h5";
  {
    // One trajectory group with a node_type field [N, 1]: all 6 but node 0.
    fs::create_directories(out);
    io::H5File f = io::H5File::create(path);
    std::vector<double> pos(channel.coords);
    std::vector<int32_t> cells(channel.cells.begin(), channel.cells.end()), types(kNodes, 6);
    types[0] = 0;
    f.write("/traj/mesh_pos", {hsize_t(kNodes), 2}, pos.data());
    f.write("/traj/cells", {hsize_t(channel.num_cells()), 3}, cells.data());
    f.write("/traj/velocity", {kSteps, hsize_t(kNodes), 2}, velocity(2).data());
    f.write("/traj/node_type", {hsize_t(kNodes), 1}, types.data());
  }
  io::ImportOptions o;
  o.dt = 1;
  auto d = io::read_foreign(path, o);
  CHECK(d.trajectories[0].node_types == "from field 'node_type'");
  CHECK(d.trajectories[0].type_counts.at(6) == kNodes - 1);
  o.node_types.mode = io::NodeTypeOptions::Mode::Infer;
  check_inferred(io::read_foreign(path, o).trajectories[0]);
  // Flow along y: inflow at y = 0, outflow at y = 4 (none here: those nodes are walls); the
  // left and right sides move, so they take node_types.other_boundary.
  o.node_types.axis = 1;
  o.node_types.other_boundary = 6;
  auto types = io::read_foreign(path, o).trajectories[0].type_counts;
  CHECK(types.count(mesh::kInflow) == 0);
  CHECK(types.at(mesh::kWall) == 2 * (kNx + 1) + 2 * (kNy - 1));
  // A code the mesh simulators do not train on is refused at import (it was written, and refused
  // only by tessera-train: "node 88 has node type 1"; a review found it, 2026-12-07).
  o.node_types.other_boundary = 1;
  check_error([&] { io::read_foreign(path, o); }, "expected 0 (normal), 4 (inflow), 5 (outflow) or 6 (wall)",
              "node_types.other_boundary");
}

TEST_CASE("graph-physics HDF5: a flow towards -x gets its inflow at the highest x", "[import]") {
  // The channel's flow reversed (u, v -> -u, -v): the same walls, inflow and outflow swapped.
  const std::string path = out + "/gp_reversed.h5";
  {
    fs::create_directories(out);
    io::H5File f = io::H5File::create(path);
    std::vector<double> pos(channel.coords), v = velocity(2);
    std::vector<int32_t> cells(channel.cells.begin(), channel.cells.end());
    for (double& x : v) x = -x;
    f.write("/traj/mesh_pos", {hsize_t(kNodes), 2}, pos.data());
    f.write("/traj/cells", {hsize_t(channel.num_cells()), 3}, cells.data());
    f.write("/traj/velocity", {kSteps, hsize_t(kNodes), 2}, v.data());
  }
  io::ImportOptions o;
  o.dt = 1;
  auto swapped = [](int32_t type) {
    return type == mesh::kInflow ? mesh::kOutflow : type == mesh::kOutflow ? mesh::kInflow : type;
  };
  for (const int direction : {0, -1, 1}) {
    CAPTURE(direction);
    o.node_types.direction = direction;
    const io::ImportedTrajectory t = io::read_foreign(path, o).trajectories[0];
    CHECK(t.inferred_flow == (direction > 0 ? "+x" : "-x"));
    const auto& types = t.fields.at("node_type").i32;
    REQUIRE(types.size() == size_t(kNodes));
    for (int64_t i = 0; i < kNodes; ++i)
      CHECK(types[i] == (direction > 0 ? expected_type(i) : swapped(expected_type(i))));
  }
  // The forward channel: auto keeps the inflow at the lowest x.
  o.node_types.direction = 0;
  CHECK(io::read_foreign(write_gp("gp_forward", false), o).trajectories[0].inferred_flow == "+x");
}

TEST_CASE("graph-physics HDF5: malformed inputs give one clear line", "[import]") {
  io::ImportOptions o;
  o.dt = 1;
  fs::create_directories(out);
  const hsize_t n = kNodes, c = channel.num_cells();
  std::vector<double> pos(channel.coords);
  std::vector<int32_t> cells(channel.cells.begin(), channel.cells.end());
  auto file = [&](const std::string& name, auto&& fill) {
    const std::string path = out + "/bad_" + name + ".h5";
    io::H5File f = io::H5File::create(path);
    fill(f);
    return path;
  };
  const std::string no_vel = file("no_velocity", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
  });
  check_error([&] { io::read_foreign(no_vel, o); }, "bad_no_velocity.h5: trajectory group /0 has no dataset 'velocity'",
              "fields.velocity");
  const std::string bad_p = file("pressure_shape", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
    std::vector<double> p(2 * n);
    f.write("/0/pressure", {2, n, 1}, p.data());
  });
  check_error([&] { io::read_foreign(bad_p, o); }, "/0/pressure: shape [2, 45, 1] does not match velocity");
  const std::string bad_n = file("node_count", [&](io::H5File& f) {
    std::vector<double> more(pos);
    more.push_back(0), more.push_back(0);
    f.write("/0/mesh_pos", {n + 1, 2}, more.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
  });
  check_error([&] { io::read_foreign(bad_n, o); }, "/0/mesh_pos: 46 nodes, but velocity has 45");
  const std::string bad_v = file("velocity_rank", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {n, 2}, pos.data());
  });
  check_error([&] { io::read_foreign(bad_v, o); }, "/0/velocity: shape [45, 2]; expected [T, N, 2]");
  // A trajectory at the root and one in a group: only the root's was read, the group dropped.
  const std::string mixed = file("root_and_group", [&](io::H5File& f) {
    for (const std::string g : {"", "/0"}) {
      f.write(g + "/mesh_pos", {n, 2}, pos.data());
      f.write(g + "/cells", {c, 3}, cells.data());
      f.write(g + "/velocity", {kSteps, n, 2}, velocity(2).data());
    }
  });
  check_error([&] { io::read_foreign(mixed, o); },
              "bad_root_and_group.h5: holds 'velocity' both at its root and in group /0 (a trajectory each)");
  const std::string empty = file("empty", [](io::H5File&) {});
  check_error([&] { io::read_foreign(empty, o); }, "bad_empty.h5: no trajectory groups");
  // Groups holding none of the named datasets (other names: fields.* must name them).
  const std::string renamed = file("renamed", [&](io::H5File& f) {
    f.write("/0/pos", {n, 2}, pos.data());
    f.write("/0/u", {kSteps, n, 2}, velocity(2).data());
  });
  check_error([&] { io::read_foreign(renamed, o); },
              "bad_renamed.h5: none of its 1 object (/0) holds 'velocity', 'mesh_pos' or 'cells'; name the file's "
              "datasets with fields.velocity, fields.mesh_pos and fields.cells",
              "fields.velocity");
  // Groups are sorted by the last number in their names; the std::regex that once found it
  // overflowed the stack on a name of 50,000 characters.
  const std::string long_name = file("long_group_name", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/1" + std::string(50000, 'x') + "/mesh_pos", {n, 2}, pos.data());
  });
  check_error([&] { io::read_foreign(long_name, o); }, "trajectory group /0 has no dataset 'velocity'",
              "fields.velocity");
  const std::string one_step = file("one_step", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {1, n, 2}, velocity(2).data());
  });
  check_error([&] { io::read_foreign(one_step, o); }, "1 time step; a trajectory needs at least 2");
  const std::string bad_t = file("node_type", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
    std::vector<double> t(n, 0.0);
    t[3] = 2.5;
    f.write("/0/node_type", {n}, t.data());
  });
  check_error([&] { io::read_foreign(bad_t, o); }, "node_type is 2.5 at node 3; expected integer codes 0..8");
  // A MeshGraphNets code that tessera's models do not know: refused here, not at the first
  // training or rollout of the imported dataset (found by a bad-input review, 2026-12-05).
  const std::string code_3 = file("node_type_3", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
    std::vector<double> t(n, 0.0);
    t[5] = 3;
    f.write("/0/node_type", {n}, t.data());
  });
  check_error(
      [&] { io::read_foreign(code_3, o); },
      "node_type is 3 at node 5; tessera's mesh simulators know the MeshGraphNets codes 0 (normal), 4 (inflow)");
  const std::string bad_c = file("cells", [&](io::H5File& f) {
    std::vector<int32_t> cc(cells);
    cc[4] = int32_t(n);
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cc.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
  });
  check_error([&] { io::read_foreign(bad_c, o); }, "/0/cells: cell 1 references node 45; expected indices 0..44");
  // 1-based cells (every index one too high): said.
  const std::string one_based = file("cells_one_based", [&](io::H5File& f) {
    std::vector<int32_t> cc(cells);
    for (auto& i : cc) ++i;
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cc.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
  });
  check_error([&] { io::read_foreign(one_based, o); },
              "expected indices 0..44 (the indices run 1..N: 1-based? tessera's are 0-based, subtract 1)");
  // Velocity stored node-major, [N, T, 2]: said to look transposed.
  const std::string node_major = file("velocity_node_major", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {n, kSteps, 2}, velocity(2).data());
  });
  check_error([&] { io::read_foreign(node_major, o); },
              cat("velocity [", n, ", ", kSteps, ", 2] looks like [N, T, 2]: tessera reads [T, N, 2]"));
  const std::string moving_types = file("node_type_changes", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
    std::vector<double> t(kSteps * n, 0.0);
    t[2 * n + 5] = 6;
    f.write("/0/node_type", {kSteps, n, 1}, t.data());
  });
  check_error([&] { io::read_foreign(moving_types, o); },
              "/0/node_type: changes between step 0 and step 2; node types must not change over time");
  // Per-step mesh positions: a NaN held at every step is named as such, not as a moving node
  // (NaN differs from itself), and a step count other than velocity's (or one) is refused.
  std::vector<double> pos_t;
  for (int64_t t = 0; t < kSteps; ++t) pos_t.insert(pos_t.end(), pos.begin(), pos.end());
  const std::string nan_pos = file("mesh_pos_nan", [&](io::H5File& f) {
    std::vector<double> p(pos_t);
    for (int64_t t = 0; t < kSteps; ++t) p[(t * n + 5) * 2 + 1] = NAN;
    f.write("/0/mesh_pos", {kSteps, n, 2}, p.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
  });
  check_error([&] { io::read_foreign(nan_pos, o); }, "/0/mesh_pos holds a non-finite value (nan) at step 0, row 5");
  const std::string short_pos = file("mesh_pos_steps", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {kSteps - 1, n, 2}, pos_t.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
  });
  check_error([&] { io::read_foreign(short_pos, o); }, cat("/0/mesh_pos: shape [", kSteps - 1, ", ", n, ", 2] has ",
                                                           kSteps - 1, " steps, but velocity has ", kSteps));
  const std::string nan_p = file("pressure_nan", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
    std::vector<double> p(kSteps * n, 1.0);
    p[n + 7] = NAN;
    f.write("/0/pressure", {kSteps, n, 1}, p.data());
  });
  check_error([&] { io::read_foreign(nan_p, o); }, "at step 1: pressure holds a non-finite value (nan) at node 7");
  const std::string z_vel = file("velocity_z", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
    std::vector<double> v = velocity(3);
    v[(2 * n + 4) * 3 + 2] = 0.5;
    f.write("/0/velocity", {kSteps, n, 3}, v.data());
  });
  check_error([&] { io::read_foreign(z_vel, o); }, "step 2, node 4 has a third component 0.5 (expected 0)");
  // A directory holding a graph-physics file, given instead of the file.
  const std::string holder = out + "/gp_holder";
  fs::create_directories(holder);
  fs::copy_file(z_vel, holder + "/data.h5", fs::copy_options::overwrite_existing);
  check_error([&] { io::read_foreign(holder, o); },
              "a directory is read as a VTU series, but it holds no .vtu or .pvd files; for the graph-physics file "
              "data.h5 give the file",
              "import.source");
  io::ImportOptions as_gp = o;
  as_gp.format = io::ForeignFormat::GraphPhysics;
  check_error([&] { io::read_foreign(holder, as_gp); }, "a directory; graph-physics data is one .h5 file");
  // dt from meta.json: present but not a positive number.
  io::ImportOptions no_dt;
  {
    fs::create_directories(out + "/gp_bad_dt");
    fs::copy_file(write_gp("gp_bad_dt/data", false), out + "/gp_bad_dt/copy.h5", fs::copy_options::overwrite_existing);
    for (const char* dt : {"-0.1", "0", "\"abc\"", "NaN"}) {
      std::ofstream(out + "/gp_bad_dt/meta.json") << "{\"dt\": " << dt << "}";
      check_error([&] { io::read_foreign(out + "/gp_bad_dt/copy.h5", no_dt); }, "gp_bad_dt/meta.json: \"dt\" is ");
    }
    std::ofstream(out + "/gp_bad_dt/meta.json") << "{\"steps\": 3}";
    check_error([&] { io::read_foreign(out + "/gp_bad_dt/copy.h5", no_dt); }, "meta.json has no \"dt\"; set import.dt");
  }
  check_error([&] { io::read_foreign(write_gp("gp_no_dt", false), no_dt); }, "no time step");
  check_error([&] { io::read_foreign(out + "/nowhere.h5", o); }, "nowhere.h5: file or directory not found",
              "import.source");
  // Trajectories of different lengths cannot share one dataset.
  io::ImportedDataset two = io::read_foreign(write_gp("gp_lengths", false), o);
  two.trajectories[1].steps = 2;
  check_error([&] { io::write_imported(two, o, out + "/lengths", "test"); },
              "a tessera dataset has one trajectory length");
  // The split is a name inside output.dir, not a path out of it.
  const io::ImportedDataset ok = io::read_foreign(write_gp("gp_split", false), o);
  check_error([&] { io::write_imported(ok, o, out + "/split", "../escape"); },
              "output.split: '../escape'; expected a plain name");
  CHECK_FALSE(fs::exists(out + "/escape.h5"));
  check_error([&] { io::write_imported(ok, o, out + "/split", "test.h5"); },
              "output.split: 'test.h5'; give the split's name without .h5");
  // Splits of one directory share meta.json: one that differs says how (it showed the whole file).
  fs::remove_all(out + "/split");
  io::write_imported(ok, o, out + "/split", "train");
  io::ImportedDataset other_dt = ok;
  other_dt.dt = 2 * ok.dt;
  check_error([&] { io::write_imported(other_dt, o, out + "/split", "valid"); },
              cat("another split of this directory differs from this one (dt ", other_dt.dt, " here, ", ok.dt,
                  " there); write this one to another directory"));
}
