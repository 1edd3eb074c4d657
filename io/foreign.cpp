#include "io/foreign.hpp"

#include <vtkDataArray.h>
#include <vtkIdList.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkSmartPointer.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLUnstructuredGridReader.h>
#include <vtkXMLUtilities.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <unordered_map>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "io/h5.hpp"
#include "mesh/mesh.hpp"
#include "mesh/validation.hpp"

namespace tessera::io {
namespace {

namespace fs = std::filesystem;
constexpr int32_t kMaxNodeType = 8;  // MeshGraphNets codes 0..8

// One trajectory as read from any format, before its node types are settled.
struct Raw {
  std::string source;
  int64_t steps = 0, nodes = 0;
  std::vector<float> pos;         // [N, 2]
  std::vector<int32_t> cells;     // [C, 3]
  std::vector<float> velocity;    // [T, N, 2]
  std::vector<float> pressure;    // [T, N]; empty: absent
  std::vector<double> node_type;  // [N]; empty: absent
  std::vector<double> times;      // per step, when the source has them
};

// An n-D array read from a file, as doubles.
struct Array {
  std::vector<hsize_t> dims;
  std::vector<double> v;
  std::string what;  // "file: dataset" for errors
};

std::string shape_text(const std::vector<hsize_t>& d) {
  std::string s = "[";
  for (size_t k = 0; k < d.size(); ++k) s += cat(k ? ", " : "", d[k]);
  return s + "]";
}

// A static per-row array: [R, C] or [T, R, C] constant over T (or [R] when C may be 1).
// Returns the rows of step 0; `channels` lists the accepted channel counts.
std::vector<double> static_rows(const Array& a, const std::vector<int>& channels, int64_t& rows, int& ch,
                                const std::string& expected) {
  auto d = a.dims;
  if (d.size() == 1 && std::count(channels.begin(), channels.end(), 1)) d = {d[0], 1};
  if (d.size() == 2) d.insert(d.begin(), 1);
  if (d.size() != 3 || std::find(channels.begin(), channels.end(), int(d[2])) == channels.end() || d[0] == 0 ||
      d[1] == 0)
    throw Error(cat(a.what, ": shape ", shape_text(a.dims), "; expected ", expected));
  rows = int64_t(d[1]);
  ch = int(d[2]);
  const size_t per = d[1] * d[2];
  for (hsize_t t = 1; t < d[0]; ++t)
    if (!std::equal(a.v.begin(), a.v.begin() + per, a.v.begin() + t * per))
      throw Error(cat(a.what, ": changes between step 0 and step ", t, "; moving meshes are not supported"));
  return {a.v.begin(), a.v.begin() + per};
}

// A dynamic per-row array: [T, R, C] or [T, R] (C = 1).
void dynamic_rows(const Array& a, const std::vector<int>& channels, int64_t& steps, int64_t& rows, int& ch,
                  const std::string& expected) {
  auto d = a.dims;
  if (d.size() == 2 && std::count(channels.begin(), channels.end(), 1)) d.push_back(1);
  if (d.size() != 3 || std::find(channels.begin(), channels.end(), int(d[2])) == channels.end())
    throw Error(cat(a.what, ": shape ", shape_text(a.dims), "; expected ", expected));
  steps = int64_t(d[0]);
  rows = int64_t(d[1]);
  ch = int(d[2]);
}

// Points or vectors with 3 components whose third one is constant (points) or zero (vectors)
// become 2D; anything else 3D is refused.
std::vector<float> to_2d(const std::vector<double>& v, int ch, bool vector, const std::string& what) {
  if (ch == 2) return {v.begin(), v.end()};
  const size_t n = v.size() / 3;
  double scale = 0;
  for (double x : v) scale = std::max(scale, std::abs(x));
  std::vector<float> out(n * 2);
  for (size_t i = 0; i < n; ++i) {
    const double z = v[i * 3 + 2], ref = vector ? 0.0 : v[2];
    if (std::abs(z - ref) > 1e-9 * std::max(scale, 1e-300))
      throw Error(cat(what, ": row ", i, " has a third component ", z, " (row 0: ", v[2],
                      "); only 2D data (a constant or zero third component) can be imported"));
    out[i * 2] = float(v[i * 3]);
    out[i * 2 + 1] = float(v[i * 3 + 1]);
  }
  return out;
}

std::vector<int32_t> to_cells(const std::vector<double>& v, int64_t nodes, const std::string& what) {
  std::vector<int32_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 0 || v[i] >= double(nodes) || v[i] != std::floor(v[i]))
      throw Error(cat(what, ": cell ", i / 3, " references node ", v[i], "; expected indices 0..", nodes - 1));
    out[i] = int32_t(v[i]);
  }
  return out;
}

