// Foreign datasets (io/foreign.hpp): graph-physics HDF5, VTU series and XDMF3 series written
// here (with the HDF5 C layer, VTK's writer and by hand), read back into tessera trajectories,
// node types inferred from the boundary, the dataset layout written, and malformed inputs.
#include <vtkDoubleArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLUnstructuredGridWriter.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/dataset.hpp"
#include "io/field.hpp"
#include "io/foreign.hpp"
#include "io/h5.hpp"
#include "io/xdmf.hpp"
#include "tests/mesh_fixtures.hpp"

using namespace tessera;
namespace fs = std::filesystem;
static const std::string out = std::string(TESSERA_TEST_OUT) + "/import";

namespace {

// A channel [0, 8] x [0, 4] of unit squares with a parabolic flow: u = y (4 - y) (1 + t / 10) / 4,
// v = sin(x) y (4 - y) / 100; zero on the walls y = 0 and y = 4.
constexpr int kNx = 8, kNy = 4, kSteps = 3;
const mesh::Mesh channel = test::grid_mesh(kNx, kNy);
const int64_t kNodes = channel.num_nodes();

double u_at(int64_t i, int t) {
  const double y = channel.coords[i * 2 + 1];
  return y * (4 - y) * (1 + t / 10.0) / 4;
}
double v_at(int64_t i, int) {
  const double x = channel.coords[i * 2], y = channel.coords[i * 2 + 1];
  return std::sin(x) * y * (4 - y) / 100;
}
double p_at(int64_t i, int t) { return 8 - channel.coords[i * 2] + t; }

// The node types the inference rule must give on the channel.
int32_t expected_type(int64_t i) {
  const double x = channel.coords[i * 2], y = channel.coords[i * 2 + 1];
  if (y == 0 || y == kNy) return mesh::kWall;
  if (x == 0) return mesh::kInflow;
  if (x == kNx) return mesh::kOutflow;
  return mesh::kNormal;
}

std::vector<double> velocity(int channels) {
  std::vector<double> v;
  for (int t = 0; t < kSteps; ++t)
    for (int64_t i = 0; i < kNodes; ++i) {
      v.push_back(u_at(i, t));
      v.push_back(v_at(i, t));
      if (channels == 3) v.push_back(0);
    }
  return v;
}

// A graph-physics file: groups "0" and "1" (static mesh), or the per-step layout when `per_step`.
std::string write_gp(const std::string& name, bool pressure, bool per_step = false) {
  fs::create_directories(out);
  const std::string path = out + "/" + name + ".h5";
  io::H5File f = io::H5File::create(path);
  const hsize_t n = kNodes, c = channel.num_cells();
  std::vector<double> pos(channel.coords);
  std::vector<int32_t> cells(channel.cells.begin(), channel.cells.end());
  for (const char* g : {"/0", "/1"}) {
    if (per_step) {
      std::vector<double> pos_t, cells_t;
      for (int t = 0; t < kSteps; ++t) {
        pos_t.insert(pos_t.end(), pos.begin(), pos.end());
        cells_t.insert(cells_t.end(), cells.begin(), cells.end());
      }
      f.write(cat(g, "/mesh_pos"), {kSteps, n, 2}, pos_t.data());
      f.write(cat(g, "/cells"), {kSteps, c, 3}, cells_t.data());
      f.write(cat(g, "/velocity"), {kSteps, n, 3}, velocity(3).data());
    } else {
      f.write(cat(g, "/mesh_pos"), {n, 2}, pos.data());
      f.write(cat(g, "/cells"), {c, 3}, cells.data());
      f.write(cat(g, "/velocity"), {kSteps, n, 2}, velocity(2).data());
    }
    if (pressure) {
      std::vector<float> p;
      for (int t = 0; t < kSteps; ++t)
        for (int64_t i = 0; i < kNodes; ++i) p.push_back(float(p_at(i, t)));
      f.write(cat(g, "/pressure"), {kSteps, n, 1}, p.data());
    }
  }
  return path;
}

void check_channel(const io::ImportedTrajectory& t, bool pressure) {
  REQUIRE(t.steps == kSteps);
  REQUIRE(t.nodes == kNodes);
  CHECK(t.cells == channel.num_cells());
  CHECK(t.has_pressure == pressure);
  CHECK(t.fields.count("pressure") == (pressure ? 1u : 0u));
  const auto& vel = t.fields.at("velocity");
  CHECK(vel.shape == std::vector<hsize_t>{kSteps, hsize_t(kNodes), 2});
  for (int s = 0; s < kSteps; ++s)
    for (int64_t i = 0; i < kNodes; ++i) {
      CHECK(vel.f32[(s * kNodes + i) * 2] == Approx(u_at(i, s)).margin(1e-6));
      CHECK(vel.f32[(s * kNodes + i) * 2 + 1] == Approx(v_at(i, s)).margin(1e-6));
      if (pressure) CHECK(t.fields.at("pressure").f32[s * kNodes + i] == Approx(p_at(i, s)));
    }
  const auto& pos = t.fields.at("mesh_pos");
  for (int64_t i = 0; i < kNodes * 2; ++i) CHECK(pos.f32[i] == float(channel.coords[i]));
  CHECK(t.fields.at("cells").i32 == std::vector<int32_t>(channel.cells.begin(), channel.cells.end()));
}

void check_inferred(const io::ImportedTrajectory& t) {
  CHECK(t.node_types == "inferred");
  const auto& types = t.fields.at("node_type").i32;
  int mismatches = 0;
  for (int64_t i = 0; i < kNodes; ++i) mismatches += types[i] != expected_type(i);
  CHECK(mismatches == 0);
  CHECK(t.type_counts.at(mesh::kWall) == 2 * (kNx + 1));
  CHECK(t.type_counts.at(mesh::kInflow) == kNy - 1);
  CHECK(t.type_counts.at(mesh::kOutflow) == kNy - 1);
}

template <class F>
void check_error(F&& f, const std::string& text) {
  try {
    f();
    FAIL("no error; expected one containing: " << text);
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(text) != std::string::npos);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

// One .vtu of `m` through VTK's writer, nodes in mesh order; 2-channel fields become
// 3-component VTK arrays (z = 0), as meshio and ParaView write them.
void write_vtu(const std::string& path, const mesh::Mesh& m, const std::vector<io::Field>& fields) {
  vtkNew<vtkUnstructuredGrid> g;
  vtkNew<vtkPoints> pts;
  for (int64_t i = 0; i < m.num_nodes(); ++i) pts->InsertNextPoint(m.coords[i * 2], m.coords[i * 2 + 1], 0.0);
  g->SetPoints(pts);
  for (int64_t c = 0; c < m.num_cells(); ++c) {
    vtkIdType ids[3] = {m.cells[c * 3], m.cells[c * 3 + 1], m.cells[c * 3 + 2]};
    g->InsertNextCell(5, 3, ids);  // VTK_TRIANGLE
  }
  for (const auto& f : fields) {
    vtkNew<vtkDoubleArray> a;
    a->SetName(f.name.c_str());
    const int c = f.channels == 2 ? 3 : f.channels;
    a->SetNumberOfComponents(c);
    for (int64_t i = 0; i < m.num_nodes(); ++i) {
      double v[3] = {0, 0, 0};
      for (int k = 0; k < f.channels; ++k) v[k] = f.data[i * f.channels + k];
      a->InsertNextTuple(v);
    }
    g->GetPointData()->AddArray(a);
  }
  vtkNew<vtkXMLUnstructuredGridWriter> w;
  w->SetFileName(path.c_str());
  w->SetInputData(g);
  REQUIRE(w->Write() == 1);
}

// A VTU series of the channel (one .vtu per step) with a .pvd index.
std::string write_vtu_series(const std::string& name, bool pressure, bool pvd, double dt = 0.5) {
  const std::string dir = out + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream index(dir + "/series.pvd");
  index << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"0.1\">\n<Collection>\n";
  for (int t = 0; t < kSteps; ++t) {
    io::Field vel{"velocity", 2, false, {}}, p{"pressure", 1, false, {}};
    for (int64_t i = 0; i < kNodes; ++i) {
      vel.data.push_back(u_at(i, t));
      vel.data.push_back(v_at(i, t));
      p.data.push_back(p_at(i, t));
    }
    std::vector<io::Field> fields{vel};
    if (pressure) fields.push_back(p);
    // Numbered so that name order differs from step order (step_10 < step_2 < step_5).
    const std::string file = cat("step_", t == 0 ? 2 : t == 1 ? 5 : 10, ".vtu");
    write_vtu(dir + "/" + file, channel, fields);
    index << "<DataSet timestep=\"" << t * dt << "\" part=\"0\" file=\"" << file << "\"/>\n";
  }
  index << "</Collection>\n</VTKFile>\n";
  index.close();
  if (!pvd) fs::remove(dir + "/series.pvd");
  return dir;
}

}  // namespace

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
  CHECK(text.find("absent: pressure") != std::string::npos);
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
  check_error([&] { io::read_foreign(no_vel, o); },
              "bad_no_velocity.h5: trajectory group /0 has no dataset 'velocity'");
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
  const std::string empty = file("empty", [](io::H5File&) {});
  check_error([&] { io::read_foreign(empty, o); }, "bad_empty.h5: no trajectory groups");
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
  const std::string bad_c = file("cells", [&](io::H5File& f) {
    std::vector<int32_t> cc(cells);
    cc[4] = int32_t(n);
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cc.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
  });
  check_error([&] { io::read_foreign(bad_c, o); }, "/0/cells: cell 1 references node 45; expected indices 0..44");
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
  const std::string nan_p = file("pressure_nan", [&](io::H5File& f) {
    f.write("/0/mesh_pos", {n, 2}, pos.data());
    f.write("/0/cells", {c, 3}, cells.data());
    f.write("/0/velocity", {kSteps, n, 2}, velocity(2).data());
    std::vector<double> p(kSteps * n, 1.0);
    p[n + 7] = NAN;
    f.write("/0/pressure", {kSteps, n, 1}, p.data());
  });
  check_error([&] { io::read_foreign(nan_p, o); }, "pressure holds a non-finite value at step 1, node 7");
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
              "a directory is read as a VTU series, but it holds no .vtu or .pvd files; for data.h5 give the file");
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
  check_error([&] { io::read_foreign(out + "/nowhere.h5", o); }, "nowhere.h5: file or directory not found");
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
}

