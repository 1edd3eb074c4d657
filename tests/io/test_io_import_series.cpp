// Foreign datasets (io/foreign.hpp), VTU time series (.pvd or a directory, written with VTK's
// writer), read back into tessera trajectories, and malformed inputs. XDMF3 series:
// test_io_import_xdmf.cpp.
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tests/io/import_fixtures.hpp"

using namespace tessera;
using namespace tessera::test::foreign;

TEST_CASE("VTU series: .pvd and directory, pressure optional, step order by number", "[import]") {
  io::ImportOptions o;
  const std::string dir = write_vtu_series("vtu_pvd", true, true);
  auto d = io::read_foreign(dir + "/series.pvd", o);
  CHECK(d.format == io::ForeignFormat::VtuSeries);
  CHECK(d.dt == Approx(0.5));
  CHECK(d.replaced_dt == 0);
  REQUIRE(d.trajectories.size() == 1);
  check_channel(d.trajectories[0], true);
  check_inferred(d.trajectories[0]);
  // import.dt replaces the stamps' dt, and the dataset keeps the replaced value for the app's
  // warning; the same value replaces nothing.
  io::ImportOptions other = o;
  other.dt = 0.25;
  d = io::read_foreign(dir + "/series.pvd", other);
  CHECK(d.dt == 0.25);
  CHECK(d.replaced_dt == Approx(0.5));
  CHECK(d.replaced_dt_source == "the .pvd time steps");
  other.dt = 0.5;
  CHECK(io::read_foreign(dir + "/series.pvd", other).replaced_dt == 0);
  // The directory holding the .vtu files (no .pvd): ordered by the number in the name; dt given.
  const std::string plain = write_vtu_series("vtu_dir", false, false);
  check_error([&] { io::read_foreign(plain, o); }, "no .pvd time stamps; set import.dt");
  o.dt = 0.5;
  d = io::read_foreign(plain, o);
  REQUIRE(d.trajectories.size() == 1);
  check_channel(d.trajectories[0], false);
  // Step numbers 2, 5, 10 (a file missing would look so): read in order, with a warning; evenly
  // numbered files give none.
  REQUIRE(d.warnings.size() == 1);
  CHECK(d.warnings[0].find("the step numbers are not evenly spaced (step_2.vtu, step_5.vtu, step_10.vtu)") !=
        std::string::npos);
  const std::string even = write_vtu_series("vtu_dir_even", false, false);
  fs::rename(even + "/step_2.vtu", even + "/flow_00.vtu");
  fs::rename(even + "/step_5.vtu", even + "/flow_10.vtu");
  fs::rename(even + "/step_10.vtu", even + "/flow_20.vtu");
  CHECK(io::read_foreign(even, o).warnings.empty());
  // A directory of such directories: one trajectory each.
  const std::string many = out + "/vtu_many";
  fs::remove_all(many);
  fs::create_directories(many);
  fs::copy(plain, many + "/run_1");
  fs::copy(plain, many + "/run_0");
  d = io::read_foreign(many, o);
  REQUIRE(d.trajectories.size() == 2);
  CHECK(d.trajectories[0].source.find("run_0") != std::string::npos);
}

