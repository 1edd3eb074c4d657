#include "io/foreign_raw.hpp"

#include <vtkLogger.h>
#include <vtkNew.h>
#include <vtkOutputWindow.h>
#include <vtkSmartPointer.h>
#include <vtkStringOutputWindow.h>
#include <vtkXMLUtilities.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/regular_file.hpp"
#include "io/dataset.hpp"
#include "mesh/mesh.hpp"
#include "mesh/validation.hpp"

namespace tessera::io::foreign_detail {
namespace {

constexpr int32_t kMaxNodeType = 8;  // MeshGraphNets codes 0..8

// ---- node types ----

// `direction`: the flow's way along the axis used (+1 or -1; from the data where o.direction is 0).
std::vector<int32_t> infer_node_types(const Raw& r, const NodeTypeOptions& o, int& direction) {
  if (o.other_boundary != mesh::kNormal && o.other_boundary != mesh::kInflow && o.other_boundary != mesh::kOutflow &&
      o.other_boundary != mesh::kWall)
    throw Error(cat("expected 0 (normal), 4 (inflow), 5 (outflow) or 6 (wall), the codes tessera's mesh simulators "
                    "know; got ",
                    o.other_boundary),
                "node_types.other_boundary");
  const int64_t n = r.nodes;
  std::vector<double> speed_max(n, 0.0);
  double vmax = 0, along = 0;
  for (int64_t t = 0; t < r.steps; ++t)
    for (int64_t i = 0; i < n; ++i) {
      const float* v = &r.velocity[(t * n + i) * 2];
      const double s = std::hypot(double(v[0]), double(v[1]));
      speed_max[i] = std::max(speed_max[i], s);
      vmax = std::max(vmax, s);
      along += v[o.axis];
    }
  direction = o.direction != 0 ? o.direction : along < 0 ? -1 : 1;
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < n; ++i)
    lo = std::min(lo, double(r.pos[i * 2 + o.axis])), hi = std::max(hi, double(r.pos[i * 2 + o.axis]));
  const double tol = o.tolerance * (hi - lo);
  const std::vector<char> boundary = mesh::triangle_boundary_nodes(r.nodes, r.cells);
  std::vector<int32_t> types(n, mesh::kNormal);
  for (int64_t i = 0; i < n; ++i) {
    if (!boundary[i]) continue;
    const double x = r.pos[i * 2 + o.axis];
    const bool at_min = x <= lo + tol, at_max = x >= hi - tol;
    if (speed_max[i] <= o.wall_speed * vmax)
      types[i] = mesh::kWall;
    else if (direction > 0 ? at_min : at_max)
      types[i] = mesh::kInflow;
    else if (direction > 0 ? at_max : at_min)
      types[i] = mesh::kOutflow;
    else
      types[i] = o.other_boundary;
  }
  return types;
}

}  // namespace

std::string shape_text(const std::vector<hsize_t>& d) {
  std::string s = "[";
  for (size_t k = 0; k < d.size(); ++k) s += cat(k ? ", " : "", d[k]);
  return s + "]";
}

std::vector<double> static_rows(const Array& a, const std::vector<int>& channels, int64_t& rows, int& ch,
                                const std::string& expected, const std::string& changing) {
  auto d = a.dims;
  if (d.size() == 1 && std::count(channels.begin(), channels.end(), 1)) d = {d[0], 1};
  if (d.size() == 2) d.insert(d.begin(), 1);
  if (d.size() != 3 || std::find(channels.begin(), channels.end(), int(d[2])) == channels.end() || d[0] == 0 ||
      d[1] == 0)
    throw Error(cat(a.what, ": shape ", shape_text(a.dims), "; expected ", expected));
  rows = int64_t(d[1]);
  ch = int(d[2]);
  const size_t per = d[1] * d[2];
  // Checked before the steps are compared: NaN differs from itself and would read as a change.
  for (size_t k = 0; k < a.v.size(); ++k)
    if (!std::isfinite(a.v[k]))
      throw Error(
          cat(a.what, " holds a non-finite value (", a.v[k], ") at step ", k / per, ", row ", (k % per) / d[2]));
  for (hsize_t t = 1; t < d[0]; ++t)
    if (!std::equal(a.v.begin(), a.v.begin() + per, a.v.begin() + t * per))
      throw Error(cat(a.what, ": changes between step 0 and step ", t, "; ", changing));
  return {a.v.begin(), a.v.begin() + per};
}

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