// dt from uniform time stamps; 0 when there are fewer than two.
double dt_from_times(const std::vector<double>& t, const std::string& what) {
  if (t.size() < 2) return 0;
  const double dt = t[1] - t[0];
  if (!(dt > 0)) throw Error(cat(what, ": time stamps do not increase (", t[0], ", ", t[1], ")"));
  for (size_t k = 2; k < t.size(); ++k)
    if (std::abs(t[k] - t[k - 1] - dt) > 1e-6 * dt)
      throw Error(cat(what, ": time steps are not uniform (t1 - t0 = ", dt, ", t", k, " - t", k - 1, " = ",
                      t[k] - t[k - 1], "); tessera datasets have one dt"));
  return dt;
}

// ---- node types ----

std::vector<char> boundary_nodes(const Raw& r) {
  std::unordered_map<int64_t, int> edges;
  const int64_t n = r.nodes;
  for (size_t c = 0; c < r.cells.size(); c += 3)
    for (int k = 0; k < 3; ++k) {
      int64_t a = r.cells[c + k], b = r.cells[c + (k + 1) % 3];
      if (a > b) std::swap(a, b);
      ++edges[a * n + b];
    }
  std::vector<char> on(n, 0);
  for (auto [key, count] : edges)
    if (count == 1) on[key / n] = on[key % n] = 1;
  return on;
}

std::vector<int32_t> infer_node_types(const Raw& r, const NodeTypeOptions& o) {
  const int64_t n = r.nodes;
  std::vector<double> speed_max(n, 0.0);
  double vmax = 0;
  for (int64_t t = 0; t < r.steps; ++t)
    for (int64_t i = 0; i < n; ++i) {
      const float* v = &r.velocity[(t * n + i) * 2];
      const double s = std::hypot(double(v[0]), double(v[1]));
      speed_max[i] = std::max(speed_max[i], s);
      vmax = std::max(vmax, s);
    }
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < n; ++i)
    lo = std::min(lo, double(r.pos[i * 2 + o.axis])), hi = std::max(hi, double(r.pos[i * 2 + o.axis]));
  const double tol = o.tolerance * (hi - lo);
  const std::vector<char> boundary = boundary_nodes(r);
  std::vector<int32_t> types(n, mesh::kNormal);
  for (int64_t i = 0; i < n; ++i) {
    if (!boundary[i]) continue;
    const double x = r.pos[i * 2 + o.axis];
    if (speed_max[i] <= o.wall_speed * vmax)
      types[i] = mesh::kWall;
    else if (x <= lo + tol)
      types[i] = mesh::kInflow;
    else if (x >= hi - tol)
      types[i] = mesh::kOutflow;
    else
      types[i] = o.other_boundary;
  }
  return types;
}

