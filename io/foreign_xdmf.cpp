// XDMF3 time series (io/foreign.hpp): meshio's TimeSeriesWriter layout or tessera's own.
#include <vtkXMLDataElement.h>

#include <algorithm>
#include <cmath>
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
      throw Error(cat(xmf, ": grid '", attr(grid, "Name", "?"), "' includes its ", part, " from another file ('", href,
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
  throw Error(
      cat(xmf, ": grid '", attr(grid, "Name", "?"), "' has no ", part, " (neither its own nor through xi:include)"));
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
  XdmfData data{xmf, fs::path(xmf).parent_path().string(), {}};
  Raw r;
  r.source = xmf;
  r.steps = int64_t(steps.size());
  vtkXMLDataElement *topo0 = nullptr, *geo0 = nullptr;
  std::string unstamped;  // the first grid without a <Time>
  for (size_t s = 0; s < steps.size(); ++s) {
    vtkXMLDataElement* g = steps[s];
    const std::string where = cat("step ", s, " (grid '", attr(g, "Name", "?"), "')");
    vtkXMLDataElement* topo = mesh_part(g, "Topology", domain, all, coll, xmf);
    vtkXMLDataElement* geo = mesh_part(g, "Geometry", domain, all, coll, xmf);
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
      int64_t n = 0, nc = 0;
      int pch = 0, ch = 0;
      auto p = static_rows(pts, {2, 3}, n, pch, "[N, 2] or [N, 3]");
      Array cells = data.read(child(topo, "DataItem"), where + " Topology");
      const auto c = to_cells(static_rows(cells, {3}, nc, ch, "[C, 3]"), n, cells.what);
      if (c.size() != r.cells.size())
        throw Error(cat(cells.what, ": ", nc, " cells at ", where, ", but step 0 has ", r.cells.size() / 3,
                        "; the cells must not change over time"));
      check_same_mesh(r, to_2d(p, pch, false, pts.what), c, cat(xmf, ": ", where), "");
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
    if (nt) {
      Array a = data.read(child(nt, "DataItem"), where + " " + o.node_type);
      if (a.v.size() != size_t(r.nodes))
        throw Error(cat(a.what, ": ", a.v.size(), " values; expected one per node (", r.nodes, ")"));
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
  const double stamped_dt = dt_from_times(r.times, path);  // checked even when import.dt is set
  d.trajectories.push_back(finish(std::move(r), o));
  settle_dt(
      d, o, [&] { return stamped_dt; }, "the XDMF <Time> values", "the grids have no <Time> values");
  return d;
}

}  // namespace tessera::io
