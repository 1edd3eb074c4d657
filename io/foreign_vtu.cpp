// VTU series (io/foreign.hpp): one .vtu per step, from a .pvd or a directory (or directories).
#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkIdList.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLUnstructuredGridReader.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/bytes.hpp"
#include "core/child_process.hpp"
#include "core/counted.hpp"
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
  std::map<std::string, int> listed;  // file (normalised) -> the DataSet that names it
  int stamped = 0, unstamped = -1;
  for (int k = 0; k < coll->GetNumberOfNestedElements(); ++k) {
    vtkXMLDataElement* ds = coll->GetNestedElement(k);
    if (std::string(ds->GetName()) != "DataSet") continue;
    // A step in several pieces (a parallel solver's output, one file per rank): reading piece 0
    // alone took part of the domain, its cut labelled as a boundary, without a word.
    if (const std::string part = attr(ds, "part", "0"); part != "0")
      throw Error(cat(pvd, ": DataSet ", k, " is part ", part, " of its time step (file ", attr(ds, "file"),
                      "); tessera-import reads one piece per step, the whole mesh: merge the pieces first (e.g. "
                      "ParaView's Merge Blocks, then save as .vtu)"));
    const std::string file = attr(ds, "file");
    if (file.empty()) throw Error(cat(pvd, ": DataSet ", k, " has no file attribute"));
    VtuStep s{(fs::path(pvd).parent_path() / file).string()};
    // One file as two steps would repeat a state and drop another without a word.
    const auto [it, first] = listed.emplace(fs::path(s.file).lexically_normal().string(), k);
    if (!first)
      throw Error(cat(pvd, ": DataSet ", k, " names ", file, " again (DataSet ", it->second,
                      " does too); each step is a file of its own"));
    const std::string t = attr(ds, "timestep");
    if (!t.empty()) s.time = parse_number(t, cat(pvd, ": DataSet ", k, " timestep")), ++stamped;
    if (t.empty() && unstamped < 0) unstamped = k;
    steps.push_back(s);
  }
  if (steps.empty()) throw Error(cat(pvd, ": empty series (no DataSet entries)"));
  // Some steps stamped and others not: which step is which time cannot be known (import.dt does
  // not settle it: the stamps that are there may not be uniform).
  if (stamped > 0 && unstamped >= 0)
    throw Error(cat(pvd, ": DataSet ", unstamped, " has no timestep, while ", stamped, " of the ", steps.size(),
                    " have one; give every DataSet a timestep or none"));
  return steps;
}

// A parallel solver's step in pieces (.pvtu and one .vtu per rank) is not one mesh: reading the
// pieces as steps, or one piece, took part of the domain with its cut labelled as a boundary.
constexpr const char* kMergePieces =
    "tessera-import reads one .vtu per step holding the whole mesh: merge each step's pieces first (ParaView: open "
    "the .pvtu, apply Merge Blocks or Clean to Grid, then Save Data as .vtu)";

