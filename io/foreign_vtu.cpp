// VTU series (io/foreign.hpp): one .vtu per step, from a .pvd or a directory (or directories).
#include <vtkDataArray.h>
#include <vtkIdList.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLUnstructuredGridReader.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.hpp"
#include "io/foreign.hpp"
#include "io/foreign_raw.hpp"

namespace tessera::io {
namespace {

namespace fs = std::filesystem;
using namespace foreign_detail;

struct VtuStep {
  std::string file;
  double time = NAN;
};

std::vector<VtuStep> pvd_steps(const std::string& pvd) {
  auto root = read_xml(pvd);
  vtkXMLDataElement* coll = root->FindNestedElementWithName("Collection");
  if (std::string(root->GetName()) != "VTKFile" || !coll)
    throw Error(cat(pvd, ": not a ParaView collection (expected <VTKFile type=\"Collection\"><Collection>)"));
  std::vector<VtuStep> steps;
  for (int k = 0; k < coll->GetNumberOfNestedElements(); ++k) {
    vtkXMLDataElement* ds = coll->GetNestedElement(k);
    if (std::string(ds->GetName()) != "DataSet" || attr(ds, "part", "0") != "0") continue;
    const std::string file = attr(ds, "file");
    if (file.empty()) throw Error(cat(pvd, ": DataSet ", k, " has no file attribute"));
    VtuStep s{(fs::path(pvd).parent_path() / file).string()};
    const std::string t = attr(ds, "timestep");
    if (!t.empty()) s.time = parse_number(t, cat(pvd, ": DataSet ", k, " timestep"));
    steps.push_back(s);
  }
  if (steps.empty()) throw Error(cat(pvd, ": empty series (no DataSet entries)"));
  return steps;
}

std::vector<VtuStep> vtu_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".vtu") names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end(), natural_less);
  std::vector<VtuStep> steps;
  for (const auto& n : names) steps.push_back({(fs::path(dir) / n).string()});
  return steps;
}

// The steps of one trajectory in `path`: a .pvd, or a directory holding one .pvd (its order and
// time stamps win over the file names) or else .vtu files.
std::vector<VtuStep> series_steps(const std::string& path) {
  if (fs::is_directory(path)) {
    std::vector<std::string> pvds;
    for (const auto& e : fs::directory_iterator(path))
      if (e.path().extension() == ".pvd") pvds.push_back(e.path().string());
    if (pvds.size() == 1) return pvd_steps(pvds[0]);
    auto steps = vtu_files(path);
    if (!steps.empty()) return steps;
    throw Error(cat(path, ": empty series (no .vtu files", pvds.size() > 1 ? "; several .pvd files" : "", ")"));
  }
  return pvd_steps(path);
}

vtkDataArray* point_array(vtkUnstructuredGrid* g, const std::string& name) {
  return g->GetPointData()->GetArray(name.c_str());
}

std::string point_array_names(vtkUnstructuredGrid* g) {
  std::string s;
  for (int k = 0; k < g->GetPointData()->GetNumberOfArrays(); ++k)
    s += cat(k ? ", " : "", g->GetPointData()->GetArrayName(k) ? g->GetPointData()->GetArrayName(k) : "?");
  return s.empty() ? "none" : s;
}

std::vector<double> array_values(vtkDataArray* a) {
  const int c = a->GetNumberOfComponents();
  std::vector<double> v(size_t(a->GetNumberOfTuples()) * c);
  for (vtkIdType i = 0; i < a->GetNumberOfTuples(); ++i)
    for (int k = 0; k < c; ++k) v[i * c + k] = a->GetComponent(i, k);
  return v;
}

