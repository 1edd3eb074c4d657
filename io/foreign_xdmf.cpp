// XDMF3 time series (io/foreign.hpp): meshio's TimeSeriesWriter layout or tessera's own.
#include <vtkXMLDataElement.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "core/error.hpp"
#include "io/foreign.hpp"
#include "io/foreign_raw.hpp"
#include "io/h5.hpp"

namespace tessera::io {
namespace {

namespace fs = std::filesystem;
using namespace foreign_detail;

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
    const std::string dims_text = attr(item, "Dimensions");
    std::istringstream dims(dims_text);
    for (std::string d; dims >> d;) {
      const double x = parse_number(d, cat(xmf, ": ", what, ": DataItem Dimensions"));
      if (x < 1 || x != std::floor(x) || x > 1e15)
        throw Error(cat(xmf, ": ", what, ": DataItem Dimensions '", dims_text, "'; expected positive integers"));
      a.dims.push_back(hsize_t(x));
    }
    if (a.dims.empty()) throw Error(cat(xmf, ": ", what, ": DataItem has no Dimensions"));
    // The product is checked as it grows: dimensions such as 2^32 x 2^32 x 3 would wrap around to
    // a small count and pass the comparison with the values read below.
    hsize_t n = 1;
    for (auto d : a.dims) {
      if (d > hsize_t(1e15) / n)
        throw Error(cat(xmf, ": ", what, ": DataItem Dimensions '", dims_text, "' describe more than 1e15 values"));
      n *= d;
    }
    const std::string format = attr(item, "Format", "XML"),
                      text = trim(item->GetCharacterData() ? item->GetCharacterData() : "");
    if (!attr(item, "ItemType").empty() && attr(item, "ItemType") != "Uniform")
      throw Error(
          cat(xmf, ": ", what, ": DataItem ItemType ", attr(item, "ItemType"), " is not supported (Uniform only)"));
    if (format == "HDF") {
      // The last ":/": a folder name may hold a colon (a time stamp, "run-10:30/x.h5:/velocity").
      const auto colon = text.rfind(":/") != std::string::npos ? text.rfind(":/") : text.find(':');
      if (colon == std::string::npos)
        throw Error(cat(xmf, ": ", what, ": HDF DataItem '", text, "' is not <file>.h5:/<dataset>"));
      const std::string file = (fs::path(dir) / text.substr(0, colon)).string(), dset = text.substr(colon + 1);
      auto it = files.find(file);
      // Named with what refers to it: meshio's TimeSeriesWriter writes its .h5 into the working
      // directory, not beside the .xdmf, and "flow.h5: file not found" alone did not say where
      // the name came from.
      if (it == files.end()) {
        if (!fs::exists(file))
          throw Error(
              cat(file, ": file not found (", xmf, ": ", what, " names '", text,
                  "', relative to the .xdmf's folder; meshio's TimeSeriesWriter writes it into the folder it ran "
                  "in: move it beside the .xdmf)"));
        it = files.emplace(file, H5File::open_read(file)).first;
      }
      std::vector<hsize_t> stored;
      a.v = it->second.read<double>(dset, &stored);
      a.what = cat(file, ": ", dset);
      // The same values in another shape (a field stored transposed, [2, N] for "N 2") would be
      // read in the wrong order: the shapes must agree, but for dimensions of size 1.
      auto squeezed = [](std::vector<hsize_t> d) {
        d.erase(std::remove(d.begin(), d.end(), hsize_t(1)), d.end());
        return d;
      };
      if (squeezed(stored) != squeezed(a.dims))
        throw Error(cat(a.what, ": stored as ", shape_text(stored), ", but the DataItem's Dimensions say ",
                        shape_text(a.dims), " (", xmf, ": ", what, ")"));
    } else if (format == "XML") {
      a.what = cat(xmf, ": ", what);
      std::istringstream in(text);
      for (std::string x; in >> x;) a.v.push_back(parse_number(x, cat(a.what, ": inline value ", a.v.size())));
    } else {
      throw Error(cat(xmf, ": ", what, ": DataItem Format ", format, " is not supported (HDF or XML)"));
    }
    if (a.v.size() != n)
      throw Error(cat(a.what, ": holds ", a.v.size(), " values, but the DataItem's Dimensions ", shape_text(a.dims),
                      " need ", n));
    return a;
  }
};

