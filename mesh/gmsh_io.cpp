#include "mesh/gmsh_io.hpp"

#include <dlfcn.h>
#include <gmsh.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/child_process.hpp"
#include "core/error.hpp"
#include "core/regular_file.hpp"
#include "mesh/geo_node_bound.hpp"
#include "mesh/mesh_bytes.hpp"
#include "mesh/msh_text.hpp"
#include "mesh/validation.hpp"

namespace tessera::mesh {
namespace {

// Gmsh element type codes (gmsh::model::mesh::getElementProperties).
constexpr int kPoint = 15, kLine = 1, kTriangle = 2, kQuad = 3, kTet = 4;

// Gmsh sets the process-wide OpenMP thread count to 1 when it starts and leaves it so; without a
// restore every OpenMP-parallel code run later (torch's CPU kernels included) silently runs on
// one thread. The OpenMP runtime is found at run time (libgmsh loads it), so tessera_mesh needs
// no OpenMP of its own (which could differ from the one torch brings).
class OmpThreadGuard {
 public:
  OmpThreadGuard()
      : get_(reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"))),
        set_(reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"))),
        saved_(get_ ? get_() : 0) {}
  ~OmpThreadGuard() {
    if (set_ && saved_ > 0) set_(saved_);
  }

 private:
  int (*get_)();
  void (*set_)(int);
  int saved_;
};

// Gmsh appends its program's folder to PATH and PYTHONPATH each time it starts, and glibc keeps
// every string a setenv replaced: a dataset job, one session per trajectory, grew PATH to 5 KB
// after 215 trajectories and leaked about 23 N^2 bytes over N (a soak review, 2026-12-06; past
// 128 KiB of PATH no program could be started from the process). The variables are put back when
// Gmsh has started; glibc reuses a "NAME=value" string it has set before, so repeated sessions
// allocate nothing more.
class EnvironmentKept {
 public:
  explicit EnvironmentKept(std::vector<std::string> names) : names_(std::move(names)) {
    for (const auto& n : names_) {
      const char* v = std::getenv(n.c_str());
      values_.emplace_back(v ? std::optional<std::string>(v) : std::nullopt);
    }
  }
  ~EnvironmentKept() {
    for (size_t i = 0; i < names_.size(); ++i) {
      const char* now = std::getenv(names_[i].c_str());
      if (values_[i] && (!now || *values_[i] != now))
        setenv(names_[i].c_str(), values_[i]->c_str(), 1);
      else if (!values_[i] && now)
        unsetenv(names_[i].c_str());
    }
  }
  EnvironmentKept(const EnvironmentKept&) = delete;
  EnvironmentKept& operator=(const EnvironmentKept&) = delete;

 private:
  std::vector<std::string> names_;
  std::vector<std::optional<std::string>> values_;
};

// One Gmsh session: initialize quietly, capture the log, finalize on scope exit.
class GmshSession {
 public:
  GmshSession() {
    const EnvironmentKept kept({"PATH", "PYTHONPATH"});
    gmsh::initialize(0, nullptr, false);
    gmsh::option::setNumber("General.Terminal", 0);
    gmsh::logger::start();
  }
  ~GmshSession() {
    gmsh::logger::stop();
    gmsh::finalize();
  }
  GmshSession(const GmshSession&) = delete;
  GmshSession& operator=(const GmshSession&) = delete;

  // Runs f; Gmsh reports failure by throwing a non-std value with the text in its log.
  template <class F>
  void guarded(const std::string& what, F&& f) {
    try {
      f();
    } catch (const Error&) {
      throw;  // ours, already naming what failed
    } catch (const std::bad_alloc&) {
      // Gmsh sizes its arrays by the counts the file states: a damaged count asks for too much.
      throw Error(cat(what, ": a count in the file is too large to hold (out of memory): the file is damaged"));
    } catch (const std::length_error&) {
      throw Error(
          cat(what, ": a count in the file is too large to hold (negative or beyond any array): the file is damaged"));
    } catch (const std::exception& e) {
      throw Error(cat(what, ": ", e.what()));
    } catch (...) {
      std::string err;
      gmsh::logger::getLastError(err);
      throw Error(cat(what, ": ", err.empty() ? "Gmsh failed" : err));
    }
  }

 private:
  OmpThreadGuard omp_;  // built before the constructor body (initialize), destroyed after finalize
};

void require_file(const std::string& path) { core::require_regular_file(path, "a mesh file"); }

// The model's cell type: tetrahedra, else triangles or quads (not both); anything but linear
// cells, lines and points is rejected.
int model_cell_type(const std::string& what) {
  std::vector<int> types;
  gmsh::model::mesh::getElementTypes(types);
  int cell_type = -1;
  for (int t : {kTet, kTriangle, kQuad})
    if (std::find(types.begin(), types.end(), t) != types.end()) {
      if (cell_type == kTriangle && t == kQuad)
        throw Error(cat(what, ": mixed triangle and quad cells are not supported"));
      if (cell_type < 0) cell_type = t;
    }
  for (int t : types)
    if (t != kPoint && t != kLine && t != kTriangle && t != kQuad && t != kTet) {
      // Gmsh's own name ("Triangle 6"), and for curved (higher-order) elements what to do.
      std::string name;
      int dim = 0, order = 0, nodes = 0, primary = 0;
      std::vector<double> local;
      try {
        gmsh::model::mesh::getElementProperties(t, name, dim, order, nodes, local, primary);
      } catch (...) {
      }
      throw Error(cat(what, ": element type ", t, name.empty() ? std::string() : cat(" (", name, ")"),
                      " is not supported (only linear triangles, quads and tetrahedra)",
                      order > 1 ? "; mesh with first-order elements (gmsh -order 1, Mesh.ElementOrder = 1): the "
                                  "solver builds its own P2 nodes, and curves a circular boundary itself"
                                : ""));
    }
  if (cell_type < 0) throw Error(cat(what, ": no triangle, quad or tetrahedron cells found"));
  return cell_type;
}

// Gmsh node tag -> mesh node index.
using NodeIndex = std::unordered_map<std::size_t, int64_t>;

// Copies the model's nodes into m (m.dim: 2 for a flat 3D-embedded surface mesh) except the
// geometry-only points: nodes on dim-0 entities that no cell references.
NodeIndex add_nodes(Mesh& m, const std::vector<std::size_t>& cell_nodes, const std::string& what,
                    std::vector<std::size_t>& tag_of_node) {
  std::vector<std::size_t> node_tags;
  std::vector<double> xyz, param;
  gmsh::model::mesh::getNodes(node_tags, xyz, param, -1, -1, false, false);
  std::size_t max_tag = 0;
  for (auto t : node_tags) max_tag = std::max(max_tag, t);
  std::vector<char> used_tag(max_tag + 1, 0);
  for (auto t : cell_nodes) {
    if (t > max_tag) throw Error(cat(what, ": a cell references undefined node tag ", t));
    used_tag[t] = 1;
  }
  std::vector<std::size_t> point_tags;
  std::vector<double> pxyz, pparam;
  gmsh::model::mesh::getNodes(point_tags, pxyz, pparam, 0, -1, false, false);
  std::vector<char> is_point(max_tag + 1, 0);
  for (auto t : point_tags)
    if (t <= max_tag) is_point[t] = 1;

  // Detect a flat 3D-embedded surface mesh: keep dim = 2 if every z is 0.
  bool flat = true;
  for (size_t i = 0; i < node_tags.size(); ++i) flat = flat && xyz[3 * i + 2] == 0.0;
  m.dim = (cell_dim(m.cell_type) == 2 && flat) ? 2 : 3;
  NodeIndex index;
  for (size_t i = 0; i < node_tags.size(); ++i) {
    auto t = node_tags[i];
    if (!used_tag[t] && is_point[t]) continue;
    if (index.count(t)) throw Error(cat(what, ": node tag ", t, " is defined twice"));
    index[t] = m.num_nodes();
    tag_of_node.push_back(t);
    for (int k = 0; k < m.dim; ++k) m.coords.push_back(xyz[3 * i + k]);
  }
  return index;
}

int64_t node_of(const NodeIndex& index, std::size_t tag, const std::string& what) {
  auto it = index.find(tag);
  if (it == index.end()) throw Error(cat(what, ": element references undefined node tag ", tag));
  return it->second;
}

// One mesh group per physical group of lower dimension than the cells (unnamed ones get
// "group_<dim>_<tag>").
void add_groups(Mesh& m, const NodeIndex& index, const std::string& what) {
  const int cdim = cell_dim(m.cell_type);
  gmsh::vectorpair groups;
  gmsh::model::getPhysicalGroups(groups);
  int cell_groups = 0;
  for (auto [gdim, gtag] : groups) {
    if (gdim == cdim) {
      // One named cell group names the domain; several are merged into one, named "domain".
      std::string name;
      gmsh::model::getPhysicalName(gdim, gtag, name);
      m.domain_name = ++cell_groups == 1 && !name.empty() ? name : "domain";
    }
    if (gdim >= cdim) continue;
    PhysicalGroup g;
    gmsh::model::getPhysicalName(gdim, gtag, g.name);
    if (g.name.empty()) g.name = cat("group_", gdim, "_", gtag);
    g.dim = gdim;
    const int facet_type = gdim == 0 ? kPoint : gdim == 1 ? kLine : kTriangle;
    std::vector<int> entities;
    gmsh::model::getEntitiesForPhysicalGroup(gdim, gtag, entities);
    for (int ent : entities) {
      std::vector<std::size_t> etags, enodes;
      gmsh::model::mesh::getElementsByType(facet_type, etags, enodes, ent);
      for (auto t : enodes) g.facets.push_back(node_of(index, t, what));
    }
    m.groups.push_back(std::move(g));
  }
}

// Converts the current Gmsh model into a Mesh. Nodes that only serve as geometry construction
// points (e.g. a circle's centre) are dropped; any other node no cell uses stays, so that
// validation reports it. `from_file`: a .msh, whose element and node tags validation's messages
// use (the user finds them in the file); a mesh Gmsh generated is named by tessera's indices.
Mesh extract_model(const std::string& what, bool from_file) {
  const int cell_type = model_cell_type(what);
  Mesh m;
  m.cell_type = cell_type == kTet ? CellType::Tetrahedron : cell_type == kQuad ? CellType::Quad : CellType::Triangle;
  std::vector<std::size_t> cell_nodes;
  SourceTags tags;
  gmsh::model::mesh::getElementsByType(cell_type, tags.cell, cell_nodes);
  const NodeIndex index = add_nodes(m, cell_nodes, what, tags.node);
  for (auto t : cell_nodes) m.cells.push_back(node_of(index, t, what));
  add_groups(m, index, what);
  m.node_type.assign(m.num_nodes(), kNormal);
  orient_consistently(m);
  validate(m, what, 1e-10, from_file ? &tags : nullptr);
  return m;
}

}  // namespace

std::map<std::string, int32_t> cylinder_node_types() {
  return {{"inflow", kInflow}, {"outflow", kOutflow}, {"walls", kWall}, {"cylinder", kWall}};
}

double estimate_cylinder_nodes(const CylinderChannel& c) {
  const double pi = 3.14159265358979323846, per_node = 0.87;  // area per node: (sqrt(3)/2) h^2
  // Around the cylinder, out to `transition`: the integral of 2 pi (r + s) / (0.87 h(s)^2) ds
  // with h(s) = a + b s, in closed form (a midpoint rule would miss the 1/h_near growth).
  const double r = c.radius, t = c.transition, a = c.h_near, b = (c.h_far - c.h_near) / c.transition;
  double near = 0;
  if (b * t < 1e-12 * a) {
    near = pi * ((r + t) * (r + t) - r * r) / (a * a);
  } else {
    const double u0 = a, u1 = a + b * t;
    near = 2 * pi / (b * b) * ((b * r - a) * (1 / u0 - 1 / u1) + std::log(u1 / u0));
  }
  // The rest of the channel (the ring's area clipped to it) at h_far.
  const double ring = pi * ((r + t) * (r + t) - r * r);
  const double fluid = c.length * c.height - pi * r * r;
  const double rest = std::max(0.0, fluid - ring);
  // At most the whole channel at h_near: a transition far wider than the channel grew the ring's
  // count without bound (5e9 nodes "estimated" where Gmsh made 7,206; 1e9 overflowed the print).
  return std::min(near / per_node + rest / (per_node * c.h_far * c.h_far), fluid / (per_node * a * a));
}

void check_cylinder_channel(const CylinderChannel& c) {
  const std::string what = "cylinder channel";
  if (!(c.length > 0 && c.height > 0 && c.radius > 0 && c.h_near > 0 && c.h_far >= c.h_near && c.transition > 0))
    throw Error(cat(what, ": lengths and sizes must be positive with h_far >= h_near"));
  if (c.cx - c.radius <= 0 || c.cx + c.radius >= c.length || c.cy - c.radius <= 0 || c.cy + c.radius >= c.height)
    throw Error(cat(what, ": the cylinder (centre ", c.cx, ", ", c.cy, ", radius ", c.radius,
                    ") must lie strictly inside the channel"));
  const double gap =
      std::min({c.cx - c.radius, c.length - c.cx - c.radius, c.cy - c.radius, c.height - c.cy - c.radius});
  if (gap < c.h_near / 2)
    throw Error(cat(what, ": the cylinder (centre ", c.cx, ", ", c.cy, ", radius ", c.radius, ") is ", gap,
                    " from the channel's side, less than half an element (h_near / 2 = ", c.h_near / 2,
                    "): the gap would be meshed with slivers"),
                "mesh.cylinder.center");
  if (c.h_near > c.radius)
    throw Error(cat("h_near = ", c.h_near, " exceeds the cylinder radius ", c.radius,
                    ": fewer than 6 elements around the cylinder; make h_near at most the radius"),
                "mesh.cylinder.h_near");
  if (c.h_far > c.height / 2)
    throw Error(cat("h_far = ", c.h_far, " exceeds half the channel height (", c.height / 2,
                    "): the channel would be one or two elements tall"),
                "mesh.cylinder.h_far");
}

Mesh build_cylinder_channel(const CylinderChannel& c) {
  const std::string what = "cylinder channel";
  check_cylinder_channel(c);
  if (const double n = estimate_cylinder_nodes(c); n > double(c.max_nodes))
    throw Error(cat("these element sizes give about ", n < 1e15 ? cat(std::llround(n)) : cat(n),
                    " nodes (estimated), more than the limit of ", c.max_nodes,
                    " (mesh.max_nodes); raise h_near/h_far or the limit"),
                "mesh.cylinder.h_near");
  GmshSession s;
  Mesh m;
  s.guarded(what, [&] {
    namespace geo = gmsh::model::geo;
    gmsh::model::add("cylinder_channel");
    int p1 = geo::addPoint(0, 0, 0, c.h_far), p2 = geo::addPoint(c.length, 0, 0, c.h_far);
    int p3 = geo::addPoint(c.length, c.height, 0, c.h_far), p4 = geo::addPoint(0, c.height, 0, c.h_far);
    int bottom = geo::addLine(p1, p2), right = geo::addLine(p2, p3);
    int top = geo::addLine(p3, p4), left = geo::addLine(p4, p1);
    int pc = geo::addPoint(c.cx, c.cy, 0, c.h_near);
    int q[4] = {geo::addPoint(c.cx + c.radius, c.cy, 0, c.h_near), geo::addPoint(c.cx, c.cy + c.radius, 0, c.h_near),
                geo::addPoint(c.cx - c.radius, c.cy, 0, c.h_near), geo::addPoint(c.cx, c.cy - c.radius, 0, c.h_near)};
    std::vector<int> arcs;
    for (int i = 0; i < 4; ++i) arcs.push_back(geo::addCircleArc(q[i], pc, q[(i + 1) % 4]));
    int outer = geo::addCurveLoop({bottom, right, top, left});
    int hole = geo::addCurveLoop(arcs);
    int surf = geo::addPlaneSurface({outer, hole});
    geo::synchronize();
    gmsh::model::addPhysicalGroup(1, {left}, 1);
    gmsh::model::setPhysicalName(1, 1, "inflow");
    gmsh::model::addPhysicalGroup(1, {right}, 2);
    gmsh::model::setPhysicalName(1, 2, "outflow");
    gmsh::model::addPhysicalGroup(1, {bottom, top}, 3);
    gmsh::model::setPhysicalName(1, 3, "walls");
    gmsh::model::addPhysicalGroup(1, arcs, 4);
    gmsh::model::setPhysicalName(1, 4, "cylinder");
    gmsh::model::addPhysicalGroup(2, {surf}, 5);
    gmsh::model::setPhysicalName(2, 5, "fluid");
    // Size field: h_near at the cylinder, growing linearly to h_far over `transition`.
    namespace field = gmsh::model::mesh::field;
    int dist = field::add("Distance");
    field::setNumbers(dist, "CurvesList", std::vector<double>(arcs.begin(), arcs.end()));
    int thr = field::add("Threshold");
    field::setNumber(thr, "InField", dist);
    field::setNumber(thr, "SizeMin", c.h_near);
    field::setNumber(thr, "SizeMax", c.h_far);
    field::setNumber(thr, "DistMin", 0.0);
    field::setNumber(thr, "DistMax", c.transition);
    field::setAsBackgroundMesh(thr);
    gmsh::option::setNumber("Mesh.MeshSizeExtendFromBoundary", 0);
    gmsh::option::setNumber("Mesh.MeshSizeFromPoints", 0);
    gmsh::option::setNumber("Mesh.MeshSizeFromCurvature", 0);
    gmsh::option::setNumber("Mesh.Algorithm", 6);  // Frontal-Delaunay: well-shaped triangles
    gmsh::model::mesh::generate(2);
    m = extract_model(what, false);
  });
  return m;
}

Mesh mesh_from_geo(const std::string& path, int64_t max_nodes) {
  require_file(path);
  GmshSession s;
  Mesh m;
  s.guarded(path, [&] {
    gmsh::open(path);
    std::vector<int> types;
    gmsh::model::mesh::getElementTypes(types);
    if (types.empty()) {
      const int dim = gmsh::model::getDimension();
      // Gmsh has no node limit: a mistyped size would mesh for hours. The 1-D mesh is quick, and
      // bounds the 2-D one from below.
      if (dim == 2) {
        gmsh::model::mesh::generate(1);
        if (const double n = geo_node_lower_bound(); n > double(max_nodes))
          throw Error(cat(path, ": its mesh sizes give at least ", std::llround(n),
                          " nodes (estimated from its boundary mesh), more than the limit of ", max_nodes,
                          " (mesh.max_nodes); is a size in the .geo too small? (raise mesh.max_nodes if not)"),
                      "mesh.file");
      }
      gmsh::model::mesh::generate(dim);
    }
    m = extract_model(path, false);
  });
  return m;
}

Mesh read_msh(const std::string& path) {
  require_file(path);
  check_msh_text(path);
  // Gmsh 4.8 crashes inside the library on some damaged files (a double free, a SEGV in
  // FreeCurve: found by fuzz_msh, tests/data/bad/fuzz/msh/), so it reads in a child process and
  // such a crash is an Error here.
  const std::string bytes = core::run_in_child(
      [&] {
        GmshSession s;
        Mesh m;
        try {
          s.guarded(path, [&] {
            gmsh::open(path);
            m = extract_model(path, true);
          });
        } catch (const Error&) {
          if (std::string broken = unclosed_section(path); !broken.empty()) throw Error(cat(path, ": ", broken));
          throw;
        }
        return mesh_bytes(m);
      },
      cat(path, ": Gmsh"), " while reading this file: the file is damaged or not a Gmsh mesh");
  return mesh_from_bytes(bytes);
}

void write_msh(const Mesh& m, const std::string& path) {
  validate(m, "write_msh");
  const int cdim = cell_dim(m.cell_type);
  const int type = m.cell_type == CellType::Tetrahedron ? kTet : m.cell_type == CellType::Quad ? kQuad : kTriangle;
  const std::string tmp = path + ".tmp.msh";  // Gmsh picks the format from the extension
  core::TemporaryOutput temp(tmp);            // removed if anything below fails
  {
    GmshSession s;
    s.guarded(path, [&] {
      gmsh::model::add("tessera");
      gmsh::model::addDiscreteEntity(cdim, 1);
      std::vector<std::size_t> tags(m.num_nodes());
      std::vector<double> xyz(3 * m.num_nodes(), 0.0);
      for (int64_t i = 0; i < m.num_nodes(); ++i) {
        tags[i] = i + 1;
        for (int k = 0; k < m.dim; ++k) xyz[3 * i + k] = m.coords[i * m.dim + k];
      }
      gmsh::model::mesh::addNodes(cdim, 1, tags, xyz);
      auto shifted = [](const std::vector<int64_t>& v) {
        std::vector<std::size_t> out(v.size());
        for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] + 1;
        return out;
      };
      std::size_t next_elem = 1;
      auto elem_tags = [&](int64_t count) {
        std::vector<std::size_t> t(count);
        for (auto& x : t) x = next_elem++;
        return t;
      };
      gmsh::model::mesh::addElementsByType(1, type, elem_tags(m.num_cells()), shifted(m.cells));
      gmsh::model::addPhysicalGroup(cdim, {1}, 1);
      gmsh::model::setPhysicalName(cdim, 1, m.domain_name);
      int ent = 2;
      for (const auto& g : m.groups) {
        gmsh::model::addDiscreteEntity(g.dim, ent);
        const int ftype = g.dim == 0 ? kPoint : g.dim == 1 ? kLine : kTriangle;
        gmsh::model::mesh::addElementsByType(ent, ftype, elem_tags(g.num_facets()), shifted(g.facets));
        gmsh::model::addPhysicalGroup(g.dim, {ent}, ent);
        gmsh::model::setPhysicalName(g.dim, ent, g.name);
        ++ent;
      }
      gmsh::option::setNumber("Mesh.MshFileVersion", 4.1);
      gmsh::option::setNumber("Mesh.Binary", 0);
      gmsh::write(tmp);
    });
  }
  // Gmsh does not check its writes: on a full disk it left a truncated file, which was moved into
  // place as a finished one. The file must read back as the mesh written.
  Mesh back;
  try {
    back = read_msh(tmp);
  } catch (const Error& e) {
    throw Error(cat(path, ": Gmsh did not write the whole file (is the disk full?): ", e.what()));
  }
  if (back.num_nodes() != m.num_nodes() || back.num_cells() != m.num_cells() || back.groups.size() != m.groups.size())
    throw Error(cat(path, ": Gmsh did not write the whole file (is the disk full?): it reads back with ",
                    back.num_nodes(), " nodes, ", back.num_cells(), " cells and ", back.groups.size(), " groups, not ",
                    m.num_nodes(), ", ", m.num_cells(), " and ", m.groups.size()));
  core::commit_temp(tmp, path);
  temp.keep();
}

}  // namespace tessera::mesh