Raw read_vtu_trajectory(const std::string& path, const ImportOptions& o) {
  const std::vector<VtuStep> steps = series_steps(path);
  Raw r;
  r.source = path;
  r.steps = int64_t(steps.size());
  for (size_t s = 0; s < steps.size(); ++s) {
    const std::string& file = steps[s].file;
    if (!fs::is_regular_file(file)) throw Error(cat(file, ": file not found (step ", s, " of ", path, ")"));
    vtkNew<vtkXMLUnstructuredGridReader> reader;
    vtkUnstructuredGrid* g = nullptr;
    {
      VtkMessages messages;  // VTK reports a broken file in several lines; we report it in one
      if (!reader->CanReadFile(file.c_str())) throw Error(cat(file, ": not a VTK XML unstructured grid (.vtu)"));
      reader->SetFileName(file.c_str());
      reader->Update();
      const std::string why = messages.first_error();
      if (!why.empty()) throw Error(cat(file, ": not a readable .vtu file (VTK: ", why, ")"));
      g = reader->GetOutput();
    }
    const int64_t n = g ? g->GetNumberOfPoints() : 0;
    if (n == 0) throw Error(cat(file, ": no points"));
    if (s > 0 && (n != r.nodes || g->GetNumberOfCells() != vtkIdType(r.cells.size() / 3)))
      throw Error(cat(file, ": ", n, " points and ", g->GetNumberOfCells(), " cells, but step 0 (", steps[0].file,
                      ") has ", r.nodes, " and ", r.cells.size() / 3, " (inconsistent node counts across steps)"));
    std::vector<double> xyz(n * 3);
    for (int64_t i = 0; i < n; ++i) g->GetPoint(i, &xyz[i * 3]);
    std::vector<float> pos = to_2d(xyz, 3, false, cat(file, ": points"));
    std::vector<double> conn;
    vtkNew<vtkIdList> ids;
    for (vtkIdType c = 0; c < g->GetNumberOfCells(); ++c) {
      if (g->GetCellType(c) != 5)
        throw Error(cat(file, ": cell ", c, " has VTK type ", g->GetCellType(c), "; only triangles (5) are supported"));
      g->GetCellPoints(c, ids);
      for (int k = 0; k < 3; ++k) conn.push_back(double(ids->GetId(k)));
    }
    std::vector<int32_t> cells = to_cells(conn, n, file);
    if (s == 0) {
      r.nodes = n;
      r.pos = std::move(pos);
      r.cells = std::move(cells);
    } else {
      check_same_mesh(r, pos, cells, file, steps[0].file);
    }
    vtkDataArray* v = point_array(g, o.velocity);
    if (!v || (v->GetNumberOfComponents() != 2 && v->GetNumberOfComponents() != 3))
      throw Error(cat(file, ": ",
                      v ? "point data '" + o.velocity + "' has " + std::to_string(v->GetNumberOfComponents()) +
                              " components; expected 2 or 3"
                        : "no point data '" + o.velocity + "' (point data: " + point_array_names(g) + ")"));
    auto vel = to_2d(array_values(v), v->GetNumberOfComponents(), true, cat(file, ": ", o.velocity));
    r.velocity.insert(r.velocity.end(), vel.begin(), vel.end());
    vtkDataArray* p = point_array(g, o.pressure);
    if (s > 0 && bool(p) != !r.pressure.empty())
      throw Error(cat(file, ": point data '", o.pressure, "' is ", p ? "present" : "absent", " but ",
                      p ? "absent" : "present", " at step 0; expected it at every step or none"));
    if (p) {
      if (p->GetNumberOfComponents() != 1)
        throw Error(
            cat(file, ": point data '", o.pressure, "' has ", p->GetNumberOfComponents(), " components; expected 1"));
      for (double x : array_values(p)) r.pressure.push_back(float(x));
    }
    if (s == 0)
      if (vtkDataArray* nt = point_array(g, o.node_type)) {
        if (nt->GetNumberOfComponents() != 1)
          throw Error(cat(file, ": point data '", o.node_type, "' has ", nt->GetNumberOfComponents(),
                          " components; expected 1"));
        r.node_type = array_values(nt);
      }
    r.times.push_back(steps[s].time);
  }
  if (std::any_of(r.times.begin(), r.times.end(), [](double t) { return std::isnan(t); })) r.times.clear();
  return r;
}

}  // namespace

ImportedDataset read_vtu_series(const std::string& path, const ImportOptions& o) {
  ImportedDataset d;
  d.source = path;
  d.format = ForeignFormat::VtuSeries;
  std::vector<std::string> trajectories{path};
  if (fs::is_directory(path) && vtu_files(path).empty()) {
    std::vector<std::string> subdirs;
    for (const auto& e : fs::directory_iterator(path))
      if (e.is_directory()) subdirs.push_back(e.path().string());
    std::sort(subdirs.begin(), subdirs.end(), natural_less);
    bool pvd = false;
    for (const auto& e : fs::directory_iterator(path)) pvd = pvd || e.path().extension() == ".pvd";
    if (!subdirs.empty() && !pvd) trajectories = subdirs;
  }
  // Every trajectory's stamps must be uniform (even with import.dt set) and give the same dt.
  double stamped_dt = 0;
  std::string stamped_by;
  for (const auto& t : trajectories) {
    if (o.max_trajectories > 0 && int64_t(d.trajectories.size()) >= o.max_trajectories) break;
    Raw r = read_vtu_trajectory(t, o);
    if (const double dt = dt_from_times(r.times, t); dt > 0) {
      if (stamped_dt > 0 && std::abs(dt - stamped_dt) > 1e-6 * stamped_dt)
        throw Error(cat(t, ": dt ", dt, " from its .pvd time stamps, but ", stamped_by, " has ", stamped_dt,
                        "; a tessera dataset has one dt (import them separately)"));
      if (stamped_dt == 0) stamped_dt = dt, stamped_by = t;
    }
    d.trajectories.push_back(finish(std::move(r), o));
  }
  settle_dt(
      d, o, [&] { return stamped_dt; }, "the .pvd time steps", "the series has no .pvd time stamps");
  return d;
}

}  // namespace tessera::io