// The grid an xpointer names, as in meshio's xpointer(//Grid[@Name="mesh"]/*[self::Topology or
// self::Geometry]): the text between the quotes after the first @Name= that has them. Searched by
// hand: std::regex recurses once per character and overflows the stack on a long attribute.
std::optional<std::string> xpointer_grid_name(const std::string& ptr) {
  const std::string key = "@Name=";
  for (size_t at = ptr.find(key); at != std::string::npos; at = ptr.find(key, at + 1)) {
    const size_t open = at + key.size();
    if (open >= ptr.size() || (ptr[open] != '"' && ptr[open] != '\'')) continue;
    const size_t close = ptr.find_first_of("\"'", open + 1);
    if (close != std::string::npos) return ptr.substr(open + 1, close - open - 1);
  }
  return std::nullopt;
}

// All Grid elements below `root`, in document order.
std::vector<vtkXMLDataElement*> grids(vtkXMLDataElement* root) {
  std::vector<vtkXMLDataElement*> out;
  for (vtkXMLDataElement* e : in_document_order(root))
    if (e != root && std::string(e->GetName()) == "Grid") out.push_back(e);
  return out;
}

// "grid 'g0'", or "an unnamed grid" (Name is optional in XDMF), for messages.
std::string grid_text(vtkXMLDataElement* grid) {
  const std::string name = attr(grid, "Name");
  return name.empty() ? std::string("an unnamed grid") : cat("grid '", name, "'");
}

// Topology or Geometry of a temporal grid: its own, or through xi:include from a named grid
// (meshio; `all` holds the domain's grids), or else from the domain's only uniform grid outside
// the collection.
vtkXMLDataElement* mesh_part(vtkXMLDataElement* grid, const std::string& part, vtkXMLDataElement* domain,
                             const std::vector<vtkXMLDataElement*>& all, vtkXMLDataElement* collection,
                             const std::string& xmf) {
  if (auto* e = child(grid, part)) return e;
  for (int k = 0; k < grid->GetNumberOfNestedElements(); ++k) {
    vtkXMLDataElement* inc = grid->GetNestedElement(k);
    const std::string name = inc->GetName();
    if (name.size() < 7 || name.substr(name.size() - 7) != "include") continue;
    // An include of another file would be skipped, and the mesh taken from elsewhere in this one.
    if (const std::string href = attr(inc, "href"); !href.empty())
      throw Error(cat(xmf, ": ", grid_text(grid), " includes its ", part, " from another file ('", href,
                      "'); only includes within the file are read"));
    const std::optional<std::string> target = xpointer_grid_name(attr(inc, "xpointer"));
    if (!target) continue;
    for (auto* g : all)
      if (attr(g, "Name") == *target)
        if (auto* e = child(g, part)) return e;
  }
  for (int k = 0; k < domain->GetNumberOfNestedElements(); ++k) {
    vtkXMLDataElement* g = domain->GetNestedElement(k);
    if (g != collection && std::string(g->GetName()) == "Grid")
      if (auto* e = child(g, part)) return e;
  }
  throw Error(cat(xmf, ": ", grid_text(grid), " has no ", part, " (neither its own nor through xi:include)"));
}

// A grid's mesh: 2D points and triangles.
struct GridMesh {
  int64_t nodes = 0, cells = 0;
  std::vector<float> pos;
  std::vector<int32_t> idx;
  std::string cells_what;  // the Topology's DataItem, for errors
};

