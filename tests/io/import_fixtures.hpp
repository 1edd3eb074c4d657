// Shared by the foreign-data tests (test_io_import_*.cpp): a small channel flow with known
// velocity, pressure and node types, and writers of it as graph-physics HDF5 and VTU series.
#pragma once
#include <vtkCellData.h>
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
#include "tests/test_paths.hpp"

namespace tessera::test::foreign {

namespace fs = std::filesystem;
inline const std::string out = tessera::test::test_out() + "/import";

// A channel [0, 8] x [0, 4] of unit squares with a parabolic flow: u = y (4 - y) (1 + t / 10) / 4,
// v = sin(x) y (4 - y) / 100; zero on the walls y = 0 and y = 4.
constexpr int kNx = 8, kNy = 4, kSteps = 3;
inline const mesh::Mesh channel = test::grid_mesh(kNx, kNy);
inline const int64_t kNodes = channel.num_nodes();

inline double u_at(int64_t i, int t) {
  const double y = channel.coords[i * 2 + 1];
  return y * (4 - y) * (1 + t / 10.0) / 4;
}
inline double v_at(int64_t i, int) {
  const double x = channel.coords[i * 2], y = channel.coords[i * 2 + 1];
  return std::sin(x) * y * (4 - y) / 100;
}
inline double p_at(int64_t i, int t) { return 8 - channel.coords[i * 2] + t; }

// The node types the inference rule must give on the channel.
inline int32_t expected_type(int64_t i) {
  const double x = channel.coords[i * 2], y = channel.coords[i * 2 + 1];
  if (y == 0 || y == kNy) return mesh::kWall;
  if (x == 0) return mesh::kInflow;
  if (x == kNx) return mesh::kOutflow;
  return mesh::kNormal;
}

inline std::vector<double> velocity(int channels) {
  std::vector<double> v;
  for (int t = 0; t < kSteps; ++t)
    for (int64_t i = 0; i < kNodes; ++i) {
      v.push_back(u_at(i, t));
      v.push_back(v_at(i, t));
      if (channels == 3) v.push_back(0);
    }
  return v;
}

// A graph-physics file: groups "0" and "1" (static mesh), or the per-step layout when `per_step`;
// with `meta_group`, also a group /meta_info that holds no trajectory.
inline std::string write_gp(const std::string& name, bool pressure, bool per_step = false, bool meta_group = false) {
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
  if (meta_group) {
    const int32_t version = 2;
    f.write("/meta_info/version", {1}, &version);
  }
  return path;
}

inline void check_channel(const io::ImportedTrajectory& t, bool pressure) {
  REQUIRE(t.steps == kSteps);
  REQUIRE(t.nodes == kNodes);
  CHECK(t.cells == channel.num_cells());
  CHECK(t.has_pressure == pressure);
  CHECK(t.fields.count("pressure") == (pressure ? 1u : 0u));
  const auto& vel = t.fields.at("velocity");
  REQUIRE(vel.shape == std::vector<hsize_t>{kSteps, hsize_t(kNodes), 2});
  REQUIRE(vel.f32.size() == size_t(kSteps * kNodes * 2));
  if (pressure) REQUIRE(t.fields.at("pressure").f32.size() == size_t(kSteps * kNodes));
  for (int s = 0; s < kSteps; ++s)
    for (int64_t i = 0; i < kNodes; ++i) {
      CHECK(vel.f32[(s * kNodes + i) * 2] == Approx(u_at(i, s)).margin(1e-6));
      CHECK(vel.f32[(s * kNodes + i) * 2 + 1] == Approx(v_at(i, s)).margin(1e-6));
      if (pressure) CHECK(t.fields.at("pressure").f32[s * kNodes + i] == Approx(p_at(i, s)));
    }
  const auto& pos = t.fields.at("mesh_pos");
  REQUIRE(pos.f32.size() == size_t(kNodes * 2));
  for (int64_t i = 0; i < kNodes * 2; ++i) CHECK(pos.f32[i] == float(channel.coords[i]));
  CHECK(t.fields.at("cells").i32 == std::vector<int32_t>(channel.cells.begin(), channel.cells.end()));
}

inline void check_inferred(const io::ImportedTrajectory& t) {
  CHECK(t.node_types == "inferred");
  const auto& types = t.fields.at("node_type").i32;
  REQUIRE(types.size() == size_t(kNodes));
  int mismatches = 0;
  for (int64_t i = 0; i < kNodes; ++i) mismatches += types[i] != expected_type(i);
  CHECK(mismatches == 0);
  CHECK(t.type_counts.at(mesh::kWall) == 2 * (kNx + 1));
  CHECK(t.type_counts.at(mesh::kInflow) == kNy - 1);
  CHECK(t.type_counts.at(mesh::kOutflow) == kNy - 1);
}

// `key`: the deck key the error must carry (run_app locates it there), "" none.
template <class F>
inline void check_error(F&& f, const std::string& text, const std::string& key = "") {
  try {
    f();
    FAIL("no error; expected one containing: " << text);
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(text) != std::string::npos);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
    CHECK(e.key() == key);
  }
}

// One .vtu of `m` through VTK's writer, nodes in mesh order; 2-channel fields become
// 3-component VTK arrays (z = 0), as meshio and ParaView write them.
inline void write_vtu(const std::string& path, const mesh::Mesh& m, const std::vector<io::Field>& fields,
                      bool ascii = false) {
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
    for (int64_t i = 0; i < (f.on_cells ? m.num_cells() : m.num_nodes()); ++i) {
      double v[3] = {0, 0, 0};
      for (int k = 0; k < f.channels; ++k) v[k] = f.data[i * f.channels + k];
      a->InsertNextTuple(v);
    }
    if (f.on_cells)
      g->GetCellData()->AddArray(a);
    else
      g->GetPointData()->AddArray(a);
  }
  vtkNew<vtkXMLUnstructuredGridWriter> w;
  w->SetFileName(path.c_str());
  if (ascii) w->SetDataModeToAscii();
  w->SetInputData(g);
  REQUIRE(w->Write() == 1);
}

// A VTU series of the channel (one .vtu per step) with a .pvd index.
inline std::string write_vtu_series(const std::string& name, bool pressure, bool pvd, double dt = 0.5) {
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

}  // namespace tessera::test::foreign