// `note`, when given, receives a warning for step numbers that are not evenly spaced.
std::vector<VtuStep> vtu_files(const std::string& dir, std::string* note = nullptr) {
  std::vector<std::string> names, pvtus;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".pvtu") pvtus.push_back(e.path().filename().string());
    if (e.path().extension() == ".vtu") {
      // A step that cannot be read is an error, not a shorter series.
      if (!e.is_regular_file())
        throw Error(cat(e.path().string(), ": not a file (",
                        e.is_directory() ? "a directory" : "a broken link or special file",
                        "), in a series of .vtu steps"));
      names.push_back(e.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end(), natural_less);
  if (!pvtus.empty()) {
    std::sort(pvtus.begin(), pvtus.end(), natural_less);
    throw Error(cat(dir, ": holds ", pvtus.size(), " .pvtu files (", pvtus[0], pvtus.size() > 1 ? ", ..." : "",
                    "): a parallel solver's steps, each in pieces (the .vtu files beside them); ", kMergePieces));
  }
  // Loose steps are one series <prefix><number>.vtu: files of two prefixes (two series, or a mesh
  // file beside the steps) or two files of one number would interleave into a wrong trajectory.
  const auto split = [](const std::string& name) {  // "flow_012.vtu" -> {"flow_", "012"}
    const std::string stem = name.substr(0, name.size() - 4);
    size_t d = stem.size();
    while (d > 0 && std::isdigit(static_cast<unsigned char>(stem[d - 1]))) --d;
    return std::pair{stem.substr(0, d), stem.substr(d)};
  };
  std::map<std::string, std::string> by_number;  // step number without leading zeros -> file
  const std::string first = names.empty() ? "" : split(names[0]).first;
  for (const auto& n : names) {
    if (names.size() == 1) break;  // one file: a series of one step, whatever its name
    const auto [prefix, number] = split(n);
    if (number.empty())
      throw Error(cat(dir, ": ", n, " has no step number, beside ", names.size() - 1,
                      " other .vtu files; a folder of loose steps holds one series <name><number>.vtu (or give a "
                      ".pvd that names its steps)"));
    // A time in the name ("U_t0.5.vtu") splits into "U_t0." and "5": one series read as several.
    const bool decimal = prefix.size() >= 2 && prefix.back() == '.' &&
                         std::isdigit(static_cast<unsigned char>(prefix[prefix.size() - 2]));
    if (prefix != first)
      throw Error(cat(dir, ": .vtu files of two series (", names[0], ", ", n, "); a folder of loose steps holds one ",
                      "series <name><number>.vtu",
                      decimal ? ", and a time with a decimal point is not a step number" : "",
                      " (or give a .pvd that names its steps", decimal ? " and their times" : "", ")"));
    const size_t nz = number.find_first_not_of('0');
    auto [it, fresh] = by_number.emplace(nz == std::string::npos ? "0" : number.substr(nz), n);
    if (!fresh) throw Error(cat(dir, ": ", it->second, " and ", n, " are both step ", it->first, " of the series"));
  }
  // Step numbers not evenly spaced (0, 10, 20, 40): most likely a file missing, which shifts every
  // later step by one dt. Said, not refused: a series may be numbered by the solver's own steps.
  // (Numbers of 19 digits and more, beyond the integers compared here, are not checked.)
  const bool comparable =
      std::all_of(by_number.begin(), by_number.end(), [](const auto& kv) { return kv.first.size() < 19; });
  if (note && comparable && by_number.size() >= 3) {
    std::vector<std::pair<unsigned long long, std::string>> numbered;
    for (const auto& [number, file] : by_number) numbered.emplace_back(std::stoull(number), file);
    std::sort(numbered.begin(), numbered.end());
    const unsigned long long spacing = numbered[1].first - numbered[0].first;
    for (size_t k = 2; k < numbered.size(); ++k)
      if (numbered[k].first - numbered[k - 1].first != spacing) {
        *note = cat(dir, ": the step numbers are not evenly spaced (", numbered[k - 2].second, ", ",
                    numbered[k - 1].second, ", ", numbered[k].second,
                    "): the files are taken as equally spaced steps, so a missing one shifts every later step (give a "
                    ".pvd with time stamps, which are checked)");
        break;
      }
  }
  std::vector<VtuStep> steps;
  for (const auto& n : names) steps.push_back({(fs::path(dir) / n).string()});
  return steps;
}

// The steps of one trajectory in `path`: a .pvd, or a directory holding one .pvd (its order and
// time stamps win over the file names) or else .vtu files.
std::vector<VtuStep> series_steps(const std::string& path, std::string* note) {
  if (fs::is_directory(path)) {
    std::vector<std::string> pvds;
    for (const auto& e : fs::directory_iterator(path))
      if (e.path().extension() == ".pvd") pvds.push_back(e.path().string());
    if (pvds.size() == 1) return pvd_steps(pvds[0]);
    if (pvds.size() > 1) {
      std::sort(pvds.begin(), pvds.end());
      throw Error(cat(path, ": ", pvds.size(), " .pvd files (", fs::path(pvds[0]).filename().string(), ", ",
                      fs::path(pvds[1]).filename().string(), pvds.size() > 2 ? ", ..." : "",
                      "); a trajectory's folder holds one, or none"));
    }
    auto steps = vtu_files(path, note);
    if (!steps.empty()) return steps;
    // Files of other VTK formats are named: "no .vtu files" beside 20 legacy .vtk files puzzled.
    int64_t legacy = 0;
    for (const auto& e : fs::directory_iterator(path)) legacy += e.path().extension() == ".vtk";
    throw Error(cat(path, ": empty series (no .vtu files",
                    legacy > 0 ? cat("; ", legacy,
                                     " legacy .vtk files, which tessera-import does not read: convert them to .vtu, "
                                     "e.g. with meshio convert or ParaView's Save Data")
                               : std::string(),
                    ")"));
  }
  // One .vtu is one state, which is what a rollout's initial state needs (ImportOptions::one_step:
  // read_foreign sends it here; an import refuses it, detect_foreign_format).
  if (fs::path(path).extension() == ".vtu") return {VtuStep{path}};
  return pvd_steps(path);
}

