// tessera-cfd's restart files (jobs/case_restart): the solver's time-stepping state written and
// read back to the bit, the mesh it belongs to recognised, and damaged or foreign files refused
// with the file named. The continuation itself is tested against the uninterrupted run in
// test_ns_set_state.cpp and by app.cfd.restart.
#include <array>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/fingerprint.hpp"
#include "io/h5.hpp"
#include "jobs/case_restart.hpp"
#include "mesh/structured.hpp"
#include "solvers/navier_stokes.hpp"
#include "solvers/petsc_session.hpp"
#include "tests/test_paths.hpp"

using namespace tessera;
using solvers::NavierStokes;

namespace {

mesh::Mesh channel(int nx, int ny) {
  mesh::Mesh m = mesh::rectangle_grid(nx, ny, 2.0, 0.5);
  mesh::assign_node_types(
      m, {{"left", mesh::kInflow}, {"right", mesh::kOutflow}, {"bottom", mesh::kWall}, {"top", mesh::kWall}});
  return m;
}

solvers::FlowConfig flow() {
  solvers::FlowConfig f;
  f.inflow_speed = 1.0;
  f.viscosity = 0.01;
  return f;
}

std::string out_dir() {
  const std::string d = test::test_out() + "/case_restart";
  std::filesystem::create_directories(d);
  return d;
}

// A copy of `good` with one thing changed by `edit` (the file is rewritten whole).
void rewrite(const std::string& good, const std::string& path,
             const std::function<void(const jobs::CaseRestart&, io::H5File&)>& edit) {
  const jobs::CaseRestart r = jobs::read_case_restart(good);
  io::H5File f = io::H5File::create(path);
  edit(r, f);
  f.close();
}

// What a restart file held before it carried the forces table: the state, the mesh's identity, the deck.
void write_state_alone(const jobs::CaseRestart& r, io::H5File& f) {
  const auto& s = r.state;
  const hsize_t nodes = s.velocity.size() / 2, nv = s.pressure.size();
  f.write("/velocity", {nodes, 2}, s.velocity.data());
  f.write("/pressure", {nv}, s.pressure.data());
  f.write("/previous_velocity", {nodes, 2}, s.previous_velocity.data());
  f.write("/previous_pressure", {nv}, s.previous_pressure.data());
  f.write_attr("/", "format", "tessera-cfd restart 1");
  f.write_double_attr("/", "time", s.time);
  f.write_double_attr("/", "time_carry", s.time_carry);
  f.write_double_attr("/", "last_dt", s.last_dt);
  f.write_int64_attr("/", "steps", s.steps);
  f.write_int64_attr("/", "vertices", r.vertices);
  f.write_int64_attr("/", "cells", r.cells);
  f.write_attr("/", "mesh_fingerprint", r.mesh_fingerprint);
  f.write_attr("/", "deck", r.deck_yaml);
}

}  // namespace

