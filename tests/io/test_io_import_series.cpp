// Foreign datasets (io/foreign.hpp), time series: VTU series (.pvd or a directory, written with
// VTK's writer) and XDMF3 series (tessera's layout and meshio's xi:include layout, written by
// hand), read back into tessera trajectories, and malformed inputs.
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

TEST_CASE("VTU series: malformed inputs give one clear line", "[import]") {
  io::ImportOptions o;
  o.dt = 1;
  // A step with another mesh.
  const std::string dir = write_vtu_series("vtu_bad_nodes", false, false);
  write_vtu(dir + "/step_5.vtu", test::grid_mesh(3, 3), {io::Field{"velocity", 2, false, std::vector<double>(32)}});
  check_error([&] { io::read_foreign(dir, o); }, "step_5.vtu: 16 points and 18 cells, but step 0");
  // No velocity.
  const std::string nov = write_vtu_series("vtu_bad_velocity", false, false);
  write_vtu(nov + "/step_10.vtu", channel, {io::Field{"speed", 1, false, std::vector<double>(kNodes)}});
  check_error([&] { io::read_foreign(nov, o); }, "step_10.vtu: no point data 'velocity' (point data: speed)");
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
  io::ImportOptions named = o;
  named.pressure = "prs";
  named.pressure_required = true;
  check_error([&] { io::read_foreign(write_vtu_series("vtu_named_pressure", false, false), named); },
              "no field 'prs' (named by fields.pressure; for data without pressure, leave the key at its default)");
  // Pressure at some steps only.
  const std::string somep = write_vtu_series("vtu_bad_pressure", true, false);
  write_vtu(somep + "/step_10.vtu", channel, {io::Field{"velocity", 2, false, std::vector<double>(kNodes * 2)}});
  check_error([&] { io::read_foreign(somep, o); }, "point data 'pressure' is absent but present at step 0");
  // Empty series, a lone .vtu, a missing step file.
  fs::create_directories(out + "/vtu_empty");
  check_error([&] { io::read_foreign(out + "/vtu_empty", o); }, "vtu_empty: empty series");
  check_error([&] { io::read_foreign(dir + "/step_2.vtu", o); }, "one .vtu file is one time step");
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
  check_error([&] { io::read_foreign(nanp, o); }, "pressure holds a non-finite value at step 2, node 3");
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
  // An underflowing stamp is a (denormal) number, not an error.
  CHECK(io::read_foreign(stamps("vtu_time_tiny", {"0", "1e-320", "2e-320"}), io::ImportOptions{}).dt == 1e-320);
  check_error(
      [&] {
        io::read_foreign(stamps("vtu_time_uneven", {"0", "0.5", "1.5"}), o);
      },
      "time steps are not uniform");
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
  check_error([&] { io::read_foreign(two, from_stamps); }, "/b: dt 0.25 from its .pvd time stamps, but");
  // Step numbers longer than any integer type (time stamps in names) still order the steps.
  const std::string stamped = write_vtu_series("vtu_long_numbers", false, false);
  fs::rename(stamped + "/step_2.vtu", stamped + "/step_99999999999999999999.vtu");
  fs::rename(stamped + "/step_5.vtu", stamped + "/step_100000000000000000000.vtu");
  fs::rename(stamped + "/step_10.vtu", stamped + "/step_100000000000000000001.vtu");
  check_channel(io::read_foreign(stamped, o).trajectories.at(0), false);
}