// What tessera takes from one .vtu: its points, its cells and the point arrays asked for.
struct VtuField {
  bool present = false;
  bool on_cells = false;  // absent from the point data, but a cell array of that name exists
  int64_t components = 0;
  std::vector<double> values;  // [points, components]
};
struct VtuContent {
  std::vector<double> xyz;                   // [points, 3]
  std::vector<int64_t> types, offsets, ids;  // cell c: VTK type types[c], ids[offsets[c], offsets[c + 1])
  std::string array_names;                   // every point array, for messages
  VtuField velocity, pressure, node_type;
};

// VtuContent as bytes, from the child process that read the file to the caller.
std::string to_bytes(const VtuContent& c) {
  core::ByteWriter w;
  w.vec(c.xyz), w.vec(c.types), w.vec(c.offsets), w.vec(c.ids);
  w.str(c.array_names);
  for (const VtuField* f : {&c.velocity, &c.pressure, &c.node_type}) {
    w.u64(f->present), w.u64(f->on_cells), w.u64(static_cast<uint64_t>(f->components));
    w.vec(f->values);
  }
  return w.take();
}

VtuContent from_bytes(const std::string& b) {
  core::ByteReader r(b);
  VtuContent c;
  c.xyz = r.vec<double>(), c.types = r.vec<int64_t>(), c.offsets = r.vec<int64_t>(), c.ids = r.vec<int64_t>();
  c.array_names = r.str();
  for (VtuField* f : {&c.velocity, &c.pressure, &c.node_type}) {
    f->present = r.u64() != 0, f->on_cells = r.u64() != 0, f->components = static_cast<int64_t>(r.u64());
    f->values = r.vec<double>();
  }
  return c;
}

// The value of attribute `name` in the XML tag text `tag` (empty when absent).
std::string tag_attribute(const std::string& tag, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const size_t k = tag.find(key);
  if (k == std::string::npos) return {};
  const size_t from = k + key.size(), to = tag.find('"', from);
  return to == std::string::npos ? std::string() : tag.substr(from, to - from);
}

// The counts VTK's reader allocates by, checked before it reads: VTK crashes (negative counts,
// text arrays where numbers belong) or allocates without bound (a component count of two billion
// took 15 GB) on a damaged header. The header is the XML before any appended data, which is all
// that is read here (the appended data, most of a VTK-written file, is VTK's to read).
void check_vtu_header(const std::string& file) {
  const std::string marker = "<AppendedData";
  std::ifstream in(file, std::ios::binary);
  std::string text;
  std::vector<char> chunk(size_t(1) << 20);
  size_t end = std::string::npos;
  while (end == std::string::npos && in) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    const size_t from = text.size() < marker.size() ? 0 : text.size() - marker.size();
    text.append(chunk.data(), size_t(in.gcount()));
    end = text.find(marker, from);
  }
  end = std::min(end, text.size());
  // Counts a file of this size can hold: generous for compressed data, far below what a damaged
  // number asks for.
  const double capacity = 1000.0 * double(fs::file_size(file)) + 1e6;
  const auto count = [&](const std::string& tag, const std::string& name, int64_t lo, double hi) {
    const std::string v = tag_attribute(tag, name);
    if (v.empty()) return;
    char* stop = nullptr;
    const long long x = std::strtoll(v.c_str(), &stop, 10);
    if (*stop != '\0' || x < lo || double(x) > hi)
      throw Error(cat(file, ": ", name, "=\"", v, "\" is not a count this file can hold (expected ", lo, " to ",
                      int64_t(hi), "): the file is damaged"));
  };
  bool point_data = false;
  for (size_t at = text.find('<'); at < end; at = text.find('<', at + 1)) {
    const size_t close = text.find('>', at);
    if (close == std::string::npos) break;
    const std::string tag = text.substr(at, close - at);
    if (tag.rfind("<PointData", 0) == 0) point_data = true;
    if (tag.rfind("</PointData", 0) == 0) point_data = false;
    if (tag.rfind("<Piece", 0) == 0) {
      count(tag, "NumberOfPoints", 0, capacity / 3);
      count(tag, "NumberOfCells", 0, capacity / 3);
    } else if (tag.rfind("<DataArray", 0) == 0) {
      count(tag, "NumberOfComponents", 1, 9);
      static const char* numeric[] = {"Int8",   "UInt8", "Int16",  "UInt16",  "Int32",
                                      "UInt32", "Int64", "UInt64", "Float32", "Float64"};
      const std::string type = tag_attribute(tag, "type");
      if (point_data && std::none_of(std::begin(numeric), std::end(numeric), [&](const char* t) { return type == t; }))
        throw Error(cat(file, ": point data '", tag_attribute(tag, "Name"), "' has type '", type,
                        "'; expected a numeric type (Int8 ... Float64)"));
    }
  }
}