TEST_CASE("a restart file holds the solver's state to the bit, with its mesh's identity", "[cfd][restart]") {
  solvers::PetscSession petsc;
  const mesh::Mesh m = channel(10, 5);
  NavierStokes ns(m, flow());
  for (int k = 0; k < 3; ++k) ns.step(0.05);
  const std::string path = out_dir() + "/a_restart.h5", fp = io::mesh_fingerprint(m);
  CHECK(jobs::case_restart_path(out_dir() + "/a") == path);
  // The forces table so far (made-up values: the file stores what it is given), from t = 0.
  // One probe point: u, v, p per row.
  const std::vector<jobs::ForcesRow> forces{{1, 0.05, 3.1, 0.25, 1.5, 4, 0.01, {0.5, -0.25, 7}},
                                            {2, 0.1, 3.0, -0.125, 1.25, 3, 0.02, {0.75, 0.125, 6}},
                                            {3, ns.time(), 2.9, 1.0 / 3.0, 1.0, 2, 0.03, {1.0 / 7, 0, -1}}};
  const std::vector<std::array<double, 2>> points{{0.3, 0.2}};
  // The field outputs so far: two of an earlier run in a sibling folder, then this run's, the last
  // at the state's time (which the continuation writes again, as its first step).
  const jobs::FieldSteps fields{{"../first/a", "a"}, {{0.0, 0, 0}, {0.05, 0, 1}, {0.1, 1, 0}, {ns.time(), 1, 1}}};
  jobs::write_case_restart(path, ns, m, fp, "flow: {viscosity: 0.01}\n", forces,
                           {0.0, points, "c = 2 F; delta_p = p(0.15, 0.2) - p(0.25, 0.2); density 1"}, fields,
                           Comm::self());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  const jobs::CaseRestart r = jobs::read_case_restart(path);
  const NavierStokes::TimeState s = ns.time_state();
  CHECK(r.state.time == s.time);
  CHECK(r.state.time_carry == s.time_carry);
  CHECK(r.state.last_dt == 0.05);
  CHECK(r.state.steps == 3);
  CHECK(r.state.velocity == s.velocity);
  CHECK(r.state.pressure == s.pressure);
  CHECK(r.state.previous_velocity == s.previous_velocity);
  CHECK(r.state.previous_pressure == s.previous_pressure);
  CHECK(r.vertices == m.num_nodes());
  CHECK(r.cells == m.num_cells());
  CHECK(r.mesh_fingerprint == fp);
  CHECK(r.deck_yaml == "flow: {viscosity: 0.01}\n");
  REQUIRE(r.forces.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    const jobs::ForcesRow &a = r.forces[i], &b = forces[i];
    CHECK(a.step == b.step);
    CHECK(a.time == b.time);
    CHECK(a.c_d == b.c_d);
    CHECK(a.c_l == b.c_l);
    CHECK(a.delta_p == b.delta_p);
    CHECK(a.linear_iterations == b.linear_iterations);
    CHECK(a.seconds == b.seconds);
    CHECK(a.probes == b.probes);
  }
  CHECK(r.forces_info.probe_points == points);
  CHECK(r.forces_info.from == 0.0);
  CHECK(r.forces_info.basis == "c = 2 F; delta_p = p(0.15, 0.2) - p(0.25, 0.2); density 1");
  CHECK_NOTHROW(jobs::check_restart_mesh(r, m, fp));
  // Segments relative to the file's folder come back relative to the working directory; the output
  // at the state's time is left out.
  const auto folder = std::filesystem::weakly_canonical(std::filesystem::path(path).parent_path());
  CHECK(r.fields.segments ==
        std::vector<std::string>{(folder.parent_path() / "first/a").string(), (folder / "a").string()});
  REQUIRE(r.fields.steps.size() == 3);
  CHECK((r.fields.steps[1].time == 0.05 && r.fields.steps[1].segment == 0 && r.fields.steps[1].index == 1));
  CHECK((r.fields.steps[2].time == 0.1 && r.fields.steps[2].segment == 1 && r.fields.steps[2].index == 0));

  SECTION("another mesh is refused: by its size, or by its fingerprint at the same size") {
    const mesh::Mesh bigger = channel(12, 5);
    CHECK_THROWS_WITH(jobs::check_restart_mesh(r, bigger, io::mesh_fingerprint(bigger)),
                      Catch::Contains("was computed on a mesh of 66 nodes and 100 cells; this deck's mesh has 78 "
                                      "nodes and 120 cells"));
    mesh::Mesh moved = m;
    moved.coords[13] += 1e-9;
    const std::string moved_fp = io::mesh_fingerprint(moved);
    CHECK(moved_fp != fp);
    CHECK_THROWS_WITH(jobs::check_restart_mesh(r, moved, moved_fp),
                      Catch::Contains("was computed on another mesh of the same size"));
  }
  SECTION("a file without the forces table (written before it was stored) starts the table at its state") {
    const std::string old = out_dir() + "/old_restart.h5";
    rewrite(path, old, write_state_alone);
    const jobs::CaseRestart o = jobs::read_case_restart(old);
    CHECK(o.forces.empty());
    CHECK(o.fields.steps.empty());
    CHECK(o.forces_info.from == r.state.time);
    CHECK(o.state.velocity == r.state.velocity);
  }
  SECTION("a damaged forces table names the file, the row and what is wrong") {
    const std::string bad = out_dir() + "/bad_forces_restart.h5";
    // The good file with its forces table replaced by `rows` (flattened) starting at `from`.
    auto with_forces = [&](std::vector<double> rows, double from, hsize_t columns = 7) {
      rewrite(path, bad, [=](const jobs::CaseRestart& r, io::H5File& f) {
        write_state_alone(r, f);
        f.write("/forces", {rows.size() / columns, columns}, rows.data());
        f.write_double_attr("/", "forces_from", from);
      });
    };
    const double t = r.state.time;  // 0.15 after 3 steps
    with_forces({1, 0.05, 3, 0, 1, 4, 0.01, 1, 0.1, 3, 0, 1, 4, 0.01}, 0);
    CHECK_THROWS_WITH(jobs::read_case_restart(bad),
                      Catch::Contains("bad_forces_restart.h5: dataset /forces row 1 (step 1, time 0.1): expected "
                                      "steps that increase and times that do not decrease"));
    with_forces({1, 0.05, 3, 0, 1, 4, 0.01, 4, t, 3, 0, 1, 4, 0.01}, 0);
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("row 1 (step 4, time 0.15): expected a whole "
                                                                    "step number in [0, 3], the state's steps"));
    with_forces({1, 0.2, 3, 0, 1, 4, 0.01}, 0);
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("row 0 (step 1, time 0.2): expected a time in "
                                                                    "[0, 0.15] (forces_from and the state's time)"));
    with_forces({1, 0.05, std::numeric_limits<double>::quiet_NaN(), 0, 1, 4, 0.01}, 0);
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("row 0 (step 1, time 0.05): holds a value that "
                                                                    "is not finite"));
    with_forces({1, 0.05, 3, 0, 1, 4}, 0, 6);
    CHECK_THROWS_WITH(jobs::read_case_restart(bad),
                      Catch::Contains("bad_forces_restart.h5: dataset /forces is not [rows, 7 + 3 per probe] (step,"
                                      "time,c_d,c_l,delta_p,linear_iterations,seconds, then u, v, p per probe)"));
    // Probe columns without the points they belong to.
    with_forces({1, 0.05, 3, 0, 1, 4, 0.01, 0.5, 0, 1}, 0, 10);
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("bad_forces_restart.h5: no dataset /probe_points"));
    with_forces({1, 0.05, 3, 0, 1, 4, 0.01}, 0.5);
    CHECK_THROWS_WITH(jobs::read_case_restart(bad),
                      Catch::Contains("bad_forces_restart.h5: forces_from 0.5 is not in [0, 0.15], the state's time"));
  }
  SECTION("a damaged list of field outputs names the file, the row and what is wrong") {
    const std::string bad = out_dir() + "/bad_fields_restart.h5";
    auto with_fields = [&](std::vector<double> rows, const char* segments) {
      rewrite(path, bad, [=](const jobs::CaseRestart& r, io::H5File& f) {
        write_state_alone(r, f);
        f.write("/field_steps", {rows.size() / 3, 3}, rows.data());
        if (segments) f.write_attr("/", "field_segments", segments);
      });
    };
    with_fields({0, 0, 0, 0.05, 0, 1}, "a\n");
    CHECK(jobs::read_case_restart(bad).fields.steps.size() == 2);
    with_fields({0, 0, 0}, nullptr);
    CHECK_THROWS_WITH(
        jobs::read_case_restart(bad),
        Catch::Contains("bad_fields_restart.h5: dataset /field_steps needs the attribute field_segments"));
    with_fields({0.05, 0, 0, 0, 0, 1}, "a\n");
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("bad_fields_restart.h5: dataset /field_steps row "
                                                                    "1 (0, 0, 1): the time goes back"));
    with_fields({0, 1, 0}, "a\n");
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("row 0 (0, 1, 0): expected a segment in 0 .. 0"));
    with_fields({0.2, 0, 0}, "a\n");
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("row 0 (0.2, 0, 0): expected a time in [0, 0.15]"));
    with_fields({0, 0, -1}, "a\n");
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("row 0 (0, 0, -1): expected a whole index >= 0"));
    with_fields({0, 0, 0}, "a\n\nb\n");
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("attribute field_segments has an empty line"));
  }
  SECTION("damaged or foreign files name the file and what is wrong") {
    const std::string bad = out_dir() + "/bad_restart.h5";
    rewrite(path, bad, [](const jobs::CaseRestart&, io::H5File& f) { f.write_attr("/", "format", "checkpoint"); });
    CHECK_THROWS_WITH(jobs::read_case_restart(bad),
                      Catch::Contains("bad_restart.h5: not a tessera-cfd restart file (attribute format is "
                                      "'checkpoint'"));
    // A restart file with one thing wrong: `fault` names it (a dataset left out, previous_pressure
    // one short by default or holding an infinity, a time, carry, step count or last dt).
    auto all_but = [&](const std::string& fault) {
      return [=](const jobs::CaseRestart& r, io::H5File& f) {
        const std::string left_out = fault;
        const auto& s = r.state;
        const hsize_t nodes = s.velocity.size() / 2, nv = s.pressure.size();
        if (left_out != "velocity") f.write("/velocity", {nodes, 2}, s.velocity.data());
        if (left_out != "pressure") f.write("/pressure", {nv}, s.pressure.data());
        if (left_out != "previous_velocity") f.write("/previous_velocity", {nodes, 2}, s.previous_velocity.data());
        if (left_out == "previous_pressure") {
          std::vector<double> p = s.previous_pressure;
          p[1] = std::numeric_limits<double>::infinity();
          f.write("/previous_pressure", {nv}, p.data());
        } else {
          f.write("/previous_pressure", {nv - 1}, s.previous_pressure.data());  // one short
        }
        f.write_attr("/", "format", "tessera-cfd restart 1");
        f.write_double_attr("/", "time", left_out == "time" ? -0.15 : 0.15);
        f.write_double_attr("/", "time_carry", left_out == "time_carry" ? 0.01 : 0.0);
        f.write_double_attr("/", "last_dt", left_out == "last_dt" ? 0.0 : 0.05);
        if (left_out == "steps")
          f.write_attr("/", "steps", "three");
        else
          f.write_int64_attr("/", "steps", 3);
        f.write_int64_attr("/", "vertices", r.vertices);
        f.write_int64_attr("/", "cells", r.cells);
        f.write_attr("/", "mesh_fingerprint", r.mesh_fingerprint);
        f.write_attr("/", "deck", "");
      };
    };
    rewrite(path, bad, all_but("velocity"));
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("bad_restart.h5: no dataset /velocity"));
    rewrite(path, bad, all_but("pressure"));
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("bad_restart.h5: no dataset /pressure"));
    rewrite(path, bad, all_but("short previous_pressure"));
    CHECK_THROWS_WITH(jobs::read_case_restart(bad),
                      Catch::Contains("bad_restart.h5: dataset /previous_pressure is 65, expected 66"));
    rewrite(path, bad, all_but("previous_pressure"));
    CHECK_THROWS_WITH(jobs::read_case_restart(bad),
                      Catch::Contains("bad_restart.h5: the state holds a value that is not finite"));
    rewrite(path, bad, all_but("last_dt"));
    CHECK_THROWS_WITH(jobs::read_case_restart(bad),
                      Catch::Contains("bad_restart.h5: last_dt 0 after 3 steps; expected last_dt > 0 after a step"));
    rewrite(path, bad, all_but("steps"));
    CHECK_THROWS_WITH(jobs::read_case_restart(bad),
                      Catch::Contains("bad_restart.h5: attribute steps is 'three', not a finite number"));
    rewrite(path, bad, all_but("time"));
    CHECK_THROWS_WITH(jobs::read_case_restart(bad), Catch::Contains("bad_restart.h5: time -0.15 is before the start"));
    rewrite(path, bad, all_but("time_carry"));
    CHECK_THROWS_WITH(jobs::read_case_restart(bad),
                      Catch::Contains("bad_restart.h5: time_carry 0.01 is not a round-off of time 0.15"));
    CHECK_THROWS_WITH(jobs::read_case_restart(out_dir() + "/nowhere.h5"), Catch::Contains("nowhere.h5"));
  }
}