TEST_CASE("VTU series: .pvd and directory, pressure optional, step order by number", "[import]") {
  io::ImportOptions o;
  const std::string dir = write_vtu_series("vtu_pvd", true, true);
  auto d = io::read_foreign(dir + "/series.pvd", o);
  CHECK(d.format == io::ForeignFormat::VtuSeries);
  CHECK(d.dt == Approx(0.5));
  REQUIRE(d.trajectories.size() == 1);
  check_channel(d.trajectories[0], true);
  check_inferred(d.trajectories[0]);
  // The directory holding the .vtu files (no .pvd): ordered by the number in the name; dt given.
  const std::string plain = write_vtu_series("vtu_dir", false, false);
  check_error([&] { io::read_foreign(plain, o); }, "no .pvd time stamps; set import.dt");
  o.dt = 0.5;
  d = io::read_foreign(plain, o);
  check_channel(d.trajectories[0], false);
  // A directory of such directories: one trajectory each.
  const std::string many = out + "/vtu_many";
  fs::remove_all(many);
  fs::create_directories(many);
  fs::copy(plain, many + "/run_1");
  fs::copy(plain, many + "/run_0");
  d = io::read_foreign(many, o);
  REQUIRE(d.trajectories.size() == 2);
  CHECK(d.trajectories[0].source.find("run_0") != std::string::npos);
}

