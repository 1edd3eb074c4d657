// Gmsh layer: the built-in cylinder channel against its geometry, .msh 4.1 round trips, .geo
// meshing, and hand-written .msh files.
#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/graph.hpp"
#include "mesh/validation.hpp"
#include "tests/file_size_limit.hpp"
#include "tests/test_paths.hpp"

using namespace tessera;
static const std::string data = tessera::test::source_dir() + "/tests/data/";
static const std::string out = tessera::test::test_out() + "/gmsh/";

TEST_CASE("cylinder channel: geometry, groups, refinement", "[gmsh]") {
  mesh::CylinderChannel c;  // DFG: 2.2 x 0.41, centre (0.2, 0.2), r 0.05
  mesh::Mesh m = mesh::build_cylinder_channel(c);
  REQUIRE_NOTHROW(mesh::validate(m));
  CHECK(m.dim == 2);
  CHECK(m.cell_type == mesh::CellType::Triangle);
  double area = 0;
  for (int64_t k = 0; k < m.num_cells(); ++k) area += mesh::signed_measure(m, k);
  // The triangulation covers the channel minus a polygon inscribed in the circle.
  const double exact = c.length * c.height - M_PI * c.radius * c.radius;
  CHECK(area == Approx(exact).epsilon(2e-4));
  auto x = [&](int64_t n) { return m.coords[2 * n]; };
  auto y = [&](int64_t n) { return m.coords[2 * n + 1]; };
  for (const char* name : {"inflow", "outflow", "walls", "cylinder"}) REQUIRE(m.find_group(name));
  for (int64_t n : m.find_group("inflow")->nodes()) CHECK(std::abs(x(n)) < 1e-12);
  for (int64_t n : m.find_group("outflow")->nodes()) CHECK(std::abs(x(n) - c.length) < 1e-12);
  for (int64_t n : m.find_group("walls")->nodes()) CHECK((std::abs(y(n)) < 1e-12 || std::abs(y(n) - c.height) < 1e-12));
  auto cyl = m.find_group("cylinder")->nodes();
  for (int64_t n : cyl) CHECK(std::hypot(x(n) - c.cx, y(n) - c.cy) == Approx(c.radius).epsilon(1e-9));
  // Spacing near the cylinder follows h_near: perimeter / number of boundary nodes.
  CHECK(2 * M_PI * c.radius / cyl.size() == Approx(c.h_near).epsilon(0.25));

  mesh::assign_node_types(m, mesh::cylinder_node_types());
  auto counts = mesh::node_type_counts(m);
  CHECK(counts[mesh::kWall] == int64_t(m.find_group("walls")->nodes().size() + cyl.size()));
  CHECK(counts[mesh::kInflow] == int64_t(m.find_group("inflow")->nodes().size()) - 2);  // corners are walls

  c.h_near /= 2;
  c.h_far /= 2;
  CHECK(mesh::build_cylinder_channel(c).num_nodes() > 3 * m.num_nodes());
  c.cx = 2.19;
  CHECK_THROWS_WITH(mesh::build_cylinder_channel(c), Catch::Contains("strictly inside"));
}

TEST_CASE(".msh 4.1 round trip", "[gmsh]") {
  mesh::CylinderChannel c;
  c.h_near = 0.02;
  c.h_far = 0.08;
  mesh::Mesh m = mesh::build_cylinder_channel(c);
  std::filesystem::create_directories(out);
  {
    // Gmsh does not check its writes: a full disk left a truncated .msh, moved into place.
    tessera::test::FileSizeLimit full(16 * 1024);
    CHECK_THROWS_WITH(mesh::write_msh(m, out + "full.msh"),
                      Catch::StartsWith(out + "full.msh: Gmsh did not write the whole file (is the disk full?)"));
  }
  CHECK_FALSE(std::filesystem::exists(out + "full.msh"));
  CHECK_FALSE(std::filesystem::exists(out + "full.msh.tmp.msh"));
  mesh::write_msh(m, out + "roundtrip.msh");
  CHECK_FALSE(std::filesystem::exists(out + "roundtrip.msh.tmp.msh"));
  mesh::Mesh r = mesh::read_msh(out + "roundtrip.msh");
  REQUIRE(r.num_nodes() == m.num_nodes());
  REQUIRE(r.cells == m.cells);
  for (size_t i = 0; i < m.coords.size(); ++i) CHECK(r.coords[i] == Approx(m.coords[i]).epsilon(0).margin(1e-15));
  // The cells' group keeps its name (it was written back as "domain" whatever the source said).
  CHECK(m.domain_name == "fluid");
  CHECK(r.domain_name == "fluid");
  REQUIRE(r.groups.size() == m.groups.size());
  for (const auto& g : m.groups) {
    const mesh::PhysicalGroup* rg = r.find_group(g.name);
    REQUIRE(rg);
    CHECK(rg->nodes() == g.nodes());
    CHECK(rg->num_facets() == g.num_facets());
  }
}