// Checks a raw trajectory and builds the tessera fields.
ImportedTrajectory finish(Raw r, const ImportOptions& o) {
  if (r.steps < 2)
    throw Error(cat(r.source, ": ", r.steps, " time step", r.steps == 1 ? "" : "s",
                    "; a trajectory needs at least 2 (pairs of consecutive states)"));
  if (r.cells.empty()) throw Error(cat(r.source, ": no cells"));
  for (size_t k = 0; k < r.pos.size(); ++k)
    if (!std::isfinite(r.pos[k])) throw Error(cat(r.source, ": node ", k / 2, " has a non-finite coordinate"));
  {
    // The mesh checks training would make, here at import time.
    mesh::Mesh m;
    m.coords.assign(r.pos.begin(), r.pos.end());
    m.cells.assign(r.cells.begin(), r.cells.end());
    mesh::orient_consistently(m);
    mesh::validate(m, r.source);
  }
  for (size_t k = 0; k < r.velocity.size(); ++k)
    if (!std::isfinite(r.velocity[k]))
      throw Error(cat(r.source, ": ", o.velocity, " holds a non-finite value at step ", k / (r.nodes * 2), ", node ",
                      (k / 2) % r.nodes));
  ImportedTrajectory t;
  t.source = r.source;
  t.steps = r.steps;
  t.nodes = r.nodes;
  t.cells = int64_t(r.cells.size() / 3);
  t.has_pressure = !r.pressure.empty();
  const bool use_field = o.node_types.mode == NodeTypeOptions::Mode::Field ||
                         (o.node_types.mode == NodeTypeOptions::Mode::Auto && !r.node_type.empty());
  std::vector<int32_t> types;
  if (use_field) {
    if (r.node_type.empty())
      throw Error(cat(r.source, ": no node-type field '", o.node_type,
                      "' (node_types.mode = field); use node_types.mode = infer or auto"));
    for (size_t i = 0; i < r.node_type.size(); ++i) {
      const double x = r.node_type[i];
      if (x != std::floor(x) || x < 0 || x > kMaxNodeType)
        throw Error(
            cat(r.source, ": ", o.node_type, " is ", x, " at node ", i, "; expected integer codes 0..", kMaxNodeType));
      types.push_back(int32_t(x));
    }
    t.node_types = cat("from field '", o.node_type, "'");
  } else {
    types = infer_node_types(r, o.node_types);
    t.node_types = "inferred";
  }
  for (int32_t x : types) ++t.type_counts[x];
  const hsize_t n = hsize_t(r.nodes), T = hsize_t(r.steps);
  t.fields["cells"] = FieldData{{1, hsize_t(t.cells), 3}, {}, std::move(r.cells)};
  t.fields["mesh_pos"] = FieldData{{1, n, 2}, std::move(r.pos), {}};
  t.fields["node_type"] = FieldData{{1, n, 1}, {}, std::move(types)};
  t.fields["velocity"] = FieldData{{T, n, 2}, std::move(r.velocity), {}};
  if (t.has_pressure) t.fields["pressure"] = FieldData{{T, n, 1}, std::move(r.pressure), {}};
  for (auto& [name, f] : t.fields) f.global_rows = f.shape[1];
  return t;
}

// Sorting key of names with numbers: by the last number in the name, then the name.
bool natural_less(const std::string& a, const std::string& b) {
  static const std::regex num("([0-9]+)[^0-9]*$");
  std::smatch ma, mb;
  const bool ha = std::regex_search(a, ma, num), hb = std::regex_search(b, mb, num);
  if (ha && hb && ma[1].str() != mb[1].str()) return std::stoll(ma[1].str()) < std::stoll(mb[1].str());
  return a < b;
}

// ---- graph-physics HDF5 ----

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
  auto need = [&](const std::string& name, const std::string& expected) {
    if (!f.exists(g + "/" + name))
      throw Error(
          cat(f.path(), ": trajectory group ", group, " has no dataset '", name, "'; expected ", name, " ", expected));
    return read_h5(f, g + "/" + name);
  };
  int ch = 0;
  int64_t steps = 0, rows = 0;
  const Array vel = need(o.velocity, "[T, N, 2]");
  dynamic_rows(vel, {2, 3}, steps, rows, ch, "[T, N, 2] (a velocity per step and node)");
  r.steps = steps;
  r.nodes = rows;
  r.velocity = to_2d(vel.v, ch, true, vel.what);
  const Array pos = need(o.mesh_pos, "[N, 2] or [T, N, 2]");
  int64_t n = 0;
  auto p = static_rows(pos, {2, 3}, n, ch, "[N, 2] or [T, N, 2]");
  if (n != r.nodes)
    throw Error(cat(pos.what, ": ", n, " nodes, but ", o.velocity, " has ", r.nodes, " (inconsistent node counts)"));
  r.pos = to_2d(p, ch, false, pos.what);
  const Array cells = need(o.cells, "[C, 3] or [T, C, 3] (triangles)");
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
    int64_t nn = 0;
    r.node_type = static_rows(nt, {1}, nn, ch, "[N], [N, 1] or [T, N, 1]");
    if (nn != r.nodes)
      throw Error(cat(nt.what, ": ", nn, " nodes, but ", o.velocity, " has ", r.nodes, " (inconsistent node counts)"));
  }
  return r;
}

