#include "jobs/case_restart.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/on_root.hpp"
#include "io/h5.hpp"

namespace tessera::jobs {

std::string case_restart_path(const std::string& output_base) { return output_base + "_restart.h5"; }

void check_restart_mesh(const CaseRestart& r, const mesh::Mesh& m, const std::string& fingerprint) {
  if (r.vertices != m.num_nodes() || r.cells != m.num_cells())
    throw Error(cat(r.path, " was computed on a mesh of ", r.vertices, " nodes and ", r.cells,
                    " cells; this deck's mesh has ", m.num_nodes(), " nodes and ", m.num_cells(),
                    " cells: a restart continues on the mesh it came from (the same mesh.* settings and Gmsh)"));
  if (r.mesh_fingerprint != fingerprint)
    throw Error(cat(r.path, " was computed on another mesh of the same size (mesh fingerprint ", r.mesh_fingerprint,
                    ", this deck's ", fingerprint,
                    "): a restart continues on the mesh it came from (the same mesh.* settings and Gmsh)"));
}

namespace {

constexpr const char* kFormat = "tessera-cfd restart 1";

int64_t count_attribute(const io::H5File& f, const std::string& name) {
  const double v = f.read_number_attr("/", name);
  if (!(v >= 0 && v <= 9.0e15 && v == std::floor(v)))
    throw Error(cat(f.path(), ": attribute ", name, " is ", v, "; expected a whole number >= 0"));
  return static_cast<int64_t>(v);
}

// A dataset of `rows` x `columns` values (columns 1: a vector).
std::vector<double> read_values(const io::H5File& f, const std::string& name, int64_t rows, int columns) {
  if (!f.exists(name)) throw Error(cat(f.path(), ": no dataset ", name));
  std::vector<hsize_t> dims;
  std::vector<double> v = f.read<double>(name, &dims);
  const std::vector<hsize_t> expected =
      columns == 1 ? std::vector<hsize_t>{hsize_t(rows)} : std::vector<hsize_t>{hsize_t(rows), hsize_t(columns)};
  if (dims != expected) {
    std::string shape;
    for (hsize_t d : dims) shape += cat(shape.empty() ? "" : " x ", d);
    throw Error(cat(f.path(), ": dataset ", name, " is ", shape.empty() ? "a scalar" : shape, ", expected ", rows,
                    columns == 1 ? std::string() : cat(" x ", columns)));
  }
  return v;
}

// The forces table's rows up to the state (optional: files written before they were stored have
// none). Steps increase, times do not decrease, and neither goes past the state's.
void read_forces(const io::H5File& f, CaseRestart& r) {
  const auto& s = r.state;
  r.forces_info.from = s.time;
  if (!f.exists("/forces")) return;
  const std::vector<hsize_t> dims = f.dims("/forces");
  if (dims.size() != 2 || dims[1] < kForcesColumnCount || (dims[1] - kForcesColumnCount) % 3 != 0)
    throw Error(cat(f.path(), ": dataset /forces is not [rows, ", kForcesColumnCount, " + 3 per probe] (",
                    kForcesColumns, ", then u, v, p per probe)"));
  const int columns = static_cast<int>(dims[1]);
  const int64_t probes = (columns - kForcesColumnCount) / 3;
  const std::vector<double> v = read_values(f, "/forces", int64_t(dims[0]), columns);
  if (probes > 0) {
    const std::vector<double> points = read_values(f, "/probe_points", probes, 2);
    for (int64_t k = 0; k < probes; ++k) r.forces_info.probe_points.push_back({points[k * 2], points[k * 2 + 1]});
  }
  if (dims[0] == 0) return;  // no rows: the table starts at the state
  if (!f.has_attr("/", "forces_from"))
    throw Error(cat(f.path(), ": dataset /forces needs the attribute forces_from (the time the table starts at)"));
  r.forces_info.from = f.read_number_attr("/", "forces_from");
  if (f.has_attr("/", "forces_basis")) r.forces_info.basis = f.read_attr("/", "forces_basis");
  if (!(r.forces_info.from >= 0 && r.forces_info.from <= s.time))
    throw Error(cat(f.path(), ": forces_from ", r.forces_info.from, " is not in [0, ", s.time, "], the state's time"));
  for (size_t i = 0; i < dims[0]; ++i) {
    const double* c = &v[i * columns];
    ForcesRow row{int64_t(c[0]), c[1], c[2], c[3], c[4], int64_t(c[5]), c[6], {c + kForcesColumnCount, c + columns}};
    const auto bad = [&](const std::string& what) {
      return Error(cat(f.path(), ": dataset /forces row ", i, " (step ", c[0], ", time ", c[1], "): ", what));
    };
    // Probe columns are nan before a probe's first step (a continuation that added it).
    for (int k = 0; k < columns; ++k)
      if (!std::isfinite(c[k]) && !(k >= kForcesColumnCount && std::isnan(c[k])))
        throw bad("holds a value that is not finite");
    if (c[0] != std::floor(c[0]) || c[0] < 0 || c[0] > double(s.steps))
      throw bad(cat("expected a whole step number in [0, ", s.steps, "], the state's steps"));
    if (c[5] != std::floor(c[5]) || c[5] < 0) throw bad("expected a whole number of linear iterations >= 0");
    if (!(row.time >= r.forces_info.from && row.time <= s.time))  // the solver's times, the last one the state's
      throw bad(cat("expected a time in [", r.forces_info.from, ", ", s.time, "] (forces_from and the state's time)"));
    if (!r.forces.empty() && !(row.step > r.forces.back().step && row.time >= r.forces.back().time))
      throw bad("expected steps that increase and times that do not decrease");
    r.forces.push_back(row);
  }
}

// The field outputs before the state's time (optional: files written before they were stored
// have none), their segments made relative to the working directory.
void read_field_steps(const io::H5File& f, CaseRestart& r) {
  if (!f.exists("/field_steps")) return;
  const std::vector<hsize_t> dims = f.dims("/field_steps");
  if (dims.size() != 2 || dims[1] != 3)
    throw Error(cat(f.path(), ": dataset /field_steps is not [outputs, 3] (time, segment, index)"));
  if (!f.has_attr("/", "field_segments"))
    throw Error(cat(f.path(), ": dataset /field_steps needs the attribute field_segments (one output base a line)"));
  const std::filesystem::path folder = std::filesystem::path(f.path()).parent_path();
  std::vector<std::string> segments;
  std::istringstream lines(f.read_attr("/", "field_segments"));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) throw Error(cat(f.path(), ": attribute field_segments has an empty line"));
    // Resolved, not folded as text: a folder reached through a link ("lnk/../first/a" where lnk
    // is a link) is not the text's.
    std::error_code ec;
    const std::filesystem::path resolved = std::filesystem::weakly_canonical(folder / line, ec);
    segments.push_back(ec ? (folder / line).string() : resolved.string());
  }
  const std::vector<double> v = read_values(f, "/field_steps", int64_t(dims[0]), 3);
  const double t = r.state.time;
  std::vector<int32_t> used(segments.size(), -1);  // a segment's index in r.fields, once used
  for (size_t i = 0; i < dims[0]; ++i) {
    const double* c = &v[i * 3];
    const auto bad = [&](const std::string& what) {
      return Error(cat(f.path(), ": dataset /field_steps row ", i, " (", c[0], ", ", c[1], ", ", c[2], "): ", what));
    };
    if (!(c[0] >= 0 && c[0] <= t)) throw bad(cat("expected a time in [0, ", t, "] (the state's)"));
    if (i > 0 && !(c[0] >= c[-3])) throw bad("the time goes back");
    if (!(c[1] >= 0 && c[1] < double(segments.size()) && c[1] == std::floor(c[1])))
      throw bad(cat("expected a segment in 0 .. ", int64_t(segments.size()) - 1, " (lines of field_segments)"));
    if (!(c[2] >= 0 && c[2] <= 9.0e15 && c[2] == std::floor(c[2]))) throw bad("expected a whole index >= 0");
    // The state's own output is written again by the continuation, as its first step.
    if (c[0] >= t) continue;
    auto& seg = used[size_t(c[1])];
    if (seg < 0) {
      seg = static_cast<int32_t>(r.fields.segments.size());
      r.fields.segments.push_back(segments[size_t(c[1])]);
    }
    r.fields.steps.push_back({c[0], seg, static_cast<int64_t>(c[2])});
  }
}

}  // namespace

