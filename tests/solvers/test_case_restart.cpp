// tessera-cfd's restart files (jobs/case_restart): the solver's time-stepping state written and
// read back to the bit, the mesh it belongs to recognised, and damaged or foreign files refused
// with the file named. The continuation itself is tested against the uninterrupted run in
// test_ns_set_state.cpp and by app.cfd.restart.
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

}  // namespace

TEST_CASE("a restart file holds the solver's state to the bit, with its mesh's identity", "[cfd][restart]") {
  solvers::PetscSession petsc;
  const mesh::Mesh m = channel(10, 5);
  NavierStokes ns(m, flow());
  for (int k = 0; k < 3; ++k) ns.step(0.05);
  const std::string path = out_dir() + "/a_restart.h5", fp = io::mesh_fingerprint(m);
  CHECK(jobs::case_restart_path(out_dir() + "/a") == path);
  jobs::write_case_restart(path, ns, m, fp, "flow: {viscosity: 0.01}\n", Comm::self());
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
  CHECK_NOTHROW(jobs::check_restart_mesh(r, m, fp));

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