TEST_CASE("VTU series: malformed inputs give one clear line", "[import]") {
  io::ImportOptions o;
  o.dt = 1;
  // A step with another mesh.
  const std::string dir = write_vtu_series("vtu_bad_nodes", false, false);
  write_vtu(dir + "/step_5.vtu", test::grid_mesh(3, 3), {io::Field{"velocity", 2, false, std::vector<double>(32)}});
  check_error([&] { io::read_foreign(dir, o); }, "step_5.vtu: 16 points and 18 cells, but step 0");
  // No velocity.
  const std::string nov = write_vtu_series("vtu_bad_velocity", false, false);
  write_vtu(nov + "/step_10.vtu", channel, {io::Field{"speed", 1, false, std::vector<double>(kNodes)}});
  check_error([&] { io::read_foreign(nov, o); }, "step_10.vtu: no point data 'velocity' (point data: speed)");
  // Pressure at some steps only.
  const std::string somep = write_vtu_series("vtu_bad_pressure", true, false);
  write_vtu(somep + "/step_10.vtu", channel, {io::Field{"velocity", 2, false, std::vector<double>(kNodes * 2)}});
  check_error([&] { io::read_foreign(somep, o); }, "point data 'pressure' is absent but present at step 0");
  // Empty series, a lone .vtu, a missing step file.
  fs::create_directories(out + "/vtu_empty");
  check_error([&] { io::read_foreign(out + "/vtu_empty", o); }, "vtu_empty: empty series");
  check_error([&] { io::read_foreign(dir + "/step_2.vtu", o); }, "one .vtu file is one time step");
  const std::string gone = write_vtu_series("vtu_missing_step", false, true);
  fs::remove(gone + "/step_5.vtu");
  check_error([&] { io::read_foreign(gone + "/series.pvd", o); }, "step_5.vtu: file not found (step 1 of");
  // A moving mesh: same counts, a point moved.
  const std::string moving = write_vtu_series("vtu_moving", false, false);
  {
    mesh::Mesh shifted = channel;
    shifted.coords[2 * 7] += 0.25;
    io::Field vel{"velocity", 2, false, std::vector<double>(kNodes * 2, 1.0)};
    write_vtu(moving + "/step_10.vtu", shifted, {vel});
  }
  check_error([&] { io::read_foreign(moving, o); }, "step_10.vtu: node 7 is at (7.25, 0), at (7, 0) in step 0 (");
  // Non-finite pressure.
  const std::string nanp = write_vtu_series("vtu_nan_pressure", true, false);
  {
    io::Field vel{"velocity", 2, false, std::vector<double>(kNodes * 2, 1.0)};
    io::Field p{"pressure", 1, false, std::vector<double>(kNodes, 1.0)};
    p.data[3] = INFINITY;
    write_vtu(nanp + "/step_10.vtu", channel, {vel, p});
  }
  check_error([&] { io::read_foreign(nanp, o); }, "pressure holds a non-finite value at step 2, node 3");
  // A broken .vtu: VTK's multi-line report becomes one line.
  const std::string broken = write_vtu_series("vtu_broken", false, false);
  std::ofstream(broken + "/step_5.vtu") << "<?xml version=\"1.0\"?>\n<VTKFile type=\"UnstructuredGrid\"><Unstr";
  check_error([&] { io::read_foreign(broken, o); }, "step_5.vtu: not a readable .vtu file (VTK: ");
  // Time stamps: not numbers, not finite, not uniform (also when import.dt is set).
  auto stamps = [&](const std::string& name, const std::vector<std::string>& times) {
    const std::string dir = write_vtu_series(name, false, true);
    std::string text = "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\"><Collection>\n";
    const char* files[] = {"step_2.vtu", "step_5.vtu", "step_10.vtu"};
    for (int t = 0; t < kSteps; ++t)
      text += cat("<DataSet timestep=\"", times[t], "\" part=\"0\" file=\"", files[t], "\"/>\n");
    std::ofstream(dir + "/series.pvd") << text << "</Collection></VTKFile>\n";
    return dir + "/series.pvd";
  };
  check_error(
      [&] {
        io::read_foreign(stamps("vtu_time_text", {"0", "abc", "2"}), o);
      },
      "series.pvd: DataSet 1 timestep: 'abc' is not a finite number");
  check_error(
      [&] {
        io::read_foreign(stamps("vtu_time_inf", {"0", "inf", "inf"}), o);
      },
      "'inf' is not a finite number");
  check_error(
      [&] {
        io::read_foreign(stamps("vtu_time_uneven", {"0", "0.5", "1.5"}), o);
      },
      "time steps are not uniform");
  // Two trajectories whose stamps disagree on dt.
  const std::string two = out + "/vtu_two_dt";
  fs::remove_all(two);
  fs::create_directories(two);
  fs::copy(fs::path(stamps("vtu_dt_a", {"0", "0.5", "1"})).parent_path(), two + "/a");
  fs::copy(fs::path(stamps("vtu_dt_b", {"0", "0.25", "0.5"})).parent_path(), two + "/b");
  io::ImportOptions from_stamps;
  check_error([&] { io::read_foreign(two, from_stamps); }, "/b: dt 0.25 from its .pvd time stamps, but");
  // Step numbers longer than any integer type (time stamps in names) still order the steps.
  const std::string stamped = write_vtu_series("vtu_long_numbers", false, false);
  fs::rename(stamped + "/step_2.vtu", stamped + "/step_99999999999999999999.vtu");
  fs::rename(stamped + "/step_5.vtu", stamped + "/step_100000000000000000000.vtu");
  fs::rename(stamped + "/step_10.vtu", stamped + "/step_100000000000000000001.vtu");
  check_channel(io::read_foreign(stamped, o).trajectories.at(0), false);
}