TEST_CASE("VTU series: a shorter last step (a series thinned with output.every) is left out, with a warning",
          "[import]") {
  // tessera-rollout with output.every = 5 over 19 steps stamps 0, 0.05, 0.1, 0.15, 0.19: the last
  // state is written off the grid (it was refused as non-uniform time steps).
  const std::string dir = write_vtu_series("vtu_thinned", true, false);
  fs::copy_file(dir + "/step_10.vtu", dir + "/step_13.vtu");
  fs::copy_file(dir + "/step_10.vtu", dir + "/step_14.vtu");
  // The .pvd of the five files with these time stamps.
  const auto stamped = [&](const std::vector<std::string>& times) {
    std::ofstream pvd(dir + "/series.pvd");
    pvd << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\"><Collection>\n";
    const char* files[] = {"step_2.vtu", "step_5.vtu", "step_10.vtu", "step_13.vtu", "step_14.vtu"};
    for (size_t k = 0; k < times.size(); ++k)
      pvd << "<DataSet timestep=\"" << times[k] << "\" file=\"" << files[k] << "\"/>\n";
    pvd << "</Collection></VTKFile>\n";
    return dir + "/series.pvd";
  };
  const auto d = io::read_foreign(stamped({"0", "0.05", "0.1", "0.15", "0.19"}), io::ImportOptions{});
  CHECK(d.dt == Approx(0.05));
  REQUIRE(d.trajectories.size() == 1);
  const io::ImportedTrajectory& t = d.trajectories[0];
  REQUIRE(t.steps == 4);
  // The first four states, in order: steps 0-2 of the fixture, then step_13 (a copy of step 2).
  const auto& vel = t.fields.at("velocity").f32;
  REQUIRE(vel.size() == size_t(4 * kNodes * 2));
  for (int64_t i = 0; i < kNodes; ++i)
    for (int s = 0; s < 4; ++s) CHECK(vel[(s * kNodes + i) * 2] == Approx(u_at(i, std::min(s, 2))).margin(1e-6));
  CHECK(t.fields.at("pressure").f32.size() == size_t(4 * kNodes));
  REQUIRE(d.warnings.size() == 1);
  CHECK(d.warnings[0].find("the last time step (t = 0.19) comes 0.04") != std::string::npos);
  CHECK(d.warnings[0].find("left out (4 of 5 steps imported)") != std::string::npos);
  // A last step of 0.95 dt (output.every 20 over 99 steps): left out too (it was neither left out
  // nor accepted below 0.9 dt).
  const auto near = io::read_foreign(stamped({"0", "0.1", "0.2", "0.3", "0.395"}), io::ImportOptions{});
  CHECK(near.dt == Approx(0.1));
  CHECK(near.trajectories[0].steps == 4);
}