// Reads one .vtu with VTK, in a child process (core::run_in_child): VTK's reader crashes on some
// damaged files (a compressed array of zero blocks), which becomes an Error here.
VtuContent read_vtu_file(const std::string& file, const ImportOptions& o) {
  if (fs::path(file).extension() == ".pvtu")
    throw Error(cat(file, ": a parallel VTU (one step in pieces, a .vtu per rank); ", kMergePieces));
  check_vtu_header(file);
  return from_bytes(core::run_in_child(
      [&] {
        vtkNew<vtkXMLUnstructuredGridReader> reader;
        VtkMessages messages;  // VTK reports a broken file in several lines; we report it in one
        if (!reader->CanReadFile(file.c_str())) throw Error(cat(file, ": not a VTK XML unstructured grid (.vtu)"));
        reader->SetFileName(file.c_str());
        reader->Update();
        const std::string why = messages.first_error();
        if (!why.empty()) throw Error(cat(file, ": not a readable .vtu file (VTK: ", why, ")"));
        vtkUnstructuredGrid* g = reader->GetOutput();
        VtuContent c;
        if (!g) return to_bytes(c);
        const int64_t n = g->GetNumberOfPoints();
        c.xyz.resize(size_t(n) * 3);
        for (int64_t i = 0; i < n; ++i) g->GetPoint(i, &c.xyz[i * 3]);
        vtkNew<vtkIdList> ids;
        c.offsets.push_back(0);
        for (vtkIdType k = 0; k < g->GetNumberOfCells(); ++k) {
          c.types.push_back(g->GetCellType(k));
          g->GetCellPoints(k, ids);
          for (vtkIdType j = 0; j < ids->GetNumberOfIds(); ++j) c.ids.push_back(ids->GetId(j));
          c.offsets.push_back(int64_t(c.ids.size()));
        }
        vtkPointData* pd = g->GetPointData();
        for (int k = 0; k < pd->GetNumberOfArrays(); ++k)
          c.array_names += cat(k ? ", " : "", pd->GetArrayName(k) ? pd->GetArrayName(k) : "?");
        if (c.array_names.empty()) c.array_names = "none";
        const auto field = [&](const std::string& name, VtuField& f) {
          vtkDataArray* a = pd->GetArray(name.c_str());
          f.on_cells = !a && g->GetCellData()->GetArray(name.c_str());
          if (!a) return;
          f.present = true, f.components = a->GetNumberOfComponents();
          f.values.resize(size_t(a->GetNumberOfTuples()) * size_t(f.components));
          for (vtkIdType i = 0; i < a->GetNumberOfTuples(); ++i)
            for (int k = 0; k < f.components; ++k) f.values[i * f.components + k] = a->GetComponent(i, k);
        };
        field(o.velocity, c.velocity), field(o.pressure, c.pressure), field(o.node_type, c.node_type);
        return to_bytes(c);
      },
      cat(file, ": VTK"), " while reading this file: the file is damaged or not a .vtu file"));
}

