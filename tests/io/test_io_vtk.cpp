// VTK output read back with VTK's own XML readers.
#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLDataParser.h>
#include <vtkXMLUnstructuredGridReader.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "core/exact_text.hpp"
#include "io/vtk.hpp"
#include "tests/mesh_fixtures.hpp"
#include "tests/test_paths.hpp"

using namespace tessera;
static const std::string vtk_out = tessera::test::test_out() + "/vtk";

TEST_CASE("vtu round trip through vtkXMLUnstructuredGridReader", "[vtk]") {
  std::filesystem::create_directories(vtk_out);
  mesh::Mesh m = test::irregular_mesh(4, 3, 9);
  // Cells that use the nodes in another order than their numbers (the writer numbered points in
  // order of first use, so point i was not node i).
  const int64_t last = m.num_cells() - 1;
  for (int64_t c = 0; c < m.num_cells() / 2; ++c)
    std::swap_ranges(m.cells.begin() + 3 * c, m.cells.begin() + 3 * c + 3, m.cells.begin() + 3 * (last - c));
  io::Field u{"velocity", 2, false, {}}, id{"cell_id", 1, true, {}};
  io::Field type{"node_type", 1, false, {}, /*integer=*/true};
  for (int64_t i = 0; i < m.num_nodes(); ++i) u.data.insert(u.data.end(), {m.coords[2 * i], -1.0 * i});
  for (int64_t i = 0; i < m.num_nodes(); ++i) type.data.push_back(double(i % 7));
  for (int64_t c = 0; c < m.num_cells(); ++c) id.data.push_back(double(c));
  io::write_vtu(vtk_out + "/m.vtu", m, {u, id, type}, "deck: 1\n");
  vtkNew<vtkXMLUnstructuredGridReader> r;
  r->SetFileName((vtk_out + "/m.vtu").c_str());
  r->Update();
  vtkUnstructuredGrid* g = r->GetOutput();
  REQUIRE(g->GetNumberOfPoints() == m.num_nodes());
  REQUIRE(g->GetNumberOfCells() == m.num_cells());
  vtkDataArray* a = g->GetPointData()->GetArray("velocity");
  REQUIRE(a);
  CHECK(a->GetNumberOfComponents() == 3);
  // Point i is node i (as in the XDMF files and datasets) and carries its values (u = (x, -i)).
  for (vtkIdType p = 0; p < g->GetNumberOfPoints(); ++p) {
    double x[3];
    g->GetPoint(p, x);
    CHECK(x[0] == m.coords[2 * p]);
    CHECK(x[1] == m.coords[2 * p + 1]);
    CHECK(a->GetComponent(p, 0) == x[0]);
    CHECK(a->GetComponent(p, 1) == -1.0 * p);
    CHECK(a->GetComponent(p, 2) == 0.0);
  }
  for (vtkIdType c = 0; c < g->GetNumberOfCells(); ++c)
    for (int k = 0; k < 3; ++k) CHECK(g->GetCell(c)->GetPointId(k) == m.cells[3 * c + k]);
  // Node types as 32-bit integers.
  vtkDataArray* types = g->GetPointData()->GetArray("node_type");
  REQUIRE(types);
  CHECK(types->GetDataType() == VTK_INT);
  for (vtkIdType p = 0; p < g->GetNumberOfPoints(); ++p) CHECK(types->GetComponent(p, 0) == double(p % 7));
  vtkDataArray* cell_id = g->GetCellData()->GetArray("cell_id");
  REQUIRE(cell_id);
  for (int64_t c = 0; c < m.num_cells(); ++c) CHECK(cell_id->GetComponent(c, 0) == double(c));
  // 8-bit characters (VTK reads its Int8 back as a signed-char array): meshio reads them too.
  auto* deck = vtkDataArray::SafeDownCast(g->GetFieldData()->GetAbstractArray("tessera_deck"));
  REQUIRE(deck);
  CHECK(deck->GetDataTypeSize() == 1);
  std::string text;
  for (vtkIdType i = 0; i < deck->GetNumberOfTuples(); ++i) text += static_cast<char>(deck->GetComponent(i, 0));
  CHECK(text == "deck: 1\n");
  double area = 0;
  for (vtkIdType c = 0; c < g->GetNumberOfCells(); ++c) {
    double p[3][3];
    auto* cell = g->GetCell(c);
    for (int k = 0; k < 3; ++k) g->GetPoint(cell->GetPointId(k), p[k]);
    area += 0.5 * ((p[1][0] - p[0][0]) * (p[2][1] - p[0][1]) - (p[2][0] - p[0][0]) * (p[1][1] - p[0][1]));
  }
  CHECK(area == Approx(12.0));  // 4 x 3 grid, jitter keeps the boundary
}