// The positive integer an attribute such as NumberOfElements holds, or -1 when it is absent.
int64_t count_attr(vtkXMLDataElement* e, const char* name, const std::string& what) {
  if (!e->GetAttribute(name)) return -1;
  const std::string text = attr(e, name);
  const double x = parse_number(text, cat(what, " ", name));
  if (x < 1 || x != std::floor(x) || x > 1e15)
    throw Error(cat(what, " says ", name, "=\"", text, "\"; expected a positive integer"));
  return int64_t(x);
}

// "Topology", or "Topology of grid 'mesh'" when `part` is taken from a grid other than `grid`
// (meshio's xi:include), for messages.
std::string part_name(vtkXMLDataElement* part, vtkXMLDataElement* grid) {
  vtkXMLDataElement* owner = part->GetParent();
  if (!owner || owner == grid) return part->GetName();
  return cat(part->GetName(), " of ", grid_text(owner));
}

// The mesh of temporal grid `grid` (`where` in messages); `step0_nodes` > 0: the node count it must
// have. What the Topology and Geometry say of themselves must hold for their DataItems (a
// GeometryType that is given is its column count; NumberOfElements and NodesPerElement, where
// given, the Topology's rows and columns): a file that contradicts itself is refused rather than
// read one way or the other.
GridMesh read_grid_mesh(XdmfData& data, vtkXMLDataElement* grid, vtkXMLDataElement* topo, vtkXMLDataElement* geo,
                        const std::string& where, int64_t step0_nodes) {
  const std::string& xmf = data.xmf;
  const std::string topo_at = cat(xmf, ": ", where, ": ", part_name(topo, grid)),
                    geo_at = cat(xmf, ": ", where, ": ", part_name(geo, grid));
  const std::string type = attr(topo, "TopologyType", attr(topo, "Type"));
  if (lower(type) != "triangle")
    throw Error(cat(xmf, ": ", where, ": Topology type '", type, "'; only Triangle is supported"));
  // Without a GeometryType (XDMF's default is XYZ) 2 or 3 columns are read.
  const std::string gtype = attr(geo, "GeometryType", attr(geo, "Type"));
  if (!gtype.empty() && gtype != "XY" && gtype != "XYZ")
    throw Error(cat(xmf, ": ", where, ": GeometryType ", gtype, "; expected XY or XYZ"));
  GridMesh m;
  Array pts = data.read(child(geo, "DataItem"), where + " Geometry");
  int ch = 0;
  auto p = static_rows(pts, {2, 3}, m.nodes, ch,
                       gtype.empty()   ? "[N, 2] or [N, 3]"
                       : gtype == "XY" ? "[N, 2]"
                                       : "[N, 3]");
  if (const int stated = gtype == "XY" ? 2 : 3; !gtype.empty() && ch != stated)
    throw Error(cat(geo_at, " says ", gtype, " (", stated, " columns), but its DataItem has ", ch, " columns (shape ",
                    shape_text(pts.dims), ")"));
  if (step0_nodes > 0 && m.nodes != step0_nodes)
    throw Error(cat(pts.what, ": ", m.nodes, " nodes at ", where, ", but step 0 has ", step0_nodes,
                    " (inconsistent node counts across steps)"));
  m.pos = to_2d(p, ch, false, pts.what);
  if (const int64_t k = count_attr(topo, "NodesPerElement", topo_at); k >= 0 && k != 3)
    throw Error(cat(topo_at, " says NodesPerElement=\"", k, "\", but a Triangle has 3 nodes"));
  Array cells = data.read(child(topo, "DataItem"), where + " Topology");
  const auto c = static_rows(cells, {3}, m.cells, ch, "[C, 3]");
  if (const int64_t k = count_attr(topo, "NumberOfElements", topo_at); k >= 0 && k != m.cells)
    throw Error(cat(topo_at, " says NumberOfElements=\"", k, "\", but its DataItem has ", m.cells, " rows (shape ",
                    shape_text(cells.dims), ")"));
  m.idx = to_cells(c, m.nodes, cells.what);
  m.cells_what = cells.what;
  return m;
}