std::vector<float> to_2d(const std::vector<double>& v, int ch, bool vector, const std::string& what, int64_t nodes) {
  if (ch == 2) return {v.begin(), v.end()};
  const size_t n = v.size() / 3;
  double scale = 0;
  for (double x : v) scale = std::max(scale, std::abs(x));
  std::vector<float> out(n * 2);
  for (size_t i = 0; i < n; ++i) {
    const double z = v[i * 3 + 2], ref = vector ? 0.0 : v[2];
    if (std::abs(z - ref) > 1e-9 * std::max(scale, 1e-300)) {
      const std::string row =
          nodes > 0 ? cat("step ", int64_t(i) / nodes, ", node ", int64_t(i) % nodes) : cat("row ", i);
      throw Error(cat(what, ": ", row, " has a third component ", z,
                      vector ? std::string(" (expected 0)") : cat(" (row 0: ", v[2], ")"), "; only 2D data (",
                      vector ? "a zero" : "a constant", " third component) can be imported"));
    }
    out[i * 2] = float(v[i * 3]);
    out[i * 2 + 1] = float(v[i * 3 + 1]);
  }
  return out;
}

std::vector<int32_t> to_cells(const std::vector<double>& v, int64_t nodes, const std::string& what) {
  std::vector<int32_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 0 || v[i] >= double(nodes) || v[i] != std::floor(v[i])) {
      // Indices 1..N throughout: a 1-based writer (Fortran, MATLAB, Gmsh's own numbering).
      const bool one_based = v[i] == double(nodes) && *std::min_element(v.begin(), v.end()) >= 1;
      throw Error(cat(what, ": cell ", i / 3, " references node ", v[i], "; expected indices 0..", nodes - 1,
                      one_based ? " (the indices run 1..N: 1-based? tessera's are 0-based, subtract 1)" : ""));
    }
    out[i] = int32_t(v[i]);
  }
  return out;
}

int64_t first_difference(const std::vector<double>& a, const std::vector<double>& b) {
  if (b.empty()) return -1;
  if (a.size() != b.size()) return int64_t(std::min(a.size(), b.size()));
  for (size_t k = 0; k < a.size(); ++k)
    if (a[k] != b[k]) return int64_t(k);
  return -1;
}

size_t chosen_step(const ImportOptions& o, size_t steps, const std::string& series) {
  const int64_t n = int64_t(steps), k = *o.one_step < 0 ? n + *o.one_step : *o.one_step;
  if (k < 0 || k >= n)
    throw Error(cat(series, ": no step ", *o.one_step, "; the series has ", core::counted(n, "step", "steps"),
                    " (0 to ", n - 1, ", or -1 for the last, -2 the one before, ...)"));
  return size_t(k);
}

double first_spacing(const std::vector<double>& t) {
  return t.size() < 2 ? std::numeric_limits<double>::quiet_NaN() : t[1] - t[0];  // NaN stamps give NaN
}

// How far a stamp may lie off a uniform grid of step dt over stamps from t_first to t_last: what
// the stamps' own rounding explains (dt_from_times), never more than a tenth of a step.
static double grid_tolerance(double dt, double t_first, double t_last) {
  return std::min(kSameDtRelative * dt + 1e-5 * std::max(std::abs(t_first), std::abs(t_last)), 0.1 * dt);
}

void drop_short_last_step(Raw& r, const std::string& what) {
  const std::vector<double>& t = r.times;
  if (t.size() < 4 || int64_t(t.size()) != r.steps) return;
  const std::vector<double> head(t.begin(), t.end() - 1);
  double dt = 0;
  try {
    dt = dt_from_times(head, what);
  } catch (const Error&) {
    return;  // uneven before the last step too: dt_from_times names it
  }
  // Shorter by more than dt_from_times lets a stamp be off the grid (a last step of 0.95 dt, from
  // output.every 20 over 99 steps, was neither left out nor accepted).
  const double last = t.back() - head.back();
  if (!(dt > 0 && last > 0 && last < dt - grid_tolerance(dt, t.front(), t.back()))) return;
  r.warnings.push_back(cat(what, ": the last time step (t = ", t.back(), ") comes ", last, " after the one before, ",
                           "where the others are ", dt,
                           " apart, as in a series thinned with output.every that ends on ",
                           "its last state: left out (", r.steps - 1, " of ", r.steps, " steps imported)"));
  const size_t n = size_t(r.nodes), kept = size_t(r.steps - 1);
  r.times.pop_back();
  r.velocity.resize(kept * n * 2);
  if (!r.pressure.empty()) r.pressure.resize(kept * n);
  if (!r.step_files.empty()) r.step_files.pop_back();
  r.steps -= 1;
}