TEST_CASE("pvd collection parsed by VTK's XML parser, steps read back", "[vtk]") {
  std::filesystem::create_directories(vtk_out);
  mesh::Mesh m = test::grid_mesh(2, 2);
  io::PvdCollection pvd(vtk_out + "/series.pvd");
  // Times that 6 digits do not hold (VTK's own double attribute kept 6: ParaView then saw other
  // times than the run's .xmf), with round-off that 15 digits do not show (as the .xmf's).
  const auto time = [](int s) { return 0.1 * 3.5 * s + 1e-9 * s; };  // 0.35000000100000003 for s = 1
  for (int s = 0; s < 3; ++s) {
    io::Field f{"f", 1, false, std::vector<double>(m.num_nodes(), double(s))};
    const std::string name = "step" + std::to_string(s) + ".vtu";
    io::write_vtu(vtk_out + "/" + name, m, {f});
    pvd.add(time(s), name);
  }
  vtkNew<vtkXMLDataParser> p;
  p->SetFileName((vtk_out + "/series.pvd").c_str());
  REQUIRE(p->Parse() == 1);
  vtkXMLDataElement* root = p->GetRootElement();
  CHECK(std::string(root->GetAttribute("type")) == "Collection");
  vtkXMLDataElement* coll = root->GetNestedElement(0);
  REQUIRE(coll->GetNumberOfNestedElements() == 3);
  for (int s = 0; s < 3; ++s) {
    vtkXMLDataElement* ds = coll->GetNestedElement(s);
    CHECK(std::string(ds->GetAttribute("timestep")) == core::time_text(time(s)));
    CHECK(std::stod(ds->GetAttribute("timestep")) == Approx(time(s)).epsilon(1e-15));
    if (s == 1) CHECK(std::string(ds->GetAttribute("timestep")) == "0.350000001");
    vtkNew<vtkXMLUnstructuredGridReader> r;
    r->SetFileName((vtk_out + "/" + ds->GetAttribute("file")).c_str());
    r->Update();
    CHECK(r->GetOutput()->GetPointData()->GetArray("f")->GetComponent(0, 0) == double(s));
  }
}

// The .pvd is rewritten at a pace (core/rewrite_pacer.hpp), and lists every step after finish()
// and after its destructor (the path an error takes), which write what it lags.
TEST_CASE("pvd collection: rewritten at a pace, whole at finish and when destroyed", "[vtk]") {
  std::filesystem::create_directories(vtk_out);
  auto entries = [](const std::string& path) {
    vtkNew<vtkXMLDataParser> p;
    p->SetFileName(path.c_str());
    REQUIRE(p->Parse() == 1);
    return p->GetRootElement()->GetNestedElement(0)->GetNumberOfNestedElements();
  };
  const int steps = 3000;
  {
    io::PvdCollection pvd(vtk_out + "/paced.pvd");
    for (int s = 0; s < steps; ++s) pvd.add(0.1 * s, "step" + std::to_string(s) + ".vtu");
    INFO(pvd.index_writes() << " writes of the .pvd for " << steps << " steps");
    CHECK(pvd.index_writes() > 10);
    CHECK(pvd.index_writes() < steps / 2);
    pvd.finish();
  }
  CHECK(entries(vtk_out + "/paced.pvd") == steps);
  {
    io::PvdCollection pvd(vtk_out + "/dropped.pvd");
    for (int s = 0; s < steps; ++s) pvd.add(0.1 * s, "step" + std::to_string(s) + ".vtu");
  }
  CHECK(entries(vtk_out + "/dropped.pvd") == steps);
}