TEST_CASE("VTU series: malformed inputs give one clear line", "[import]") {
  io::ImportOptions o;
  o.dt = 1;
  // A step with another mesh.
  const std::string dir = write_vtu_series("vtu_bad_nodes", false, false);
  write_vtu(dir + "/step_5.vtu", test::grid_mesh(3, 3), {io::Field{"velocity", 2, false, std::vector<double>(32)}});
  check_error([&] { io::read_foreign(dir, o); }, "step_5.vtu: 16 points and 18 triangles, but step 0");
  // No velocity.
  const std::string nov = write_vtu_series("vtu_bad_velocity", false, false);
  write_vtu(nov + "/step_10.vtu", channel, {io::Field{"speed", 1, false, std::vector<double>(kNodes)}});
  check_error([&] { io::read_foreign(nov, o); }, "step_10.vtu: no point data 'velocity' (point data: speed)",
              "fields.velocity");
  // A scalar named as the velocity: the key's error too (it named no key).
  io::ImportOptions scalar = o;
  scalar.velocity = "pressure";
  check_error([&] { io::read_foreign(write_vtu_series("vtu_scalar_velocity", true, false), scalar); },
              ": point data 'pressure' has 1 component; expected 2 or 3", "fields.velocity");
  // Node types that change over time (taken from step 0 without a word before), and a field
  // named on purpose that the series lacks.
  const std::string vary = write_vtu_series("vtu_node_type_varies", false, false);
  for (const std::string step : {"step_2", "step_5", "step_10"}) {
    std::vector<double> types(kNodes, 0.0);
    if (step == "step_10") types[3] = 4;
    write_vtu(
        vary + "/" + step + ".vtu", channel,
        {io::Field{"velocity", 2, false, std::vector<double>(kNodes * 2)}, io::Field{"node_type", 1, false, types}});
  }
  check_error([&] { io::read_foreign(vary, o); },
              "step_10.vtu: point data 'node_type' of node 3 is 4, but 0 at step 0; node types must not change over "
              "time");
  // A code that is no integer: the step file it was read from is named (the folder was).
  const std::string odd = write_vtu_series("vtu_node_type_odd", false, false);
  for (const std::string step : {"step_2", "step_5", "step_10"}) {
    std::vector<double> types(kNodes, 0.0);
    types[3] = 6.5;
    write_vtu(
        odd + "/" + step + ".vtu", channel,
        {io::Field{"velocity", 2, false, std::vector<double>(kNodes * 2)}, io::Field{"node_type", 1, false, types}});
  }
  check_error([&] { io::read_foreign(odd, o); },
              "vtu_node_type_odd/step_2.vtu: node_type is 6.5 at node 3; expected integer codes 0..8");
  io::ImportOptions named = o;
  named.pressure = "prs";
  named.pressure_required = true;
  check_error([&] { io::read_foreign(write_vtu_series("vtu_named_pressure", false, false), named); },
              "no field 'prs' (named by fields.pressure; for data without pressure, leave the key at its default)",
              "fields.pressure");
  // Pressure at some steps only.
  const std::string somep = write_vtu_series("vtu_bad_pressure", true, false);
  write_vtu(somep + "/step_10.vtu", channel, {io::Field{"velocity", 2, false, std::vector<double>(kNodes * 2)}});
  check_error([&] { io::read_foreign(somep, o); }, "point data 'pressure' is absent but present at step 0");
  // Empty series, a lone .vtu, a missing step file.
  fs::create_directories(out + "/vtu_empty");
  check_error([&] { io::read_foreign(out + "/vtu_empty", o); }, "vtu_empty: empty series");
  // A folder holding an XDMF series (tessera-cfd's output): the hint names its .xmf, not one of
  // the .h5 files beside it (which are not graph-physics files).
  fs::create_directories(out + "/xdmf_folder");
  for (const char* f : {"flow_000000.h5", "flow_mesh.h5", "flow.xmf", "zz.h5"})
    std::ofstream(out + "/xdmf_folder/" + f);
  check_error([&] { io::read_foreign(out + "/xdmf_folder", o); },
              "holds no .vtu or .pvd files; for the XDMF series flow.xmf give the file itself", "import.source");
  check_error([&] { io::read_foreign(dir + "/step_2.vtu", o); }, "one .vtu file is one time step", "import.source");
  const std::string gone = write_vtu_series("vtu_missing_step", false, true);
  fs::remove(gone + "/step_5.vtu");
  check_error([&] { io::read_foreign(gone + "/series.pvd", o); }, "step_5.vtu: file not found (step 1 of");
  // A moving mesh: same counts, a point moved.
  const std::string moving = write_vtu_series("vtu_moving", false, false);
  {
    mesh::Mesh shifted = channel;
    shifted.coords[2 * 7] += 0.25;
    io::Field vel{"velocity", 2, false, std::vector<double>(kNodes * 2, 1.0)};
    write_vtu(moving + "/step_10.vtu", shifted, {vel});
  }
  check_error([&] { io::read_foreign(moving, o); }, "step_10.vtu: node 7 is at (7.25, 0), at (7, 0) in step 0 (");
  // Non-finite pressure.
  const std::string nanp = write_vtu_series("vtu_nan_pressure", true, false);
  {
    io::Field vel{"velocity", 2, false, std::vector<double>(kNodes * 2, 1.0)};
    io::Field p{"pressure", 1, false, std::vector<double>(kNodes, 1.0)};
    p.data[3] = INFINITY;
    write_vtu(nanp + "/step_10.vtu", channel, {vel, p});
  }
  check_error([&] { io::read_foreign(nanp, o); },
              "step_10.vtu (step 2 of " + nanp + "): pressure holds a non-finite value (inf) at node 3");
  // A broken .vtu: VTK's multi-line report becomes one line.
  const std::string broken = write_vtu_series("vtu_broken", false, false);
  std::ofstream(broken + "/step_5.vtu") << "<?xml version=\"1.0\"?>\n<VTKFile type=\"UnstructuredGrid\"><Unstr";
  check_error([&] { io::read_foreign(broken, o); }, "step_5.vtu: not a readable .vtu file (VTK: ");
  // Damaged headers, refused before VTK reads them (VTK crashed on a negative count or a text
  // array, and allocated without bound for a component count of two billion), and damaged cell
  // offsets (a triangle of 0 points was read past its ids).
  const auto damaged = [&](const std::string& name, const std::string& from, const std::string& to, bool ascii) {
    const std::string dir = write_vtu_series(name, false, false);
    const std::string file = dir + "/step_5.vtu";
    write_vtu(file, channel, {io::Field{"velocity", 2, false, std::vector<double>(kNodes * 2, 1.0)}}, ascii);
    std::stringstream ss;
    ss << std::ifstream(file).rdbuf();
    std::string text = ss.str();
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    std::ofstream(file) << text.replace(at, from.size(), to);
    return dir;
  };
  const std::string cells = cat("NumberOfCells=\"", channel.num_cells(), "\"");
  check_error([&] { io::read_foreign(damaged("vtu_negative_cells", cells, "NumberOfCells=\"-1\"", false), o); },
              "step_5.vtu: NumberOfCells=\"-1\" is not a count this file can hold");
  const std::string points = cat("NumberOfPoints=\"", kNodes, "\"");
  check_error([&] { io::read_foreign(damaged("vtu_huge_points", points, "NumberOfPoints=\"2000000000\"", false), o); },
              "step_5.vtu: NumberOfPoints=\"2000000000\" is not a count this file can hold");
  check_error(
      [&] {
        io::read_foreign(damaged("vtu_huge_components", "Name=\"velocity\" NumberOfComponents=\"3\"",
                                 "Name=\"velocity\" NumberOfComponents=\"2000000000\"", false),
                         o);
      },
      "NumberOfComponents=\"2000000000\" is not a count this file can hold (expected 1 to 9)");
  check_error(
      [&] {
        io::read_foreign(
            damaged("vtu_text_array", "type=\"Float64\" Name=\"velocity\"", "type=\"String\" Name=\"velocity\"", false),
            o);
      },
      "point data 'velocity' has type 'String'; expected a numeric type");
  check_error(
      [&] {
        io::read_foreign(
            damaged("vtu_empty_cell", "RangeMax=\"192\">\n          3 6 9", "RangeMax=\"192\">\n          0 6 9", true),
            o);
      },
      "step_5.vtu: cell 0 is a triangle (VTK type 5) with 0 points; expected 3");
  // Steps that are not files, two .pvd files, loose steps beside trajectory folders.
  const std::string holes = write_vtu_series("vtu_dir_step", false, false);
  fs::create_directories(holes + "/step_7.vtu");
  check_error([&] { io::read_foreign(holes, o); }, "step_7.vtu: not a file (a directory), in a series of .vtu steps");
  const std::string pvds = write_vtu_series("vtu_two_pvd", false, true);
  fs::copy(pvds + "/series.pvd", pvds + "/copy.pvd");
  check_error([&] { io::read_foreign(pvds, o); }, "2 .pvd files (copy.pvd, series.pvd)");
  const std::string mixed = write_vtu_series("vtu_mixed", false, false);
  fs::copy(write_vtu_series("vtu_mixed_part", false, false), mixed + "/run_0");
  check_error([&] { io::read_foreign(mixed, o); }, "holds both .vtu steps and trajectory folders (run_0)");
  // Loose steps of two series, an unnumbered file beside the steps, one step number twice.
  const std::string series2 = write_vtu_series("vtu_two_series", false, false);
  fs::copy(series2 + "/step_5.vtu", series2 + "/other_5.vtu");
  check_error([&] { io::read_foreign(series2, o); },
              "vtu_two_series: .vtu files of two series (step_2.vtu, other_5.vtu)");
  const std::string unnumbered = write_vtu_series("vtu_unnumbered", false, false);
  fs::copy(unnumbered + "/step_5.vtu", unnumbered + "/step_mesh.vtu");
  check_error([&] { io::read_foreign(unnumbered, o); }, "step_mesh.vtu has no step number, beside 3 other .vtu files");
  const std::string twice = write_vtu_series("vtu_step_twice", false, false);
  fs::copy(twice + "/step_5.vtu", twice + "/step_005.vtu");
  check_error([&] { io::read_foreign(twice, o); }, "are both step 5 of the series");
  // Times in the names (U_t0.5.vtu): not step numbers, and the error says so.
  const std::string timed = write_vtu_series("vtu_time_names", false, false);
  fs::rename(timed + "/step_2.vtu", timed + "/U_t0.0.vtu");
  fs::rename(timed + "/step_5.vtu", timed + "/U_t0.5.vtu");
  fs::rename(timed + "/step_10.vtu", timed + "/U_t1.0.vtu");
  check_error([&] { io::read_foreign(timed, o); }, "a time with a decimal point is not a step number");
  // Velocity on the cells (finite-volume output): the error says it is cell data.
  const std::string on_cells = write_vtu_series("vtu_cell_velocity", false, false);
  write_vtu(on_cells + "/step_5.vtu", channel,
            {io::Field{"velocity", 2, true, std::vector<double>(size_t(channel.num_cells()) * 2, 1.0)}});
  check_error([&] { io::read_foreign(on_cells, o); },
              "no point data 'velocity' (point data: none); 'velocity' is cell data (one value per cell)");
  // Time stamps: not numbers, not finite, not uniform (also when import.dt is set).
  auto stamps = [&](const std::string& name, const std::vector<std::string>& times) {
    const std::string dir = write_vtu_series(name, false, true);
    std::string text = "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\"><Collection>\n";
    const char* files[] = {"step_2.vtu", "step_5.vtu", "step_10.vtu"};
    for (int t = 0; t < kSteps; ++t)
      text += cat("<DataSet timestep=\"", times[t], "\" part=\"0\" file=\"", files[t], "\"/>\n");
    std::ofstream(dir + "/series.pvd") << text << "</Collection></VTKFile>\n";
    return dir + "/series.pvd";
  };
  check_error(
      [&] {
        io::read_foreign(stamps("vtu_time_text", {"0", "abc", "2"}), o);
      },
      "series.pvd: DataSet 1 timestep: 'abc' is not a finite number");
  check_error(
      [&] {
        io::read_foreign(stamps("vtu_time_inf", {"0", "inf", "inf"}), o);
      },
      "'inf' is not a finite number");
  // Stamps that go back, read from the folder: the .pvd is named (the folder alone was).
  check_error(
      [&] {
        const std::string pvd = stamps("vtu_time_back", {"0", "0.5", "0.25"});
        io::read_foreign(fs::path(pvd).parent_path().string(), o);
      },
      "vtu_time_back/series.pvd: time stamps do not increase (t1 = 0.5, t2 = 0.25)");
  // An underflowing stamp is a (denormal) number, not an error.
  CHECK(io::read_foreign(stamps("vtu_time_tiny", {"0", "1e-320", "2e-320"}), io::ImportOptions{}).dt == 1e-320);
  check_error(
      [&] {
        io::read_foreign(stamps("vtu_time_uneven", {"0", "0.5", "1.5"}), o);
      },
      "time steps are not uniform");
  // Named by the odd step, not by the first stamp off the mean grid (which one odd step moves): here
  // t1 was blamed, "t1 = 0.05 is 0.0025 from t0 + 1 x the mean step 0.0475".
  {
    const std::string dir = write_vtu_series("vtu_time_odd_step", false, false);
    for (int t = 3; t < 5; ++t) fs::copy_file(dir + "/step_10.vtu", dir + cat("/step_", 10 + t, ".vtu"));
    std::ofstream(dir + "/series.pvd") << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\"><Collection>\n"
                                       << "<DataSet timestep=\"0\" file=\"step_2.vtu\"/>\n"
                                       << "<DataSet timestep=\"0.05\" file=\"step_5.vtu\"/>\n"
                                       << "<DataSet timestep=\"0.1\" file=\"step_10.vtu\"/>\n"
                                       << "<DataSet timestep=\"0.14\" file=\"step_13.vtu\"/>\n"
                                       << "<DataSet timestep=\"0.19\" file=\"step_14.vtu\"/>\n"
                                       << "</Collection></VTKFile>\n";
    check_error([&] { io::read_foreign(dir + "/series.pvd", io::ImportOptions{}); },
                "time steps are not uniform: t3 - t2 = 0.14 - 0.1 = 0.04");
  }
  // Stamps of uniform steps written with 6 significant digits (C's %g of k/30) are uniform, and dt
  // is their mean step (they were refused: their steps differ by 1e-7, and import.dt did not help).
  CHECK(io::read_foreign(stamps("vtu_time_rounded", {"0", "0.0333333", "0.0666667"}), io::ImportOptions{}).dt ==
        Approx(0.03333335).epsilon(1e-12));
  // A step in two pieces (a parallel solver's files): refused (piece 0 alone was read: part of the
  // domain, its cut taken for a boundary).
  check_error(
      [&] {
        const std::string dir = write_vtu_series("vtu_pieces", false, true);
        std::ofstream(dir + "/series.pvd") << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\"><Collection>\n"
                                           << "<DataSet timestep=\"0\" part=\"0\" file=\"step_2.vtu\"/>\n"
                                           << "<DataSet timestep=\"0\" part=\"1\" file=\"step_5.vtu\"/>\n"
                                           << "</Collection></VTKFile>\n";
        io::read_foreign(dir + "/series.pvd", o);
      },
      "series.pvd: DataSet 1 is part 1 of its time step (file step_5.vtu); tessera-import reads one piece per step");
  // Parallel VTU: a .pvd of .pvtu steps, or a folder of .pvtu files and their pieces, is refused
  // with how to merge the pieces (a .pvtu was "not a VTK XML unstructured grid"; the folder's
  // pieces were "two series").
  {
    const std::string dir = write_vtu_series("vtu_pvtu", false, true);
    std::ofstream(dir + "/step_0.pvtu") << "<?xml version=\"1.0\"?>\n<VTKFile type=\"PUnstructuredGrid\"/>\n";
    std::ofstream(dir + "/series.pvd") << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\"><Collection>\n"
                                       << "<DataSet timestep=\"0\" file=\"step_0.pvtu\"/>\n"
                                       << "<DataSet timestep=\"1\" file=\"step_1.pvtu\"/>\n"
                                       << "</Collection></VTKFile>\n";
    check_error([&] { io::read_foreign(dir + "/series.pvd", o); },
                "step_0.pvtu: a parallel VTU (one step in pieces, a .vtu per rank); tessera-import reads one .vtu per "
                "step holding the whole mesh: merge each step's pieces first");
    std::filesystem::remove(dir + "/series.pvd");
    check_error([&] { io::read_foreign(dir, o); },
                "vtu_pvtu: holds 1 .pvtu files (step_0.pvtu): a parallel solver's steps, each in pieces");
  }
  // Legacy .vtk files are named when a folder has no .vtu.
  {
    const std::string dir = test::test_out() + "/vtu_legacy_only";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/flow_0.vtk") << "# vtk DataFile Version 3.0\n";
    check_error(
        [&] { io::read_foreign(dir, io::ImportOptions{}); },
        "vtu_legacy_only: empty series (no .vtu files; 1 legacy .vtk files, which tessera-import does not read");
  }
  // A DataSet without a timestep among stamped ones, or a file listed twice (one step repeated,
  // another dropped): refused, also with import.dt set.
  auto pvd = [&](const std::string& name, const std::string& entries) {
    const std::string dir = write_vtu_series(name, false, true);
    std::ofstream(dir + "/series.pvd") << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\"><Collection>\n"
                                       << entries << "</Collection></VTKFile>\n";
    return dir + "/series.pvd";
  };
  REQUIRE(o.dt > 0);
  check_error(
      [&] {
        io::read_foreign(pvd("vtu_time_missing",
                             "<DataSet timestep=\"0\" file=\"step_2.vtu\"/>\n"
                             "<DataSet file=\"step_5.vtu\"/>\n"
                             "<DataSet timestep=\"0.9\" file=\"step_10.vtu\"/>\n"),
                         o);
      },
      "series.pvd: DataSet 1 has no timestep, while 2 of the 3 have one; give every DataSet a timestep or none");
  check_error(
      [&] {
        io::read_foreign(pvd("vtu_file_twice",
                             "<DataSet timestep=\"0\" file=\"step_2.vtu\"/>\n"
                             "<DataSet timestep=\"0.5\" file=\"step_5.vtu\"/>\n"
                             "<DataSet timestep=\"1\" file=\"./step_5.vtu\"/>\n"),
                         o);
      },
      "series.pvd: DataSet 2 names ./step_5.vtu again (DataSet 1 does too); each step is a file of its own");
  // Two trajectories whose stamps disagree on dt.
  const std::string two = out + "/vtu_two_dt";
  fs::remove_all(two);
  fs::create_directories(two);
  fs::copy(fs::path(stamps("vtu_dt_a", {"0", "0.5", "1"})).parent_path(), two + "/a");
  fs::copy(fs::path(stamps("vtu_dt_b", {"0", "0.25", "0.5"})).parent_path(), two + "/b");
  io::ImportOptions from_stamps;
  check_error([&] { io::read_foreign(two, from_stamps); }, "/b/series.pvd: dt 0.25 from its time stamps, but");
  // Two series of %g stamps (1/30) over other spans: their mean steps differ by 2e-6, within their
  // rounding, and are one dt (they were refused as two).
  const std::string rounded = out + "/vtu_two_rounded";
  fs::remove_all(rounded);
  fs::create_directories(rounded);
  fs::copy(fs::path(stamps("vtu_rounded_a", {"0", "0.0333333", "0.0666667"})).parent_path(), rounded + "/a");
  fs::copy(fs::path(stamps("vtu_rounded_b", {"1", "1.03333", "1.06667"})).parent_path(), rounded + "/b");
  CHECK(io::read_foreign(rounded, from_stamps).dt == Approx(0.0333333).epsilon(1e-4));
  // Far from t = 0 a missing step is still found: the stamps' rounding allows at most a tenth of
  // a step (100, 100.001, 100.003 passed when it grew with |t| alone).
  check_error(
      [&] {
        io::read_foreign(stamps("vtu_time_far_gap", {"100", "100.001", "100.003"}), from_stamps);
      },
      "time steps are not uniform");
  // Step numbers longer than any integer type (time stamps in names) still order the steps.
  const std::string stamped = write_vtu_series("vtu_long_numbers", false, false);
  fs::rename(stamped + "/step_2.vtu", stamped + "/step_99999999999999999999.vtu");
  fs::rename(stamped + "/step_5.vtu", stamped + "/step_100000000000000000000.vtu");
  fs::rename(stamped + "/step_10.vtu", stamped + "/step_100000000000000000001.vtu");
  check_channel(io::read_foreign(stamped, o).trajectories.at(0), false);
}