Raw read_xdmf_trajectory(const std::string& xmf, const ImportOptions& o) {
  auto root = read_xml(xmf);
  vtkXMLDataElement* domain = child(root, "Domain");
  if (std::string(root->GetName()) != "Xdmf" || !domain)
    throw Error(cat(xmf, ": not an XDMF file (expected <Xdmf><Domain>)"));
  vtkXMLDataElement* coll = nullptr;
  const std::vector<vtkXMLDataElement*> all = grids(domain);
  for (auto* g : all)
    if (attr(g, "GridType") == "Collection") {
      coll = g;
      break;
    }
  if (!coll) throw Error(cat(xmf, ": no temporal collection (<Grid GridType=\"Collection\">); expected a time series"));
  // One file is one trajectory: a second series would be dropped unread.
  const auto temporal = std::count_if(all.begin(), all.end(), [](vtkXMLDataElement* g) {
    return attr(g, "GridType") == "Collection" && attr(g, "CollectionType") == "Temporal";
  });
  if (temporal > 1)
    throw Error(cat(xmf, ": ", temporal, " temporal collections; tessera reads one trajectory per XDMF file"));
  std::vector<vtkXMLDataElement*> steps;
  for (int k = 0; k < coll->GetNumberOfNestedElements(); ++k)
    if (std::string(coll->GetNestedElement(k)->GetName()) == "Grid") steps.push_back(coll->GetNestedElement(k));
  if (steps.empty()) throw Error(cat(xmf, ": empty series (the collection has no grids)"));
  Raw r;
  r.series_steps = int64_t(steps.size());
  if (o.one_step) {              // that grid alone (its mesh from the grid it refers to, as for any step)
    std::vector<double> stamps;  // every grid's time, where each has one: the series' spacing
    for (vtkXMLDataElement* g : steps)
      if (auto* t = child(g, "Time"); t && t->GetAttribute("Value"))
        stamps.push_back(std::strtod(t->GetAttribute("Value"), nullptr));
    if (stamps.size() == steps.size()) r.series_spacing = first_spacing(stamps);
    r.first_step = int64_t(chosen_step(o, steps.size(), xmf));
    steps = {steps[size_t(r.first_step)]};
  }
  XdmfData data{xmf, fs::path(xmf).parent_path().string(), {}};
  r.source = xmf;
  r.steps = int64_t(steps.size());
  vtkXMLDataElement *topo0 = nullptr, *geo0 = nullptr;
  std::string unstamped;  // the first grid without a <Time>
  for (size_t s = 0; s < steps.size(); ++s) {
    vtkXMLDataElement* g = steps[s];
    const int64_t step = r.first_step + int64_t(s);
    const std::string where =
        attr(g, "Name").empty() ? cat("step ", step) : cat("step ", step, " (grid '", attr(g, "Name"), "')");
    vtkXMLDataElement* topo = mesh_part(g, "Topology", domain, all, coll, xmf);
    vtkXMLDataElement* geo = mesh_part(g, "Geometry", domain, all, coll, xmf);
    if (s == 0) {
      GridMesh m = read_grid_mesh(data, g, topo, geo, where, 0);
      r.nodes = m.nodes;
      r.pos = std::move(m.pos);
      r.cells = std::move(m.idx);
      topo0 = topo;
      geo0 = geo;
    } else if (topo != topo0 || geo != geo0) {
      // A grid with its own mesh (tessera's layout): it must be the same mesh.
      const GridMesh m = read_grid_mesh(data, g, topo, geo, where, r.nodes);
      if (m.idx.size() != r.cells.size())
        throw Error(cat(m.cells_what, ": ", m.cells, " cells at ", where, ", but step 0 has ", r.cells.size() / 3,
                        "; the cells must not change over time"));
      check_same_mesh(r, m.pos, m.idx, cat(xmf, ": ", where), "");
    }
    if (auto* t = child(g, "Time")) {
      if (!t->GetAttribute("Value")) throw Error(cat(xmf, ": ", where, ": <Time> has no Value"));
      r.times.push_back(parse_number(attr(t, "Value"), cat(xmf, ": ", where, ": <Time Value>")));
    } else if (unstamped.empty()) {
      unstamped = where;
    }
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
      // Which of two is meant cannot be known (the last one was read).
      if (*slot) throw Error(cat(xmf, ": ", where, ": two attributes named '", name, "'; keep one"));
      *slot = a;
    }
    if (!vel) {
      std::string names;  // the attributes there are (a field named Velocity, not velocity)
      for (int k = 0; k < g->GetNumberOfNestedElements(); ++k)
        if (vtkXMLDataElement* a = g->GetNestedElement(k); std::string(a->GetName()) == "Attribute")
          names += cat(names.empty() ? "" : ", ", attr(a, "Name"));
      throw Error(cat(xmf, ": ", where, ": no attribute '", o.velocity,
                      "'; velocity is required (attributes: ", names.empty() ? "none" : names, ")"),
                  "fields.velocity");
    }
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
    // A scalar per node: [N] or [N, 1]. Another shape of N values ([3, 3] for 9 nodes) was read as
    // if it were one.
    auto per_node = [&](const Array& a) {
      if (a.v.size() != size_t(r.nodes))
        throw Error(cat(a.what, ": ", a.v.size(), " values at ", where, "; expected one per node (", r.nodes, ")"));
      if (a.dims[0] != hsize_t(r.nodes) || (a.dims.size() > 1 && (a.dims.size() > 2 || a.dims[1] != 1)))
        throw Error(cat(a.what, ": shape ", shape_text(a.dims), " at ", where, "; expected one value per node, [",
                        r.nodes, "] or [", r.nodes, ", 1]"));
    };
    if (pr) {
      Array p = data.read(child(pr, "DataItem"), where + " " + o.pressure);
      per_node(p);
      for (double x : p.v) r.pressure.push_back(float(x));
    }
    if (nt) {
      Array a = data.read(child(nt, "DataItem"), where + " " + o.node_type);
      per_node(a);
      if (s == 0) r.node_type = a.v;
      // Read at every step, as graph-physics files are: a type that changes would be taken from
      // step 0 without a word.
      else if (const auto at = first_difference(a.v, r.node_type); at >= 0)
        throw Error(cat(a.what, ": node ", at, " is ", a.v[at], ", but ", r.node_type[at],
                        " at step 0; node types must not change over time (one type per node)"));
    }
  }
  // Some grids stamped and others not: which step is which time cannot be known (import.dt does
  // not settle it: the stamps that are there may not be uniform).
  if (!r.times.empty() && r.times.size() != steps.size())
    throw Error(cat(xmf, ": ", unstamped, " has no <Time>, while ", r.times.size(), " of the ", steps.size(),
                    " grids have one; give every grid a <Time Value> or none"));
  return r;
}

}  // namespace

ImportedDataset read_xdmf_series(const std::string& path, const ImportOptions& o) {
  ImportedDataset d;
  d.source = path;
  d.format = ForeignFormat::Xdmf;
  Raw r = read_xdmf_trajectory(path, o);
  drop_short_last_step(r, path);
  const double stamped_dt = dt_from_times(r.times, path);  // checked even when import.dt is set
  d.warnings.insert(d.warnings.end(), r.warnings.begin(), r.warnings.end());
  d.trajectories.push_back(finish(std::move(r), o));
  settle_dt(
      d, o, [&] { return stamped_dt; }, "the XDMF <Time> values", "the grids have no <Time> values");
  return d;
}

}  // namespace tessera::io