Raw read_vtu_trajectory(const std::string& path, const ImportOptions& o) {
  std::string note;
  std::vector<VtuStep> steps = series_steps(path, &note);
  Raw r;
  r.series_steps = int64_t(steps.size());
  if (o.one_step) {              // that step's file alone
    std::vector<double> stamps;  // the .pvd's times (NaN for loose .vtu files): the series' spacing
    for (const VtuStep& s : steps) stamps.push_back(s.time);
    r.series_spacing = first_spacing(stamps);
    r.first_step = int64_t(chosen_step(o, steps.size(), path));
    steps = {steps[size_t(r.first_step)]};
  }
  r.source = path;
  if (!note.empty()) r.warnings.push_back(note);
  r.steps = int64_t(steps.size());
  for (size_t s = 0; s < steps.size(); ++s) {
    const std::string& file = steps[s].file;
    if (!fs::is_regular_file(file))
      throw Error(cat(file, ": file not found (step ", r.first_step + int64_t(s), " of ", path, ")"));
    const VtuContent g = read_vtu_file(file, o);
    const int64_t n = int64_t(g.xyz.size() / 3);
    if (n == 0) throw Error(cat(file, ": no points"));
    // Vertex and line cells (VTK types 1-4: a mesher's boundary and point markers, which meshio
    // and Gmsh write beside the triangles) are left out: the triangles are the mesh.
    int64_t num_cells = 0, markers = 0;
    for (const int t : g.types) (t >= 1 && t <= 4 ? markers : num_cells) += 1;
    if (s == 0 && markers > 0)
      r.warnings.push_back(cat(file, ": left out ", markers,
                               markers == 1 ? " vertex or line cell" : " vertex and line cells",
                               " (VTK types 1-4, boundary markers); the ", num_cells, " triangles are the mesh"));
    if (s > 0 && (n != r.nodes || num_cells != int64_t(r.cells.size() / 3)))
      throw Error(cat(file, ": ", n, " points and ", num_cells, " triangles, but step 0 (", steps[0].file, ") has ",
                      r.nodes, " and ", r.cells.size() / 3, " (inconsistent node counts across steps)"));
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(g.xyz[i * 3]) || !std::isfinite(g.xyz[i * 3 + 1]) || !std::isfinite(g.xyz[i * 3 + 2]))
        throw Error(cat(file, ": point ", i, " is not finite (", g.xyz[i * 3], ", ", g.xyz[i * 3 + 1], ", ",
                        g.xyz[i * 3 + 2], ")"));
    std::vector<float> pos = to_2d(g.xyz, 3, false, cat(file, ": points"));
    std::vector<double> conn;
    for (int64_t c = 0; c < int64_t(g.types.size()); ++c) {
      if (g.types[c] >= 1 && g.types[c] <= 4) continue;
      if (g.types[c] != 5)
        throw Error(cat(file, ": cell ", c, " has VTK type ", g.types[c],
                        "; only triangles (5) are supported (vertex and line cells, types 1-4, are left out)"));
      if (g.offsets[c + 1] - g.offsets[c] != 3)
        throw Error(cat(file, ": cell ", c, " is a triangle (VTK type 5) with ", g.offsets[c + 1] - g.offsets[c],
                        " points; expected 3 (the file's offsets are damaged)"));
      for (int k = 0; k < 3; ++k) conn.push_back(double(g.ids[g.offsets[c] + k]));
    }
    std::vector<int32_t> cells = to_cells(conn, n, file);
    if (s == 0) {
      r.nodes = n;
      r.pos = std::move(pos);
      r.cells = std::move(cells);
    } else {
      check_same_mesh(r, pos, cells, file, steps[0].file);
    }
    const VtuField& v = g.velocity;
    // Finite-volume output holds its fields on cells: the name is right (not fields.velocity's
    // error), the centring is not.
    const std::string on_cells =
        v.on_cells ? cat("; '", o.velocity, "' is cell data (one value per cell), and tessera reads fields on the ",
                         "nodes: convert it to point data first (e.g. ParaView's Cell Data to Point Data)")
                   : "";
    if (!v.present || (v.components != 2 && v.components != 3))
      throw Error(cat(file, ": ",
                      v.present ? "point data '" + o.velocity + "' has " +
                                      core::counted(v.components, "component", "components") + "; expected 2 or 3"
                                : "no point data '" + o.velocity + "' (point data: " + g.array_names + ")" + on_cells),
                  // A field of the wrong shape is the key's error too (a scalar named as the
                  // velocity); a cell field of the right name is not.
                  !v.present && v.on_cells ? "" : "fields.velocity");
    auto vel = to_2d(v.values, int(v.components), true, cat(file, ": ", o.velocity));
    r.velocity.insert(r.velocity.end(), vel.begin(), vel.end());
    const VtuField& p = g.pressure;
    if (s > 0 && p.present != !r.pressure.empty())
      throw Error(cat(file, ": point data '", o.pressure, "' is ", p.present ? "present" : "absent", " but ",
                      p.present ? "absent" : "present", " at step 0; expected it at every step or none"));
    if (p.present) {
      if (p.components != 1)
        throw Error(cat(file, ": point data '", o.pressure, "' has ",
                        core::counted(p.components, "component", "components"), "; expected 1"));
      for (double x : p.values) r.pressure.push_back(float(x));
    }
    if (g.node_type.present) {
      if (g.node_type.components != 1)
        throw Error(cat(file, ": point data '", o.node_type, "' has ",
                        core::counted(g.node_type.components, "component", "components"), "; expected 1"));
      if (s == 0) r.node_type = g.node_type.values;
      // Read at every step, as graph-physics files are: a type that changes would be taken from
      // step 0 without a word.
      else if (const auto at = first_difference(g.node_type.values, r.node_type); at >= 0)
        throw Error(cat(file, ": point data '", o.node_type, "' of node ", at, " is ", g.node_type.values[at], ", but ",
                        r.node_type[at],
                        " at step 0; node types must not change over time (one type per "
                        "node)"));
    }
    r.times.push_back(steps[s].time);
    r.step_files.push_back(file);
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
  if (fs::is_directory(path)) {
    std::vector<std::string> subdirs;
    for (const auto& e : fs::directory_iterator(path))
      if (e.is_directory() && e.path().extension() != ".vtu") subdirs.push_back(e.path().string());
    if (!vtu_files(path).empty()) {
      // Loose steps and trajectory folders side by side: which is meant is not clear.
      for (const auto& sub : subdirs)
        for (const auto& e : fs::directory_iterator(sub))
          if (e.path().extension() == ".vtu" || e.path().extension() == ".pvd")
            throw Error(cat(path, ": holds both .vtu steps and trajectory folders (", fs::path(sub).filename().string(),
                            "); give one trajectory's folder, or a folder of trajectory folders"));
      subdirs.clear();
    }
    std::sort(subdirs.begin(), subdirs.end(), natural_less);
    bool pvd = false;
    for (const auto& e : fs::directory_iterator(path)) pvd = pvd || e.path().extension() == ".pvd";
    if (!subdirs.empty() && !pvd) trajectories = subdirs;
  }
  // Every trajectory's stamps must be uniform (even with import.dt set) and give the same dt.
  // Two dts agree within their stamps' rounding (two series of %g stamps over different spans
  // give mean steps 3e-6 apart).
  double stamped_dt = 0, stamped_uncertainty = 0;
  std::string stamped_by;
  for (const auto& t : trajectories) {
    if (o.max_trajectories > 0 && int64_t(d.trajectories.size()) >= o.max_trajectories) break;
    Raw r = read_vtu_trajectory(t, o);
    drop_short_last_step(r, t);
    double uncertainty = 0;
    // The stamps are a .pvd's: name it, not the folder it is in.
    std::string stamped = t;
    if (fs::is_directory(t))
      for (const auto& e : fs::directory_iterator(t))
        if (e.path().extension() == ".pvd") stamped = e.path().string();
    if (const double dt = dt_from_times(r.times, stamped, &uncertainty); dt > 0) {
      if (stamped_dt > 0 && std::abs(dt - stamped_dt) > uncertainty + stamped_uncertainty)
        throw Error(cat(stamped, ": dt ", dt, " from its time stamps, but ", stamped_by, " has ", stamped_dt,
                        "; a tessera dataset has one dt (import them separately)"));
      if (stamped_dt == 0) stamped_dt = dt, stamped_uncertainty = uncertainty, stamped_by = stamped;
    }
    d.warnings.insert(d.warnings.end(), r.warnings.begin(), r.warnings.end());
    d.trajectories.push_back(finish(std::move(r), o));
  }
  settle_dt(
      d, o, [&] { return stamped_dt; }, "the .pvd time steps", "the series has no .pvd time stamps");
  return d;
}

}  // namespace tessera::io
