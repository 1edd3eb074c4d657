// Foreign datasets (io/foreign.hpp), XDMF3 time series (tessera's layout and meshio's xi:include
// layout, written by hand), read back into tessera trajectories, and malformed inputs.
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tests/io/import_fixtures.hpp"

using namespace tessera;
using namespace tessera::test::foreign;

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
    // A heavy-data file that is not there (meshio writes it into the working directory): named
    // with the .xmf and the DataItem that refers to it.
    std::string moved = text;
    for (size_t at = moved.find(">flow_"); at != std::string::npos; at = moved.find(">flow_", at + 1))
      moved.insert(at + 1, "elsewhere/");
    std::ofstream(out + "/xdmf_tessera/moved.xmf") << moved;
    check_error([&] { io::read_foreign(out + "/xdmf_tessera/moved.xmf", o); },
                "elsewhere/flow_mesh.h5: file not found (" + out +
                    "/xdmf_tessera/moved.xmf: step 0 (grid 'step_0') Geometry names 'elsewhere/flow_mesh.h5:/coords', "
                    "relative to the .xdmf's folder; meshio's TimeSeriesWriter writes it into the folder it ran in: "
                    "move it beside the .xdmf)");
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
    // Velocity under another name: the error lists the attributes there are.
    check_error(
        [&] { io::read_foreign(variant("meshio_Velocity", "Name=\"velocity\"", "Name=\"Velocity\"", true), o); },
        "no attribute 'velocity'; velocity is required (attributes: Velocity", "fields.velocity");
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