void write_case_restart(const std::string& path, const solvers::NavierStokes& ns, const mesh::Mesh& mesh,
                        const std::string& mesh_fingerprint, const std::string& deck_yaml,
                        const std::vector<ForcesRow>& forces, const ForcesTableInfo& info, const FieldSteps& fields,
                        const Comm& comm) {
  const auto& probe_points = info.probe_points;
  run_on_root(comm, [&] {
    const solvers::NavierStokes::TimeState s = ns.time_state();  // every rank holds the whole state
    io::write_h5_atomic(path, [&](io::H5File& f) {
      const hsize_t nodes = s.velocity.size() / 2, vertices = s.pressure.size();
      f.write("/velocity", {nodes, 2}, s.velocity.data());
      f.write("/pressure", {vertices}, s.pressure.data());
      f.write("/previous_velocity", {nodes, 2}, s.previous_velocity.data());
      f.write("/previous_pressure", {vertices}, s.previous_pressure.data());
      f.write_attr("/", "format", kFormat);
      f.write_double_attr("/", "time", s.time);
      f.write_double_attr("/", "time_carry", s.time_carry);
      f.write_double_attr("/", "last_dt", s.last_dt);
      f.write_int64_attr("/", "steps", s.steps);
      f.write_int64_attr("/", "vertices", mesh.num_nodes());
      f.write_int64_attr("/", "cells", mesh.num_cells());
      f.write_attr("/", "mesh_fingerprint", mesh_fingerprint);
      f.write_attr("/", "deck", deck_yaml);
      // 56 bytes per step (and 24 per probe): 5.6 MB after 10^5 steps, small beside the state of a
      // mesh that needs them.
      const size_t columns = kForcesColumnCount + 3 * probe_points.size();
      std::vector<double> table;
      table.reserve(forces.size() * columns);
      for (const ForcesRow& r : forces) {
        if (r.probes.size() != 3 * probe_points.size())
          throw Error(cat(path, ": step ", r.step, " has ", r.probes.size(), " probe values for ", probe_points.size(),
                          " points (an internal error)"));
        table.insert(table.end(),
                     {double(r.step), r.time, r.c_d, r.c_l, r.delta_p, double(r.linear_iterations), r.seconds});
        table.insert(table.end(), r.probes.begin(), r.probes.end());
      }
      if (!forces.empty()) f.write("/forces", {forces.size(), hsize_t(columns)}, table.data());
      if (!probe_points.empty()) f.write("/probe_points", {probe_points.size(), 2}, probe_points.front().data());
      f.write_attr("/", "forces_columns", forces_header(probe_points.size()));
      f.write_double_attr("/", "forces_from", info.from);
      f.write_attr("/", "forces_basis", info.basis);
      // 24 bytes per field output, the segments (one per run) once each.
      if (!fields.steps.empty()) {
        std::vector<double> steps;
        steps.reserve(fields.steps.size() * 3);
        for (const FieldSteps::Step& st : fields.steps)
          steps.insert(steps.end(), {st.time, double(st.segment), double(st.index)});
        f.write("/field_steps", {fields.steps.size(), 3}, steps.data());
        std::string segments;
        for (const std::string& seg : fields.segments) segments += seg + "\n";
        f.write_attr("/", "field_segments", segments);
      }
    });
  });
}