double dt_from_meta(const std::string& meta_path) {
  std::ifstream in(meta_path);
  if (!in) return 0;
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    YAML::Node n = YAML::Load(ss.str());
    if (n["dt"]) return n["dt"].as<double>();
  } catch (const YAML::Exception& e) {
    throw Error(cat(meta_path, ": not valid JSON/YAML: ", e.what()));
  }
  return 0;
}

// ---- VTU series ----

struct VtuStep {
  std::string file;
  double time = NAN;
};

vtkSmartPointer<vtkXMLDataElement> read_xml(const std::string& path) {
  if (!fs::is_regular_file(path)) throw Error(cat(path, ": file not found"));
  vtkSmartPointer<vtkXMLDataElement> root;
  root.TakeReference(vtkXMLUtilities::ReadElementFromFile(path.c_str()));
  if (!root) throw Error(cat(path, ": not a well-formed XML file"));
  return root;
}

std::string attr(vtkXMLDataElement* e, const char* name, const std::string& fallback = "") {
  const char* v = e->GetAttribute(name);
  return v ? v : fallback;
}

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
    if (!t.empty()) s.time = std::stod(t);
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

// The steps of one trajectory in `path` (a .pvd or a directory of .vtu files or one .pvd).
std::vector<VtuStep> series_steps(const std::string& path) {
  if (fs::is_directory(path)) {
    auto steps = vtu_files(path);
    if (!steps.empty()) return steps;
    std::vector<std::string> pvds;
    for (const auto& e : fs::directory_iterator(path))
      if (e.path().extension() == ".pvd") pvds.push_back(e.path().string());
    if (pvds.size() == 1) return pvd_steps(pvds[0]);
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
    if (!reader->CanReadFile(file.c_str())) throw Error(cat(file, ": not a VTK XML unstructured grid (.vtu)"));
    reader->SetFileName(file.c_str());
    reader->Update();
    vtkUnstructuredGrid* g = reader->GetOutput();
    const int64_t n = g ? g->GetNumberOfPoints() : 0;
    if (n == 0) throw Error(cat(file, ": no points"));
    if (s == 0) {
      r.nodes = n;
      std::vector<double> xyz(n * 3);
      for (int64_t i = 0; i < n; ++i) g->GetPoint(i, &xyz[i * 3]);
      r.pos = to_2d(xyz, 3, false, cat(file, ": points"));
      std::vector<double> conn;
      vtkNew<vtkIdList> ids;
      for (vtkIdType c = 0; c < g->GetNumberOfCells(); ++c) {
        if (g->GetCellType(c) != 5)
          throw Error(
              cat(file, ": cell ", c, " has VTK type ", g->GetCellType(c), "; only triangles (5) are supported"));
        g->GetCellPoints(c, ids);
        for (int k = 0; k < 3; ++k) conn.push_back(double(ids->GetId(k)));
      }
      r.cells = to_cells(conn, n, file);
    } else if (n != r.nodes || g->GetNumberOfCells() != vtkIdType(r.cells.size() / 3)) {
      throw Error(cat(file, ": ", n, " points and ", g->GetNumberOfCells(), " cells, but step 0 (", steps[0].file,
                      ") has ", r.nodes, " and ", r.cells.size() / 3, " (inconsistent node counts across steps)"));
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

// ---- XDMF3 ----

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

vtkXMLDataElement* child(vtkXMLDataElement* e, const std::string& name) {
  for (int k = 0; k < e->GetNumberOfNestedElements(); ++k)
    if (name == e->GetNestedElement(k)->GetName()) return e->GetNestedElement(k);
  return nullptr;
}

// Reads the heavy or inline data of DataItems, keeping HDF5 files open.
struct XdmfData {
  std::string xmf, dir;
  std::map<std::string, H5File> files;

  Array read(vtkXMLDataElement* item, const std::string& what) {
    if (!item) throw Error(cat(xmf, ": ", what, " has no DataItem"));
    Array a;
    std::istringstream dims(attr(item, "Dimensions"));
    for (hsize_t d; dims >> d;) a.dims.push_back(d);
    if (a.dims.empty()) throw Error(cat(xmf, ": ", what, ": DataItem has no Dimensions"));
    const std::string format = attr(item, "Format", "XML"),
                      text = trim(item->GetCharacterData() ? item->GetCharacterData() : "");
    if (!attr(item, "ItemType").empty() && attr(item, "ItemType") != "Uniform")
      throw Error(
          cat(xmf, ": ", what, ": DataItem ItemType ", attr(item, "ItemType"), " is not supported (Uniform only)"));
    if (format == "HDF") {
      const auto colon = text.find(':');
      if (colon == std::string::npos)
        throw Error(cat(xmf, ": ", what, ": HDF DataItem '", text, "' is not <file>.h5:/<dataset>"));
      const std::string file = (fs::path(dir) / text.substr(0, colon)).string(), dset = text.substr(colon + 1);
      auto it = files.find(file);
      if (it == files.end()) it = files.emplace(file, H5File::open_read(file)).first;
      std::vector<hsize_t> stored;
      a.v = it->second.read<double>(dset, &stored);
      a.what = cat(file, ": ", dset);
    } else if (format == "XML") {
      std::istringstream in(text);
      for (double x; in >> x;) a.v.push_back(x);
      a.what = cat(xmf, ": ", what);
    } else {
      throw Error(cat(xmf, ": ", what, ": DataItem Format ", format, " is not supported (HDF or XML)"));
    }
    hsize_t n = 1;
    for (auto d : a.dims) n *= d;
    if (a.v.size() != n)
      throw Error(cat(a.what, ": holds ", a.v.size(), " values, but the DataItem's Dimensions ", shape_text(a.dims),
                      " need ", n));
    return a;
  }
};

// All Grid elements below `e`, depth first.
void grids(vtkXMLDataElement* e, std::vector<vtkXMLDataElement*>& out) {
  for (int k = 0; k < e->GetNumberOfNestedElements(); ++k) {
    vtkXMLDataElement* c = e->GetNestedElement(k);
    if (std::string(c->GetName()) == "Grid") out.push_back(c);
    grids(c, out);
  }
}

// Topology or Geometry of a temporal grid: its own, or through xi:include from a named grid
// (meshio), or else from the domain's only uniform grid outside the collection.
vtkXMLDataElement* mesh_part(vtkXMLDataElement* grid, const std::string& part, vtkXMLDataElement* domain,
                             vtkXMLDataElement* collection, const std::string& xmf) {
  if (auto* e = child(grid, part)) return e;
  std::vector<vtkXMLDataElement*> all;
  grids(domain, all);
  for (int k = 0; k < grid->GetNumberOfNestedElements(); ++k) {
    vtkXMLDataElement* inc = grid->GetNestedElement(k);
    const std::string name = inc->GetName();
    if (name.size() < 7 || name.substr(name.size() - 7) != "include") continue;
    static const std::regex ref("@Name=[\"']([^\"']*)[\"']");
    std::smatch m;
    const std::string ptr = attr(inc, "xpointer");
    if (!std::regex_search(ptr, m, ref)) continue;
    for (auto* g : all)
      if (attr(g, "Name") == m[1].str())
        if (auto* e = child(g, part)) return e;
  }
  for (int k = 0; k < domain->GetNumberOfNestedElements(); ++k) {
    vtkXMLDataElement* g = domain->GetNestedElement(k);
    if (g != collection && std::string(g->GetName()) == "Grid")
      if (auto* e = child(g, part)) return e;
  }
  throw Error(
      cat(xmf, ": grid '", attr(grid, "Name", "?"), "' has no ", part, " (neither its own nor through xi:include)"));
}

Raw read_xdmf_trajectory(const std::string& xmf, const ImportOptions& o) {
  auto root = read_xml(xmf);
  vtkXMLDataElement* domain = child(root, "Domain");
  if (std::string(root->GetName()) != "Xdmf" || !domain)
    throw Error(cat(xmf, ": not an XDMF file (expected <Xdmf><Domain>)"));
  vtkXMLDataElement* coll = nullptr;
  std::vector<vtkXMLDataElement*> all;
  grids(domain, all);
  for (auto* g : all)
    if (attr(g, "GridType") == "Collection") {
      coll = g;
      break;
    }
  if (!coll) throw Error(cat(xmf, ": no temporal collection (<Grid GridType=\"Collection\">); expected a time series"));
  std::vector<vtkXMLDataElement*> steps;
  for (int k = 0; k < coll->GetNumberOfNestedElements(); ++k)
    if (std::string(coll->GetNestedElement(k)->GetName()) == "Grid") steps.push_back(coll->GetNestedElement(k));
  if (steps.empty()) throw Error(cat(xmf, ": empty series (the collection has no grids)"));
  XdmfData data{xmf, fs::path(xmf).parent_path().string(), {}};
  Raw r;
  r.source = xmf;
  r.steps = int64_t(steps.size());
  vtkXMLDataElement *topo0 = nullptr, *geo0 = nullptr;
  for (size_t s = 0; s < steps.size(); ++s) {
    vtkXMLDataElement* g = steps[s];
    const std::string where = cat("step ", s, " (grid '", attr(g, "Name", "?"), "')");
    vtkXMLDataElement* topo = mesh_part(g, "Topology", domain, coll, xmf);
    vtkXMLDataElement* geo = mesh_part(g, "Geometry", domain, coll, xmf);
    if (s == 0) {
      const std::string type = attr(topo, "TopologyType", attr(topo, "Type"));
      if (lower(type) != "triangle")
        throw Error(cat(xmf, ": ", where, ": Topology type '", type, "'; only Triangle is supported"));
      const std::string gtype = attr(geo, "GeometryType", attr(geo, "Type", "XYZ"));
      if (gtype != "XY" && gtype != "XYZ")
        throw Error(cat(xmf, ": ", where, ": GeometryType ", gtype, "; expected XY or XYZ"));
      Array pts = data.read(child(geo, "DataItem"), where + " Geometry");
      int64_t n = 0;
      int ch = 0;
      auto p = static_rows(pts, {2, 3}, n, ch, gtype == "XY" ? "[N, 2]" : "[N, 3]");
      r.nodes = n;
      r.pos = to_2d(p, ch, false, pts.what);
      Array cells = data.read(child(topo, "DataItem"), where + " Topology");
      int64_t nc = 0;
      r.cells = to_cells(static_rows(cells, {3}, nc, ch, "[C, 3]"), n, cells.what);
      topo0 = topo;
      geo0 = geo;
    } else if (topo != topo0 || geo != geo0) {
      // A grid with its own mesh (tessera's layout): it must be the same mesh.
      Array pts = data.read(child(geo, "DataItem"), where + " Geometry");
      if (pts.dims.empty() || int64_t(pts.dims[0]) != r.nodes)
        throw Error(cat(pts.what, ": ", pts.dims.empty() ? 0 : pts.dims[0], " nodes at ", where, ", but step 0 has ",
                        r.nodes, " (inconsistent node counts across steps)"));
    }
    if (auto* t = child(g, "Time")) r.times.push_back(std::stod(attr(t, "Value", "nan")));
    vtkXMLDataElement *vel = nullptr, *pr = nullptr, *nt = nullptr;
    for (int k = 0; k < g->GetNumberOfNestedElements(); ++k) {
      vtkXMLDataElement* a = g->GetNestedElement(k);
      if (std::string(a->GetName()) != "Attribute") continue;
      const std::string name = attr(a, "Name");
      vtkXMLDataElement** slot = name == o.velocity    ? &vel
                                 : name == o.pressure  ? &pr
                                 : name == o.node_type ? &nt
                                                       : nullptr;
      if (!slot) continue;
      if (attr(a, "Center", "Node") != "Node")
        throw Error(
            cat(xmf, ": ", where, ": attribute '", name, "' is centred on ", attr(a, "Center"), "; expected Node"));
      *slot = a;
    }
    if (!vel) throw Error(cat(xmf, ": ", where, ": no attribute '", o.velocity, "'; velocity is required"));
    Array v = data.read(child(vel, "DataItem"), where + " " + o.velocity);
    if (v.dims.size() != 2 || (v.dims[1] != 2 && v.dims[1] != 3))
      throw Error(cat(v.what, ": shape ", shape_text(v.dims), " at ", where, "; expected [N, 2] or [N, 3]"));
    const int64_t n = int64_t(v.dims[0]);
    const int ch = int(v.dims[1]);
    if (n != r.nodes)
      throw Error(
          cat(v.what, ": ", n, " nodes at ", where, ", but the mesh has ", r.nodes, " (inconsistent node counts)"));
    auto v2 = to_2d(v.v, ch, true, v.what);
    r.velocity.insert(r.velocity.end(), v2.begin(), v2.end());
    if (s > 0 && bool(pr) != !r.pressure.empty())
      throw Error(cat(xmf, ": ", where, ": attribute '", o.pressure, "' is ", pr ? "present" : "absent",
                      " but not at step 0; expected it at every step or none"));
    if (pr) {
      Array p = data.read(child(pr, "DataItem"), where + " " + o.pressure);
      if (p.v.size() != size_t(r.nodes))
        throw Error(cat(p.what, ": ", p.v.size(), " values at ", where, "; expected one per node (", r.nodes, ")"));
      for (double x : p.v) r.pressure.push_back(float(x));
    }
    if (nt && s == 0) {
      Array a = data.read(child(nt, "DataItem"), where + " " + o.node_type);
      if (a.v.size() != size_t(r.nodes))
        throw Error(cat(a.what, ": ", a.v.size(), " values; expected one per node (", r.nodes, ")"));
      r.node_type = a.v;
    }
  }
  if (r.times.size() != steps.size()) r.times.clear();
  return r;
}

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
  return cat("boundary nodes (on edges of one triangle): speed <= ", wall_speed,
             " x max speed at every step -> wall (6); ", "else ", ax, " within ", tolerance, " x extent of min ", ax,
             " -> inflow (4); of max ", ax, " -> outflow (5); else -> ", other_boundary,
             "; interior nodes -> normal (0)");
}

bool ImportedDataset::has_pressure() const {
  return !trajectories.empty() &&
         std::all_of(trajectories.begin(), trajectories.end(), [](const auto& t) { return t.has_pressure; });
}

ForeignFormat detect_foreign_format(const std::string& path) {
  if (!fs::exists(path)) throw Error(cat(path, ": file or directory not found"));
  if (fs::is_directory(path)) return ForeignFormat::VtuSeries;
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

ImportedDataset read_graph_physics(const std::string& path, const ImportOptions& o) {
  ImportedDataset d;
  d.source = path;
  d.format = ForeignFormat::GraphPhysics;
  const H5File f = H5File::open_read(path);
  std::vector<std::string> groups;
  if (f.exists("/" + o.velocity))
    groups = {"/"};  // a file holding one trajectory at its root
  else
    for (const auto& name : f.list("/")) groups.push_back("/" + name);
  std::sort(groups.begin(), groups.end(), natural_less);
  if (groups.empty()) throw Error(cat(path, ": no trajectory groups (expected groups holding '", o.velocity, "')"));
  for (const auto& g : groups) {
    if (o.max_trajectories > 0 && int64_t(d.trajectories.size()) >= o.max_trajectories) break;
    d.trajectories.push_back(finish(read_gp_group(f, g, o), o));
  }
  const std::string meta = (fs::path(path).parent_path() / "meta.json").string();
  if (o.dt > 0) {
    d.dt = o.dt, d.dt_source = "import.dt";
  } else if ((d.dt = dt_from_meta(meta)) > 0) {
    d.dt_source = meta;
  } else {
    throw Error(cat(path, ": no time step: no meta.json with \"dt\" beside the file; set import.dt"));
  }
  return d;
}

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
  std::vector<double> times;
  for (const auto& t : trajectories) {
    if (o.max_trajectories > 0 && int64_t(d.trajectories.size()) >= o.max_trajectories) break;
    Raw r = read_vtu_trajectory(t, o);
    if (times.empty()) times = r.times;
    d.trajectories.push_back(finish(std::move(r), o));
  }
  if (o.dt > 0) {
    d.dt = o.dt, d.dt_source = "import.dt";
  } else if ((d.dt = dt_from_times(times, path)) > 0) {
    d.dt_source = "the .pvd time steps";
  } else {
    throw Error(cat(path, ": no time step: the series has no .pvd time stamps; set import.dt"));
  }
  return d;
}

ImportedDataset read_xdmf_series(const std::string& path, const ImportOptions& o) {
  ImportedDataset d;
  d.source = path;
  d.format = ForeignFormat::Xdmf;
  Raw r = read_xdmf_trajectory(path, o);
  const std::vector<double> times = r.times;
  d.trajectories.push_back(finish(std::move(r), o));
  if (o.dt > 0) {
    d.dt = o.dt, d.dt_source = "import.dt";
  } else if ((d.dt = dt_from_times(times, path)) > 0) {
    d.dt_source = "the XDMF <Time> values";
  } else {
    throw Error(cat(path, ": no time step: the grids have no <Time> values; set import.dt"));
  }
  return d;
}

ImportedDataset read_foreign(const std::string& path, const ImportOptions& o) {
  const ForeignFormat f = o.format == ForeignFormat::Auto ? detect_foreign_format(path) : o.format;
  if (!fs::exists(path)) throw Error(cat(path, ": file or directory not found"));
  switch (f) {
    case ForeignFormat::GraphPhysics:
      return read_graph_physics(path, o);
    case ForeignFormat::VtuSeries:
      return read_vtu_series(path, o);
    default:
      return read_xdmf_series(path, o);
  }
}

void write_imported(const ImportedDataset& d, const ImportOptions& o, const std::string& dir, const std::string& split,
                    const std::string& deck_yaml) {
  if (d.trajectories.empty()) throw Error(cat(d.source, ": no trajectories to write"));
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
    if (other_split && ss.str() != meta.to_json())
      throw Error(cat(meta_path, ": another split of this directory has other fields, steps or dt (", trim(ss.str()),
                      "); write this one to another directory"));
  }
  DatasetWriter w(dir, split, meta, Comm::self(), deck_yaml);
  for (size_t i = 0; i < d.trajectories.size(); ++i) w.write(int64_t(i), d.trajectories[i].fields);
  w.finish();
  // The record of what was imported, and how.
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "source" << YAML::Value << d.source;
  e << YAML::Key << "format" << YAML::Value << foreign_format_name(d.format);
  e << YAML::Key << "split" << YAML::Value << split;
  e << YAML::Key << "trajectories" << YAML::Value << d.trajectories.size();
  e << YAML::Key << "steps" << YAML::Value << first.steps;
  e << YAML::Key << "dt" << YAML::Value << d.dt << YAML::Key << "dt_from" << YAML::Value << d.dt_source;
  e << YAML::Key << "fields" << YAML::Value << describe_fields(d);
  std::string absent = d.has_pressure() ? "" : "pressure";
  e << YAML::Key << "absent" << YAML::Value << absent;
  e << YAML::Key << "node_types" << YAML::Value << YAML::BeginSeq;
  for (const auto& t : d.trajectories) e << cat(t.source, ": ", t.node_types);
  e << YAML::EndSeq;
  e << YAML::Key << "node_type_rule" << YAML::Value << o.node_types.describe();
  e << YAML::EndMap;
  core::write_text_atomic(dir + "/" + split + ".import.yaml", std::string(e.c_str()) + "\n");
}

}  // namespace tessera::io