TEST_CASE("XDMF3 series: tessera's layout and meshio's xi:include layout", "[import]") {
  io::ImportOptions o;
  // tessera's XdmfSeries: every temporal grid carries its own Topology and Geometry.
  {
    io::XdmfSeries s(out + "/xdmf_tessera/flow", channel);
    for (int t = 0; t < kSteps; ++t) {
      io::Field vel{"velocity", 2, false, {}};
      for (int64_t i = 0; i < kNodes; ++i) vel.data.push_back(u_at(i, t)), vel.data.push_back(v_at(i, t));
      s.write_step(0.1 * t, {vel});
    }
  }
  auto d = io::read_foreign(out + "/xdmf_tessera/flow.xmf", o);
  REQUIRE(d.trajectories.size() == 1);
  CHECK(d.format == io::ForeignFormat::Xdmf);
  CHECK(d.dt == Approx(0.1));
  check_channel(d.trajectories[0], false);
  {
    // An HDF DataItem whose Dimensions transpose the stored dataset ("3 45" over [45, 3]): the same
    // number of values, read in the wrong order before.
    std::ifstream in(out + "/xdmf_tessera/flow.xmf");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string from =
        cat("Dimensions=\"", kNodes, " 3\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">flow_000000.h5");
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(
        at, from.size(),
        cat("Dimensions=\"3 ", kNodes, "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">flow_000000.h5"));
    std::ofstream(out + "/xdmf_tessera/transposed.xmf") << text;
    check_error([&] { io::read_foreign(out + "/xdmf_tessera/transposed.xmf", o); },
                cat("flow_000000.h5: /velocity: stored as [", kNodes, ", 3], but the DataItem's Dimensions say [3, ",
                    kNodes, "]"));
  }
  check_inferred(d.trajectories[0]);

  // meshio's TimeSeriesWriter layout, inline XML data: a mesh grid, then temporal grids that
  // include its Topology and Geometry; node_type as a field.
  auto xml_numbers = [](const std::vector<double>& v) {
    std::string s;
    for (double x : v) s += cat(x, " ");
    return s;
  };
  auto write_meshio = [&](const std::string& path, int steps, bool cell_velocity, const std::string& mesh = "mesh") {
    std::ofstream f(path);
    f << "<Xdmf xmlns:xi=\"http://www.w3.org/2001/XInclude\" Version=\"3.0\"><Domain>\n"
      << "<Grid Name=\"" << mesh
      << "\" GridType=\"Uniform\"><Geometry GeometryType=\"XY\"><DataItem DataType=\"Float\" "
      << "Dimensions=\"" << kNodes << " 2\" Format=\"XML\" Precision=\"8\">" << xml_numbers(channel.coords)
      << "</DataItem></Geometry><Topology TopologyType=\"Triangle\" NumberOfElements=\"" << channel.num_cells()
      << "\" NodesPerElement=\"3\"><DataItem DataType=\"Int\" Dimensions=\"" << channel.num_cells()
      << " 3\" Format=\"XML\" Precision=\"8\">"
      << xml_numbers(std::vector<double>(channel.cells.begin(), channel.cells.end()))
      << "</DataItem></Topology></Grid>\n"
      << "<Grid Name=\"TimeSeries_meshio\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
    for (int t = 0; t < steps; ++t) {
      std::vector<double> vel, types;
      for (int64_t i = 0; i < kNodes; ++i) vel.push_back(u_at(i, t)), vel.push_back(v_at(i, t));
      for (int64_t i = 0; i < kNodes; ++i) types.push_back(expected_type(i));
      f << "<Grid><xi:include xpointer=\"xpointer(//Grid[@Name=&quot;" << mesh
        << "&quot;]/*[self::Topology or self::Geometry])\"/><Time Value=\"" << 0.05 * t << "\"/>"
        << "<Attribute Name=\"velocity\" AttributeType=\"Vector\" Center=\"" << (cell_velocity ? "Cell" : "Node")
        << "\"><DataItem DataType=\"Float\" Dimensions=\"" << kNodes << " 2\" Format=\"XML\" Precision=\"8\">"
        << xml_numbers(vel) << "</DataItem></Attribute>"
        << "<Attribute Name=\"node_type\" AttributeType=\"Scalar\" Center=\"Node\"><DataItem DataType=\"Int\" "
        << "Dimensions=\"" << kNodes << "\" Format=\"XML\">" << xml_numbers(types)
        << "</DataItem></Attribute></Grid>\n";
    }
    f << "</Grid></Domain></Xdmf>\n";
  };
  write_meshio(out + "/meshio_like.xdmf", kSteps, false);
  d = io::read_foreign(out + "/meshio_like.xdmf", o);
  REQUIRE(d.trajectories.size() == 1);
  CHECK(d.dt == Approx(0.05));
  check_channel(d.trajectories[0], false);
  CHECK(d.trajectories[0].node_types == "from field 'node_type'");
  const auto& types = d.trajectories[0].fields.at("node_type").i32;
  REQUIRE(types.size() == size_t(kNodes));
  for (int64_t i = 0; i < kNodes; ++i) CHECK(types[i] == expected_type(i));

  {
    // A second temporal collection, and an include from another file, would be skipped unread.
    std::ifstream in(out + "/meshio_like.xdmf");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto begin = text.find("<Grid Name=\"TimeSeries_meshio\""), end = text.rfind("</Domain>");
    REQUIRE((begin != std::string::npos && end != std::string::npos));
    std::string twice = text;
    twice.insert(end, text.substr(begin, end - begin));
    std::ofstream(out + "/meshio_two_series.xdmf") << twice;
    check_error([&] { io::read_foreign(out + "/meshio_two_series.xdmf", o); },
                "meshio_two_series.xdmf: 2 temporal collections; tessera reads one trajectory per XDMF file");
    std::string other = text;
    for (auto at = other.find("<xi:include "); at != std::string::npos; at = other.find("<xi:include ", at + 1))
      other.insert(at + 12, "href=\"other.xml\" ");
    std::ofstream(out + "/meshio_href.xdmf") << other;
    check_error([&] { io::read_foreign(out + "/meshio_href.xdmf", o); },
                "includes its Topology from another file ('other.xml'); only includes within the file are read");
  }
  // A long grid name (40,000 characters) in the xpointer: std::regex, which the reader once used
  // for it, overflowed the stack from about 30,000.
  write_meshio(out + "/meshio_long_name.xdmf", kSteps, false, std::string(40000, 'm'));
  CHECK(io::read_foreign(out + "/meshio_long_name.xdmf", o).trajectories.at(0).steps == kSteps);
  write_meshio(out + "/meshio_empty.xdmf", 0, false);
  check_error([&] { io::read_foreign(out + "/meshio_empty.xdmf", o); }, "meshio_empty.xdmf: empty series");
  write_meshio(out + "/meshio_cells.xdmf", 2, true);
  check_error([&] { io::read_foreign(out + "/meshio_cells.xdmf", o); },
              "attribute 'velocity' is centred on Cell; expected Node");
  // Self-contradictory files, each read one way or the other before: the text of meshio_like.xdmf
  // with `from` replaced by `to` (the first occurrence, or each).
  const auto variant = [&](const std::string& name, const std::string& from, const std::string& to, bool each) {
    std::ifstream in(out + "/meshio_like.xdmf");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    for (; at != std::string::npos; at = each ? text.find(from, at + to.size()) : std::string::npos)
      text.replace(at, from.size(), to);
    const std::string path = out + "/" + name + ".xdmf";
    std::ofstream(path) << text;
    return path;
  };
  {
    // GeometryType XY over 3 columns (a constant z was dropped), XYZ over 2 (read as XY).
    std::vector<double> xyz;
    for (int64_t i = 0; i < kNodes; ++i) xyz.insert(xyz.end(), {channel.coords[2 * i], channel.coords[2 * i + 1], 0.0});
    check_error(
        [&] {
          io::read_foreign(
              variant("meshio_xy_3_columns",
                      cat("Dimensions=\"", kNodes, " 2\" Format=\"XML\" Precision=\"8\">", xml_numbers(channel.coords)),
                      cat("Dimensions=\"", kNodes, " 3\" Format=\"XML\" Precision=\"8\">", xml_numbers(xyz)), false),
              o);
        },
        cat("meshio_xy_3_columns.xdmf: step 0: Geometry of grid 'mesh' says XY (2 columns), but its "
            "DataItem has 3 columns (shape [",
            kNodes, ", 3])"));
    check_error(
        [&] {
          io::read_foreign(variant("meshio_xyz_2_columns", "GeometryType=\"XY\"", "GeometryType=\"XYZ\"", false), o);
        },
        "Geometry of grid 'mesh' says XYZ (3 columns), but its DataItem has 2 columns");
  }
  // NumberOfElements or NodesPerElement that the Topology's DataItem contradicts (the rows were read).
  check_error(
      [&] {
        io::read_foreign(variant("meshio_elements", cat("NumberOfElements=\"", channel.num_cells(), "\""),
                                 cat("NumberOfElements=\"", channel.num_cells() - 1, "\""), false),
                         o);
      },
      cat("meshio_elements.xdmf: step 0: Topology of grid 'mesh' says NumberOfElements=\"", channel.num_cells() - 1,
          "\", but its DataItem has ", channel.num_cells(), " rows (shape [", channel.num_cells(), ", 3])"));
  check_error(
      [&] { io::read_foreign(variant("meshio_corners", "NodesPerElement=\"3\"", "NodesPerElement=\"4\"", false), o); },
      "Topology of grid 'mesh' says NodesPerElement=\"4\", but a Triangle has 3 nodes");
  check_error(
      [&] {
        io::read_foreign(variant("meshio_elements_text", cat("NumberOfElements=\"", channel.num_cells(), "\""),
                                 "NumberOfElements=\"many\"", false),
                         o);
      },
      "Topology of grid 'mesh' NumberOfElements: 'many' is not a finite number");
  {
    // Two attributes of one name in a grid (the last was read), and a per-node scalar of N values
    // in another shape (read as if it were [N]).
    std::ifstream in(out + "/meshio_like.xdmf");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto begin = text.find("<Attribute Name=\"velocity\""), end = text.find("</Attribute>", begin);
    REQUIRE((begin != std::string::npos && end != std::string::npos));
    const std::string velocity = text.substr(begin, end + 12 - begin);
    check_error([&] { io::read_foreign(variant("meshio_two_velocities", velocity, velocity + velocity, true), o); },
                "meshio_two_velocities.xdmf: step 0: two attributes named 'velocity'; keep one");
    check_error(
        [&] {
          io::read_foreign(variant("meshio_node_type_shape", cat("Dimensions=\"", kNodes, "\" Format"),
                                   cat("Dimensions=\"", kNodes / 5, " 5\" Format"), false),
                           o);
        },
        cat("node_type: shape [", kNodes / 5, ", 5] at step 0; expected one value per node, [", kNodes, "] or [",
            kNodes, ", 1]"));
  }
  std::ofstream(out + "/not_xdmf.xmf") << "<VTKFile/>\n";
  check_error([&] { io::read_foreign(out + "/not_xdmf.xmf", o); }, "not an XDMF file");

  // Grids that carry their own mesh (tessera's layout), inline: the mesh must not move, Time
  // needs a Value, Dimensions are positive integers.
  auto write_own = [&](const std::string& path, double shift, const std::string& time1, const std::string& dims) {
    std::ofstream f(path);
    f << "<Xdmf Version=\"3.0\"><Domain><Grid Name=\"series\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
    for (int t = 0; t < 2; ++t) {
      std::vector<double> xy(channel.coords), vel;
      if (t == 1) xy[2 * 3 + 1] += shift;
      for (int64_t i = 0; i < kNodes; ++i) vel.push_back(u_at(i, t)), vel.push_back(v_at(i, t));
      f << "<Grid Name=\"s" << t << "\"><Time" << (t == 1 ? time1 : " Value=\"0\"") << "/>"
        << "<Topology TopologyType=\"Triangle\"><DataItem Dimensions=\"" << channel.num_cells()
        << " 3\" Format=\"XML\">" << xml_numbers(std::vector<double>(channel.cells.begin(), channel.cells.end()))
        << "</DataItem></Topology><Geometry GeometryType=\"XY\"><DataItem Dimensions=\""
        << (t == 1 ? dims : cat(kNodes, " 2")) << "\" Format=\"XML\">" << xml_numbers(xy) << "</DataItem></Geometry>"
        << "<Attribute Name=\"velocity\" Center=\"Node\"><DataItem Dimensions=\"" << kNodes << " 2\" Format=\"XML\">"
        << xml_numbers(vel) << "</DataItem></Attribute></Grid>\n";
    }
    f << "</Grid></Domain></Xdmf>\n";
  };
  const std::string own = out + "/xdmf_own.xmf", nodes2 = cat(kNodes, " 2");
  write_own(own, 0, " Value=\"0.1\"", nodes2);
  CHECK(io::read_foreign(own, o).dt == Approx(0.1));
  {
    // A later grid's own Geometry that says XYZ over 2 columns.
    std::ifstream in(own);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string xy = "<Geometry GeometryType=\"XY\">";
    text.replace(text.rfind(xy), xy.size(), "<Geometry GeometryType=\"XYZ\">");
    std::ofstream(out + "/xdmf_own_xyz.xmf") << text;
    check_error([&] { io::read_foreign(out + "/xdmf_own_xyz.xmf", o); },
                "xdmf_own_xyz.xmf: step 1 (grid 's1'): Geometry says XYZ (3 columns), but its DataItem has 2 columns");
  }
  write_own(own, 0.5, " Value=\"0.1\"", nodes2);
  check_error([&] { io::read_foreign(own, o); }, "step 1 (grid 's1'): node 3 is at (3, 0.5), at (3, 0) in step 0;");
  write_own(own, 0, "", nodes2);
  check_error([&] { io::read_foreign(own, o); }, "step 1 (grid 's1'): <Time> has no Value");
  // A grid without a <Time> among stamped ones: refused, also with import.dt set.
  write_own(own, 0, " Value=\"0.1\"", nodes2);
  {
    std::ifstream in(own);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string stamp = "<Time Value=\"0.1\"/>";
    text.erase(text.find(stamp), stamp.size());
    std::ofstream(own) << text;
  }
  io::ImportOptions with_dt = o;
  with_dt.dt = 0.1;
  check_error([&] { io::read_foreign(own, with_dt); },
              "step 1 (grid 's1') has no <Time>, while 1 of the 2 grids have one; give every grid a <Time Value> or "
              "none");
  write_own(own, 0, " Value=\"later\"", nodes2);
  check_error([&] { io::read_foreign(own, o); }, "<Time Value>: 'later' is not a finite number");
  write_own(own, 0, " Value=\"0.1\"", cat(-kNodes, " 2"));
  check_error([&] { io::read_foreign(own, o); },
              cat("DataItem Dimensions '", -kNodes, " 2'; expected positive integers"));
  // 2^32 x 2^32 x 2 values wrap around to 0 in 64 bits: refused before any data is compared.
  write_own(own, 0, " Value=\"0.1\"", "4294967296 4294967296 2");
  check_error([&] { io::read_foreign(own, o); },
              "Geometry: DataItem Dimensions '4294967296 4294967296 2' describe more than 1e15 values");
  std::ofstream(out + "/broken.xmf") << "<Xdmf><Domain>";
  check_error([&] { io::read_foreign(out + "/broken.xmf", o); }, "broken.xmf: not a well-formed XML file (");

  // A damaged file nested a million elements deep (7 MB) overflowed the stack, in the reader's
  // search for grids and in VTK's destructor of the tree; the .pvd of a VTU series, too.
  const auto write_deep = [](const std::string& path, const std::string& head, const std::string& tail) {
    std::ofstream f(path);
    f << head;
    for (int k = 0; k < 1000000; ++k) f << "<a>";
    for (int k = 0; k < 1000000; ++k) f << "</a>";
    f << tail;
  };
  write_deep(out + "/deep.xmf", "<Xdmf><Domain>", "</Domain></Xdmf>");
  check_error([&] { io::read_foreign(out + "/deep.xmf", o); }, "deep.xmf: no temporal collection");
  write_deep(out + "/deep.pvd", "<VTKFile type=\"Collection\"><Collection>", "</Collection></VTKFile>");
  check_error([&] { io::read_foreign(out + "/deep.pvd", o); }, "deep.pvd: empty series (no DataSet entries)");
}