double dt_from_times(const std::vector<double>& t, const std::string& what, double* uncertainty) {
  for (size_t k = 0; k < t.size(); ++k)
    if (!std::isfinite(t[k])) throw Error(cat(what, ": time stamp ", k, " is ", t[k], "; expected a finite time"));
  if (t.size() < 2) return 0;
  for (size_t k = 1; k < t.size(); ++k)
    if (!(t[k] > t[k - 1]))
      throw Error(cat(what, ": time stamps do not increase (t", k - 1, " = ", t[k - 1], ", t", k, " = ", t[k], ")"));
  // The mean step, and each stamp within what the stamps' own rounding allows of a uniform grid:
  // times written with 6 significant digits (C's %g: dt = 1/30 as 0.0333333, 0.0666667, ...) or
  // as float32 are uniform steps, and were refused (their steps differed by 1e-7, the test allowed
  // 1e-6 dt), with no way round it; t1 - t0 alone was taken as dt, so float32 stamps gave a dt
  // off in the 8th digit.
  // Never more than a tenth of a step: far from t = 0 (stamps near 100 with dt 0.001) the rounding
  // term alone would let a missing step through, which moves a stamp by about half a step.
  const size_t n = t.size() - 1;
  const double dt = (t[n] - t[0]) / double(n);
  const double rounding = 1e-5 * std::max(std::abs(t[0]), std::abs(t[n]));
  const double tolerance = grid_tolerance(dt, t[0], t[n]);
  if (uncertainty) *uncertainty = std::min(kSameDtRelative * dt + rounding / double(n), 0.1 * dt);
  for (size_t k = 1; k < n; ++k)
    if (std::abs(t[k] - (t[0] + double(k) * dt)) > tolerance) {
      // Named by the step farthest from the median step: one odd step moves the mean, and with it
      // every stamp's offset, so the first stamp off the mean grid is often not the odd one.
      std::vector<double> steps(n);
      for (size_t j = 0; j < n; ++j) steps[j] = t[j + 1] - t[j];
      std::vector<double> sorted = steps;
      std::nth_element(sorted.begin(), sorted.begin() + n / 2, sorted.end());
      const double median = sorted[n / 2];
      size_t odd = 0;
      for (size_t j = 1; j < n; ++j)
        if (std::abs(steps[j] - median) > std::abs(steps[odd] - median)) odd = j;
      throw Error(cat(what, ": time steps are not uniform: t", odd + 1, " - t", odd, " = ", t[odd + 1], " - ", t[odd],
                      " = ", steps[odd], ", where the median step is ", median,
                      " (more than the stamps' rounding explains); tessera datasets have one dt"));
    }
  // To 15 significant digits: the mean of stamps 0, 0.05, 0.1, 0.15 is 0.049999999999999996, which
  // meta.json and the log then carried; the digits dropped are below any stamp's own rounding.
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", dt);
  return std::strtod(text, nullptr);
}

void settle_dt(ImportedDataset& d, const ImportOptions& o, const std::function<double()>& from_source,
               const std::string& source, const std::string& missing) {
  // The source is read even when import.dt is given: its value is checked the same way, and a
  // different one is kept so that the app can say it was replaced (never silently).
  const double source_dt = from_source();
  if (o.dt > 0) {
    d.dt = o.dt, d.dt_source = "import.dt";
    if (source_dt > 0 && std::abs(source_dt - o.dt) > kSameDtRelative * o.dt)
      d.replaced_dt = source_dt, d.replaced_dt_source = source;
  } else if ((d.dt = source_dt) > 0) {
    d.dt_source = source;
  } else {
    throw Error(cat(d.source, ": no time step: ", missing, "; set import.dt"));
  }
}

// The last run of digits in a name ("flow_012.vtu" -> "012"); empty when there is none. Searched
// for by hand: std::regex recurses once per character and overflows the stack on a long name (an
// HDF5 group name can be megabytes).
namespace {
std::string last_number(const std::string& s) {
  const size_t end = s.find_last_of("0123456789");
  if (end == std::string::npos) return {};
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(s[begin - 1]))) --begin;
  return s.substr(begin, end - begin + 1);
}
}  // namespace