// One step of a series as a state (ImportOptions::one_step, tessera-rollout's rollout.source:
// state): that step's velocity alone, its index and time; the mesh and node types as for the whole
// series. Against the whole series read as a dataset.
TEST_CASE("one step of a VTU or XDMF series: the state a rollout starts from", "[import]") {
  io::ImportOptions whole;
  const std::string vtu = write_vtu_series("vtu_state", true, true) + "/series.pvd";
  {
    io::XdmfSeries s(out + "/xdmf_state/flow", channel);
    for (int t = 0; t < kSteps; ++t) {
      io::Field vel{"velocity", 2, false, {}};
      for (int64_t i = 0; i < kNodes; ++i) vel.data.push_back(u_at(i, t)), vel.data.push_back(v_at(i, t));
      s.write_step(0.1 * t, {vel});
    }
  }
  const std::string xmf = out + "/xdmf_state/flow.xmf";
  for (const std::string& series : {vtu, xmf}) {
    INFO(series);
    const io::ImportedTrajectory all = io::read_foreign(series, whole).trajectories.at(0);
    const auto& all_v = all.fields.at("velocity").f32;
    const size_t per_step = size_t(kNodes * 2);
    for (const int64_t asked : {int64_t(-1), int64_t(0), int64_t(1), int64_t(-3)}) {
      INFO("one_step " << asked);
      io::ImportOptions o;
      o.one_step = asked;
      o.dt = 1;  // one state has no step of its own
      const io::ImportedDataset d = io::read_foreign(series, o);
      REQUIRE(d.trajectories.size() == 1);
      const io::ImportedTrajectory& t = d.trajectories[0];
      const int64_t k = asked < 0 ? kSteps + asked : asked;
      CHECK(t.step == k);
      CHECK(t.series_steps == kSteps);
      CHECK(t.steps == 1);
      CHECK(t.time == Approx((series == vtu ? 0.5 : 0.1) * double(k)));
      const auto& v = t.fields.at("velocity");
      REQUIRE(v.shape == std::vector<hsize_t>{1, hsize_t(kNodes), 2});
      CHECK(std::equal(v.f32.begin(), v.f32.end(), all_v.begin() + std::ptrdiff_t(size_t(k) * per_step)));
      CHECK(t.fields.at("mesh_pos").f32 == all.fields.at("mesh_pos").f32);
      CHECK(t.fields.at("cells").i32 == all.fields.at("cells").i32);
      CHECK(t.fields.at("node_type").i32 == all.fields.at("node_type").i32);
    }
    io::ImportOptions beyond;
    beyond.dt = 1;
    for (const int64_t k : {int64_t(3), int64_t(-4)}) {
      beyond.one_step = k;
      check_error(
          [&] { io::read_foreign(series, beyond); },
          cat(": no step ", k, "; the series has 3 steps (0 to 2, or -1 for the last, -2 the one before, ...)"));
    }
  }
  // One .vtu file is one state (a steady solver's one output): read as such, without a time.
  {
    io::ImportOptions o;
    o.one_step = -1;
    o.dt = 1;
    const std::string step_file = write_vtu_series("vtu_one_state", false, false) + "/step_5.vtu";  // step 1
    const io::ImportedTrajectory t = io::read_foreign(step_file, o).trajectories.at(0);
    CHECK(t.steps == 1);
    CHECK(t.series_steps == 1);
    CHECK(std::isnan(t.time));
    const auto& v = t.fields.at("velocity").f32;
    REQUIRE(v.size() == size_t(kNodes * 2));
    for (int64_t i = 0; i < kNodes; ++i) CHECK(v[2 * i] == Approx(u_at(i, 1)).margin(1e-6));
    // As a dataset it is still one time step, not a series.
    check_error([&] { io::read_foreign(step_file, whole); }, "one .vtu file is one time step", "import.source");
  }
  // A graph-physics file is a dataset of trajectories, not a series.
  io::ImportOptions gp;
  gp.one_step = -1;
  gp.dt = 1;
  check_error([&] { io::read_foreign(write_gp("gp_state.h5", false), gp); },
              "a graph-physics HDF5 file is a dataset of trajectories; a state is read from a VTU or XDMF series");
}