TEST_CASE("XDMF3 series: tessera's layout and meshio's xi:include layout", "[import]") {
  io::ImportOptions o;
  // tessera's XdmfSeries: every temporal grid carries its own Topology and Geometry.
  {
    io::XdmfSeries s(out + "/xdmf_tessera/flow", channel);
    for (int t = 0; t < kSteps; ++t) {
      io::Field vel{"velocity", 2, false, {}};
      for (int64_t i = 0; i < kNodes; ++i) vel.data.push_back(u_at(i, t)), vel.data.push_back(v_at(i, t));
      s.write_step(0.1 * t, {vel});
    }
  }
  auto d = io::read_foreign(out + "/xdmf_tessera/flow.xmf", o);
  CHECK(d.format == io::ForeignFormat::Xdmf);
  CHECK(d.dt == Approx(0.1));
  check_channel(d.trajectories[0], false);
  check_inferred(d.trajectories[0]);

  // meshio's TimeSeriesWriter layout, inline XML data: a mesh grid, then temporal grids that
  // include its Topology and Geometry; node_type as a field.
  auto xml_numbers = [](const std::vector<double>& v) {
    std::string s;
    for (double x : v) s += cat(x, " ");
    return s;
  };
  auto write_meshio = [&](const std::string& path, int steps, bool cell_velocity) {
    std::ofstream f(path);
    f << "<Xdmf xmlns:xi=\"http://www.w3.org/2001/XInclude\" Version=\"3.0\"><Domain>\n"
      << "<Grid Name=\"mesh\" GridType=\"Uniform\"><Geometry GeometryType=\"XY\"><DataItem DataType=\"Float\" "
      << "Dimensions=\"" << kNodes << " 2\" Format=\"XML\" Precision=\"8\">" << xml_numbers(channel.coords)
      << "</DataItem></Geometry><Topology TopologyType=\"Triangle\" NumberOfElements=\"" << channel.num_cells()
      << "\" NodesPerElement=\"3\"><DataItem DataType=\"Int\" Dimensions=\"" << channel.num_cells()
      << " 3\" Format=\"XML\" Precision=\"8\">"
      << xml_numbers(std::vector<double>(channel.cells.begin(), channel.cells.end()))
      << "</DataItem></Topology></Grid>\n"
      << "<Grid Name=\"TimeSeries_meshio\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
    for (int t = 0; t < steps; ++t) {
      std::vector<double> vel, types;
      for (int64_t i = 0; i < kNodes; ++i) vel.push_back(u_at(i, t)), vel.push_back(v_at(i, t));
      for (int64_t i = 0; i < kNodes; ++i) types.push_back(expected_type(i));
      f << "<Grid><xi:include xpointer=\"xpointer(//Grid[@Name=&quot;mesh&quot;]/*[self::Topology or "
           "self::Geometry])\"/><Time Value=\""
        << 0.05 * t << "\"/>"
        << "<Attribute Name=\"velocity\" AttributeType=\"Vector\" Center=\"" << (cell_velocity ? "Cell" : "Node")
        << "\"><DataItem DataType=\"Float\" Dimensions=\"" << kNodes << " 2\" Format=\"XML\" Precision=\"8\">"
        << xml_numbers(vel) << "</DataItem></Attribute>"
        << "<Attribute Name=\"node_type\" AttributeType=\"Scalar\" Center=\"Node\"><DataItem DataType=\"Int\" "
        << "Dimensions=\"" << kNodes << "\" Format=\"XML\">" << xml_numbers(types)
        << "</DataItem></Attribute></Grid>\n";
    }
    f << "</Grid></Domain></Xdmf>\n";
  };
  write_meshio(out + "/meshio_like.xdmf", kSteps, false);
  d = io::read_foreign(out + "/meshio_like.xdmf", o);
  CHECK(d.dt == Approx(0.05));
  check_channel(d.trajectories[0], false);
  CHECK(d.trajectories[0].node_types == "from field 'node_type'");
  const auto& types = d.trajectories[0].fields.at("node_type").i32;
  for (int64_t i = 0; i < kNodes; ++i) CHECK(types[i] == expected_type(i));

  write_meshio(out + "/meshio_empty.xdmf", 0, false);
  check_error([&] { io::read_foreign(out + "/meshio_empty.xdmf", o); }, "meshio_empty.xdmf: empty series");
  write_meshio(out + "/meshio_cells.xdmf", 2, true);
  check_error([&] { io::read_foreign(out + "/meshio_cells.xdmf", o); },
              "attribute 'velocity' is centred on Cell; expected Node");
  std::ofstream(out + "/not_xdmf.xmf") << "<VTKFile/>\n";
  check_error([&] { io::read_foreign(out + "/not_xdmf.xmf", o); }, "not an XDMF file");

  // Grids that carry their own mesh (tessera's layout), inline: the mesh must not move, Time
  // needs a Value, Dimensions are positive integers.
  auto write_own = [&](const std::string& path, double shift, const std::string& time1, const std::string& dims) {
    std::ofstream f(path);
    f << "<Xdmf Version=\"3.0\"><Domain><Grid Name=\"series\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
    for (int t = 0; t < 2; ++t) {
      std::vector<double> xy(channel.coords), vel;
      if (t == 1) xy[2 * 3 + 1] += shift;
      for (int64_t i = 0; i < kNodes; ++i) vel.push_back(u_at(i, t)), vel.push_back(v_at(i, t));
      f << "<Grid Name=\"s" << t << "\"><Time" << (t == 1 ? time1 : " Value=\"0\"") << "/>"
        << "<Topology TopologyType=\"Triangle\"><DataItem Dimensions=\"" << channel.num_cells()
        << " 3\" Format=\"XML\">" << xml_numbers(std::vector<double>(channel.cells.begin(), channel.cells.end()))
        << "</DataItem></Topology><Geometry GeometryType=\"XY\"><DataItem Dimensions=\""
        << (t == 1 ? dims : cat(kNodes, " 2")) << "\" Format=\"XML\">" << xml_numbers(xy) << "</DataItem></Geometry>"
        << "<Attribute Name=\"velocity\" Center=\"Node\"><DataItem Dimensions=\"" << kNodes << " 2\" Format=\"XML\">"
        << xml_numbers(vel) << "</DataItem></Attribute></Grid>\n";
    }
    f << "</Grid></Domain></Xdmf>\n";
  };
  const std::string own = out + "/xdmf_own.xmf", nodes2 = cat(kNodes, " 2");
  write_own(own, 0, " Value=\"0.1\"", nodes2);
  CHECK(io::read_foreign(own, o).dt == Approx(0.1));
  write_own(own, 0.5, " Value=\"0.1\"", nodes2);
  check_error([&] { io::read_foreign(own, o); }, "step 1 (grid 's1'): node 3 is at (3, 0.5), at (3, 0) in step 0;");
  write_own(own, 0, "", nodes2);
  check_error([&] { io::read_foreign(own, o); }, "step 1 (grid 's1'): <Time> has no Value");
  write_own(own, 0, " Value=\"later\"", nodes2);
  check_error([&] { io::read_foreign(own, o); }, "<Time Value>: 'later' is not a finite number");
  write_own(own, 0, " Value=\"0.1\"", cat(-kNodes, " 2"));
  check_error([&] { io::read_foreign(own, o); },
              cat("DataItem Dimensions '", -kNodes, " 2'; expected positive integers"));
  std::ofstream(out + "/broken.xmf") << "<Xdmf><Domain>";
  check_error([&] { io::read_foreign(out + "/broken.xmf", o); }, "broken.xmf: not a well-formed XML file (");
}