TEST_CASE(".geo meshing and a hand-written .msh", "[gmsh]") {
  mesh::Mesh g = mesh::mesh_from_geo(data + "square.geo");
  double area = 0;
  for (int64_t k = 0; k < g.num_cells(); ++k) area += mesh::signed_measure(g, k);
  CHECK(area == Approx(1.0));
  CHECK(g.find_group("inflow"));
  CHECK(g.find_group("walls")->nodes().size() == 10);  // two sides of 4 segments each
  mesh::Mesh s = mesh::read_msh(data + "square.msh");
  CHECK(s.num_nodes() == 5);
  CHECK(s.num_cells() == 4);
  CHECK(s.find_group("inflow")->nodes() == std::vector<int64_t>{0, 1});
  CHECK(mesh::mesh_graph(s).num_edges() == 16);
  CHECK_THROWS_WITH(mesh::read_msh(data + "missing.msh"), Catch::Contains("missing.msh: file not found"));
}

TEST_CASE(".geo meshes: the node limit is a lower bound, refusing mistyped sizes at once", "[gmsh]") {
  std::filesystem::create_directories(out);
  // Uniform squares (triangles and quads) written here, and a graded two-surface channel.
  auto square = [&](const std::string& name, double h, bool quads) {
    std::ifstream in(data + "square.geo");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("h = 0.25;"), 9, cat("h = ", h, ";"));
    if (quads) text += "Recombine Surface{1};\n";
    std::ofstream(out + name) << text;
    return out + name;
  };
  // A thin annulus far from the origin, its hole's loop written either way round (Gmsh keeps it as
  // written: an area summed by orientation would add the hole instead of subtracting it).
  auto annulus = [&](const std::string& name, bool hole_reversed) {
    std::ostringstream g;
    g << "SetFactory(\"Built-in\");\nh = 0.02;\nPoint(1) = {1000, 1000, 0, h};\n";
    for (int i = 0; i < 4; ++i) {
      const double c = std::cos(i * M_PI / 2), s = std::sin(i * M_PI / 2);
      g << "Point(" << 2 + i << ") = {" << 1000 + c << ", " << 1000 + s << ", 0, h};\n";
      g << "Point(" << 6 + i << ") = {" << 1000 + 0.9 * c << ", " << 1000 + 0.9 * s << ", 0, h};\n";
    }
    for (int i = 0; i < 4; ++i) {
      g << "Circle(" << 1 + i << ") = {" << 2 + i << ", 1, " << 2 + (i + 1) % 4 << "};\n";
      g << "Circle(" << 5 + i << ") = {" << 6 + i << ", 1, " << 6 + (i + 1) % 4 << "};\n";
    }
    g << "Curve Loop(1) = {1, 2, 3, 4};\n";
    g << (hole_reversed ? "Curve Loop(2) = {-8, -7, -6, -5};\n" : "Curve Loop(2) = {5, 6, 7, 8};\n");
    g << "Plane Surface(1) = {1, 2};\nPhysical Curve(\"walls\") = {1, 2, 3, 4, 5, 6, 7, 8};\n";
    g << "Physical Surface(\"fluid\") = {1};\n";
    std::ofstream(out + name) << g.str();
    return out + name;
  };
  for (const std::string& path :
       {data + "square.geo", square("square_002.geo", 0.02, false), square("square_quads.geo", 0.02, true),
        data + "graded_channel.geo", annulus("annulus.geo", false), annulus("annulus_reversed.geo", true)}) {
    INFO(path);
    const int64_t nodes = mesh::mesh_from_geo(path).num_nodes();
    // A limit equal to the true count passes (the estimate is a lower bound) ...
    CHECK(mesh::mesh_from_geo(path, nodes).num_nodes() == nodes);
    // ... and the bound is not vacuous: a limit of a tenth of the nodes is refused.
    CHECK_THROWS_WITH(mesh::mesh_from_geo(path, nodes / 10),
                      Catch::Contains("nodes (estimated from its boundary mesh)"));
  }
  // A size of 1e-5 on the unit square (10^10 nodes) is refused from the 1-D mesh, in seconds.
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(mesh::mesh_from_geo(data + "bad/meshes/tiny_size.geo"),
                    Catch::Contains("tiny_size.geo: its mesh sizes give at least") &&
                        Catch::Contains("more than the limit of 5000000 (mesh.max_nodes)"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("Gmsh leaves the OpenMP thread count as it found it", "[gmsh]") {
  auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  REQUIRE(get);  // libgmsh brings the OpenMP runtime
  set(3);
  mesh::CylinderChannel c;
  c.h_near = 0.03;
  c.h_far = 0.08;
  mesh::build_cylinder_channel(c);
  CHECK(get() == 3);
}

// Each Gmsh start appended its folder to PATH and PYTHONPATH: a dataset job of N trajectories
// (one session each) leaked ~23 N^2 bytes, and PATH grew past what a process may pass on.
TEST_CASE("Gmsh sessions leave PATH and PYTHONPATH as they found them", "[gmsh]") {
  const std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PYTHONPATH", "/opt/own", 1);
  mesh::CylinderChannel c;
  c.h_near = 0.03;
  c.h_far = 0.08;
  for (int i = 0; i < 3; ++i) mesh::build_cylinder_channel(c);
  CHECK(std::string(std::getenv("PATH") ? std::getenv("PATH") : "") == path);
  CHECK(std::string(std::getenv("PYTHONPATH") ? std::getenv("PYTHONPATH") : "") == "/opt/own");
  unsetenv("PYTHONPATH");  // and unset stays unset
  mesh::build_cylinder_channel(c);
  CHECK(std::getenv("PYTHONPATH") == nullptr);
}

TEST_CASE("cylinder channel: node estimate and the node limit", "[gmsh]") {
  // The estimate is within a factor 1.6 of what Gmsh makes, coarse and fine.
  for (double h_near : {0.01, 0.002}) {
    mesh::CylinderChannel c;
    c.h_near = h_near;
    const double estimate = mesh::estimate_cylinder_nodes(c),
                 actual = double(mesh::build_cylinder_channel(c).num_nodes());
    INFO("h_near " << h_near << ": estimate " << estimate << ", Gmsh " << actual);
    CHECK(estimate > actual / 1.6);
    CHECK(estimate < actual * 1.6);
  }
  // A transition far wider than the channel: the channel is at h_near throughout, no more (the
  // estimate grew without bound, refusing such meshes and overflowing its print at 1e9).
  for (double transition : {10.0, 1000.0, 1e9}) {
    mesh::CylinderChannel wide;
    wide.h_near = 0.02;
    wide.h_far = 0.05;
    wide.transition = transition;
    const double channel_at_h_near = (wide.length * wide.height) / (0.87 * 0.02 * 0.02);
    INFO("transition " << transition);
    CHECK(mesh::estimate_cylinder_nodes(wide) <= channel_at_h_near);
  }
  mesh::CylinderChannel wide;
  wide.h_near = 0.02;
  wide.h_far = 0.05;
  wide.transition = 1000;
  CHECK(mesh::build_cylinder_channel(wide).num_nodes() > 0);
  // A mistyped size is refused before Gmsh runs (it used to crash inside Gmsh), naming the key.
  mesh::CylinderChannel tiny;
  tiny.h_near = 1e-9;
  try {
    mesh::build_cylinder_channel(tiny);
    FAIL("h_near = 1e-9 was meshed");
  } catch (const Error& e) {
    CHECK(e.key() == "mesh.cylinder.h_near");
    CHECK_THAT(e.what(), Catch::Contains("nodes (estimated), more than the limit of 5000000"));
  }
}

TEST_CASE(".msh: a truncated file names the unclosed section", "[gmsh]") {
  // good.msh cut before $EndNodes: Gmsh reads it without cells; the error must say why.
  std::ifstream in(data + "bad/meshes/good.msh");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const size_t end_nodes = text.find("$EndNodes");
  REQUIRE(end_nodes != std::string::npos);
  std::filesystem::create_directories(out);
  const std::string cut = out + "cut_before_end_nodes.msh";
  std::ofstream(cut) << text.substr(0, end_nodes);
  CHECK_THROWS_WITH(mesh::read_msh(cut), Catch::Contains("cut_before_end_nodes.msh: section $Nodes (line ") &&
                                             Catch::Contains("is not closed by $EndNodes") &&
                                             !Catch::Contains("msh: " + out));
}

TEST_CASE(".msh: files on which Gmsh itself crashes are one Error", "[gmsh]") {
  // Found by fuzz_msh: Gmsh 4.8 frees a non-heap pointer, frees twice or dereferences a bad curve
  // on these (read in-process they killed the run; Gmsh now reads in a child process). The first
  // three have node blocks larger than their $Nodes total, which read_msh now refuses by line
  // before Gmsh reads; the last still reaches Gmsh.
  for (const char* name : {"avl_double_free", "entities_bad_bytes_delete_mismatch", "entities_freecurve_segv",
                           "section_line_with_control_byte"}) {
    const std::string path = data + "bad/fuzz/msh/" + name + ".msh";
    INFO(path);
    try {
      mesh::validate(mesh::read_msh(path), path);
      FAIL("read without an error");
    } catch (const Error& e) {
      const std::string what = e.what();
      if (std::string(name) == "section_line_with_control_byte")
        CHECK_THAT(what, Catch::StartsWith(path + ": "));  // the crash, or the unclosed section found after it
      else
        CHECK_THAT(what, Catch::StartsWith(path + ":") && Catch::Contains(" of $Nodes states "));
      WARN(what);
    }
  }
  // The mesh comes back from the child whole.
  const mesh::Mesh m = mesh::read_msh(data + "bad/meshes/good.msh");
  CHECK(m.num_nodes() > 0);
  CHECK(m.num_cells() > 0);
  CHECK_FALSE(m.groups.empty());
}