bool natural_less(const std::string& a, const std::string& b) {
  const std::string na = last_number(a), nb = last_number(b);
  if (!na.empty() && !nb.empty() && na != nb) {
    // Compared as digit strings (no overflow on long numbers such as time stamps in names):
    // without leading zeros, the shorter is the smaller, then the first differing digit decides.
    auto digits = [](const std::string& d) {
      const auto nz = d.find_first_not_of('0');
      return nz == std::string::npos ? std::string("0") : d.substr(nz);
    };
    const std::string da = digits(na), db = digits(nb);
    if (da != db) return da.size() != db.size() ? da.size() < db.size() : da < db;
  }
  return a < b;
}

double parse_number(const std::string& text, const std::string& what) {
  const std::string t = trim(text);
  char* end = nullptr;
  const double x = t.empty() ? NAN : std::strtod(t.c_str(), &end);
  // No errno test: an overflow reads as infinity (refused below), an underflow (1e-320) as a
  // denormal or 0, which is a number still.
  if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(x))
    throw Error(cat(what, ": '", text, "' is not a finite number"));
  return x;
}

void check_same_mesh(const Raw& r, const std::vector<float>& pos, const std::vector<int32_t>& cells,
                     const std::string& where, const std::string& step0) {
  for (size_t k = 0; k < pos.size() && k < r.pos.size(); ++k) {
    // NaN differs from itself: name it as what it is, not as a moving node.
    if (!std::isfinite(pos[k]) || !std::isfinite(r.pos[k]))
      throw Error(cat(where, ": node ", k / 2, " has a non-finite coordinate (",
                      std::isfinite(pos[k]) ? r.pos[k] : pos[k], ")",
                      std::isfinite(pos[k]) ? " in step 0" + (step0.empty() ? "" : " (" + step0 + ")") : ""));
    if (pos[k] != r.pos[k])
      throw Error(cat(where, ": node ", k / 2, " is at (", pos[k - k % 2], ", ", pos[k - k % 2 + 1], "), at (",
                      r.pos[k - k % 2], ", ", r.pos[k - k % 2 + 1], ") in step 0",
                      step0.empty() ? "" : " (" + step0 + ")", "; moving meshes are not supported"));
  }
  for (size_t k = 0; k < cells.size() && k < r.cells.size(); ++k)
    if (cells[k] != r.cells[k])
      throw Error(cat(where, ": cell ", k / 3, " differs from step 0's", step0.empty() ? "" : " (" + step0 + ")",
                      "; the cells must not change over time"));
}

struct VtkMessages::State {
  vtkSmartPointer<vtkStringOutputWindow> window = vtkSmartPointer<vtkStringOutputWindow>::New();
  vtkSmartPointer<vtkOutputWindow> previous;
  vtkLogger::Verbosity stderr_verbosity = vtkLogger::VERBOSITY_OFF;
};

VtkMessages::VtkMessages() : state_(std::make_unique<State>()) {
  state_->previous = vtkOutputWindow::GetInstance();
  vtkOutputWindow::SetInstance(state_->window);
  // VTK's parsers also log errors through vtkLogger (to stderr, colour-coded) besides the output
  // window. vtkLogger has no getter for the stderr level; with no other sinks (tessera adds none)
  // the overall cutoff is that level.
  state_->stderr_verbosity = vtkLogger::GetCurrentVerbosityCutoff();
  vtkLogger::SetStderrVerbosity(vtkLogger::VERBOSITY_OFF);
}

VtkMessages::~VtkMessages() {
  vtkLogger::SetStderrVerbosity(state_->stderr_verbosity);
  vtkOutputWindow::SetInstance(state_->previous);
}

std::string VtkMessages::first_error() const {
  const std::string text = state_->window->GetOutput();
  const auto at = text.find("ERROR");
  if (at == std::string::npos) return "";
  // "ERROR: In <file>, line <n>\n<class> (<address>): <message>\n\n": the message's first line.
  std::string rest = text.substr(at);
  const auto nl = rest.find('\n');
  if (nl != std::string::npos) rest = rest.substr(nl + 1);
  const auto colon = rest.find("): ");
  if (colon != std::string::npos && colon < rest.find('\n')) rest = rest.substr(colon + 3);
  return trim(rest.substr(0, rest.find('\n')));
}