CaseRestart read_case_restart(const std::string& path) {
  const io::H5File f = io::H5File::open_read(path);
  CaseRestart r;
  r.path = path;
  const bool has_format = f.has_attr("/", "format");
  if (!has_format || f.read_attr("/", "format") != kFormat)
    throw Error(cat(path, ": not a tessera-cfd restart file (attribute format is ",
                    has_format ? cat("'", f.read_attr("/", "format"), "'") : std::string("missing"), ", expected '",
                    kFormat, "'; job: case writes <output.name>_restart.h5)"));
  r.vertices = count_attribute(f, "vertices");
  r.cells = count_attribute(f, "cells");
  r.mesh_fingerprint = f.read_attr("/", "mesh_fingerprint");
  r.deck_yaml = f.read_attr("/", "deck");
  auto& s = r.state;
  s.time = f.read_number_attr("/", "time");
  s.time_carry = f.read_number_attr("/", "time_carry");
  s.last_dt = f.read_number_attr("/", "last_dt");
  s.steps = count_attribute(f, "steps");
  if (s.last_dt < 0 || (s.steps > 0) != (s.last_dt > 0))
    throw Error(cat(path, ": last_dt ", s.last_dt, " after ", s.steps,
                    " steps; expected last_dt > 0 after a step, 0 before any"));
  if (s.time < 0) throw Error(cat(path, ": time ", s.time, " is before the start (0)"));
  // The compensated sum's carry is the round-off of the time's last addition.
  if (!(std::abs(s.time_carry) <= 1e-12 * std::max(1.0, s.time)))
    throw Error(cat(path, ": time_carry ", s.time_carry, " is not a round-off of time ", s.time));
  if (!f.exists("/velocity")) throw Error(cat(path, ": no dataset /velocity"));
  const std::vector<hsize_t> dims = f.dims("/velocity");
  if (dims.size() != 2 || dims[1] != 2) throw Error(cat(path, ": dataset /velocity is not [P2 nodes, 2]"));
  const auto nodes = static_cast<int64_t>(dims[0]);
  s.velocity = read_values(f, "/velocity", nodes, 2);
  s.previous_velocity = read_values(f, "/previous_velocity", nodes, 2);
  s.pressure = read_values(f, "/pressure", r.vertices, 1);
  s.previous_pressure = read_values(f, "/previous_pressure", r.vertices, 1);
  for (const auto* v : {&s.velocity, &s.previous_velocity, &s.pressure, &s.previous_pressure})
    for (double x : *v)
      if (!std::isfinite(x)) throw Error(cat(path, ": the state holds a value that is not finite"));
  read_forces(f, r);
  read_field_steps(f, r);
  return r;
}

}  // namespace tessera::jobs