ImportedTrajectory finish(Raw r, const ImportOptions& o) {
  if (r.steps < 2 && !o.one_step)
    throw Error(cat(r.source, ": ", core::counted(r.steps, "time step", "time steps"),
                    "; a trajectory needs at least 2 (pairs of consecutive states)"));
  if (r.cells.empty()) throw Error(cat(r.source, ": no cells"));
  if (o.pressure_required && r.pressure.empty())
    throw Error(cat(r.source, ": no field '", o.pressure,
                    "' (named by fields.pressure; for data without pressure, leave "
                    "the key at its default)"),
                "fields.pressure");
  if (o.node_type_required && r.node_type.empty())
    throw Error(cat(r.source, ": no field '", o.node_type,
                    "' (named by fields.node_type; to infer node types, leave "
                    "the key at its default)"),
                "fields.node_type");
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
  // Named by the step's own file where a series has one (a .vtu among hundreds).
  // `step` counts the steps read; the series' own number is first_step on (ImportOptions::one_step).
  auto at_step = [&](size_t step) {
    const int64_t number = r.first_step + int64_t(step);
    return step < r.step_files.size() ? cat(r.step_files[step], " (step ", number, " of ", r.source, ")")
                                      : cat(r.source, " at step ", number);
  };
  for (size_t k = 0; k < r.velocity.size(); ++k)
    if (!std::isfinite(r.velocity[k]))
      throw Error(cat(at_step(k / size_t(r.nodes * 2)), ": ", o.velocity, " holds a non-finite value (", r.velocity[k],
                      ") at node ", (k / 2) % r.nodes));
  for (size_t k = 0; k < r.pressure.size(); ++k)
    if (!std::isfinite(r.pressure[k]))
      throw Error(cat(at_step(k / size_t(r.nodes)), ": ", o.pressure, " holds a non-finite value (", r.pressure[k],
                      ") at node ", k % r.nodes));
  ImportedTrajectory t;
  t.source = r.source;
  t.steps = r.steps;
  t.step = r.first_step;
  t.series_steps = r.series_steps ? r.series_steps : r.steps;
  if (o.one_step && r.times.size() == 1) t.time = r.times[0];
  t.spacing = r.series_spacing;
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
      // A VTU series' types are its first step's (a folder's name alone did not say which file).
      const std::string& from = r.step_files.empty() ? r.source : r.step_files.front();
      if (x != std::floor(x) || x < 0 || x > kMaxNodeType)
        throw Error(
            cat(from, ": ", o.node_type, " is ", x, " at node ", i, "; expected integer codes 0..", kMaxNodeType));
      // The codes tessera's mesh simulators know (mesh::validate refused the others only when the
      // imported dataset was trained on or rolled out).
      if (x != 0 && x != 4 && x != 5 && x != 6)
        throw Error(cat(from, ": ", o.node_type, " is ", x, " at node ", i,
                        "; tessera's mesh simulators know the MeshGraphNets codes 0 (normal), 4 (inflow), 5 (outflow) "
                        "and 6 (wall), not 1 (obstacle), 2 (airfoil), 3 (handle) or 7-8: recode the field, or infer "
                        "the types from the boundary (node_types.mode: infer)"));
      types.push_back(int32_t(x));
    }
    t.node_types = cat("from field '", o.node_type, "'");
  } else {
    int direction = 1;
    types = infer_node_types(r, o.node_types, direction);
    t.node_types = "inferred";
    t.inferred_flow = cat(direction > 0 ? "+" : "-", o.node_types.axis ? "y" : "x");
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

std::vector<vtkXMLDataElement*> in_document_order(vtkXMLDataElement* root) {
  std::vector<vtkXMLDataElement*> order, stack{root};
  while (!stack.empty()) {
    vtkXMLDataElement* e = stack.back();
    stack.pop_back();
    order.push_back(e);
    for (int k = e->GetNumberOfNestedElements(); k-- > 0;) stack.push_back(e->GetNestedElement(k));
  }
  return order;
}

XmlTree::~XmlTree() {
  if (!root_) return;
  // Every element comes after its parent; in reverse, each element's children have lost their
  // own children by the time it removes them, so no deletion recurses.
  const std::vector<vtkXMLDataElement*> order = in_document_order(root_);
  for (auto e = order.rbegin(); e != order.rend(); ++e) (*e)->RemoveAllNestedElements();
  root_->Delete();
}

XmlTree read_xml(const std::string& path) {
  core::require_regular_file(path, "an XML file");
  VtkMessages messages;  // the parser's own report would be several lines
  XmlTree root(vtkXMLUtilities::ReadElementFromFile(path.c_str()));
  if (!root) {
    const std::string why = messages.first_error();
    throw Error(cat(path, ": not a well-formed XML file", why.empty() ? "" : " (" + why + ")"));
  }
  return root;
}

std::string attr(vtkXMLDataElement* e, const char* name, const std::string& fallback) {
  const char* v = e->GetAttribute(name);
  return v ? v : fallback;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace tessera::io::foreign_detail
