#include "io/vtk.hpp"

#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkCharArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkIdTypeArray.h>
#include <vtkIntArray.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLPUnstructuredGridWriter.h>
#include <vtkXMLUnstructuredGridWriter.h>

#include "io/vtk_grid.hpp"
#include "io/vtk_write.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_MPI
#include <vtkMPI.h>
#include <vtkMPICommunicator.h>
#include <vtkMPIController.h>
#endif

#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/exact_text.hpp"
#include "core/on_root.hpp"

namespace tessera::io {
namespace {

namespace fs = std::filesystem;

int vtk_cell_type(mesh::CellType t) {
  switch (t) {
    case mesh::CellType::Triangle:
      return 5;  // VTK_TRIANGLE
    case mesh::CellType::Quad:
      return 9;  // VTK_QUAD
    case mesh::CellType::Tetrahedron:
      return 10;  // VTK_TETRA
  }
  return 0;
}

// VTK's parallel writer with the pieces left out: each rank has written its piece itself (see
// write_pvtu), so VTK only gathers which ranks have one and writes the .pvtu index that lists them
// (the piece of a rank without points is not listed, as before).
class PvtuIndexWriter : public vtkXMLPUnstructuredGridWriter {
 public:
  static PvtuIndexWriter* New();
  vtkTypeMacro(PvtuIndexWriter, vtkXMLPUnstructuredGridWriter);

 protected:
  int WritePiece(int) override { return 1; }
};
vtkStandardNewMacro(PvtuIndexWriter);

}  // namespace

vtkSmartPointer<vtkUnstructuredGrid> make_vtk_grid(const mesh::Mesh& m, const std::vector<Field>& fields,
                                                   const std::vector<int64_t>& cells, const std::string& deck_yaml,
                                                   bool piece) {
  const int npc = mesh::nodes_per_cell(m.cell_type);
  // The whole mesh keeps its node numbers (point i is node i, as in the XDMF and HDF5 files and the
  // datasets: they were renumbered in order of first use, and numpy comparisons by index were
  // silently wrong). A piece holds the nodes its cells use, with their mesh numbers as ParaView's
  // global ids ("node_id"), also on a rank that owns every cell (the index declares node_id).
  std::vector<int64_t> local(m.num_nodes(), -1), global;
  if (!piece) {
    global.resize(m.num_nodes());
    std::iota(global.begin(), global.end(), 0);
    local = global;
  } else {
    for (int64_t c : cells)
      for (int k = 0; k < npc; ++k) {
        int64_t v = m.cells[c * npc + k];
        if (local[v] < 0) local[v] = static_cast<int64_t>(global.size()), global.push_back(v);
      }
  }
  auto grid = vtkSmartPointer<vtkUnstructuredGrid>::New();
  vtkNew<vtkPoints> pts;
  pts->SetDataTypeToDouble();
  pts->SetNumberOfPoints(static_cast<vtkIdType>(global.size()));
  for (size_t i = 0; i < global.size(); ++i) {
    double x[3] = {0, 0, 0};
    for (int k = 0; k < m.dim; ++k) x[k] = m.coords[global[i] * m.dim + k];
    pts->SetPoint(static_cast<vtkIdType>(i), x);
  }
  grid->SetPoints(pts);
  if (piece) {
    vtkNew<vtkIdTypeArray> ids;
    ids->SetName("node_id");
    ids->SetNumberOfTuples(static_cast<vtkIdType>(global.size()));
    for (size_t i = 0; i < global.size(); ++i) ids->SetValue(static_cast<vtkIdType>(i), global[i]);
    grid->GetPointData()->SetGlobalIds(ids);
  }
  grid->Allocate(static_cast<vtkIdType>(cells.size()));
  std::vector<vtkIdType> ids(npc);
  for (int64_t c : cells) {
    for (int k = 0; k < npc; ++k) ids[k] = local[m.cells[c * npc + k]];
    grid->InsertNextCell(vtk_cell_type(m.cell_type), npc, ids.data());
  }
  for (const Field& f : fields) {
    const int64_t rows = f.on_cells ? m.num_cells() : m.num_nodes();
    if (static_cast<int64_t>(f.data.size()) != rows * f.channels)
      throw Error(
          cat("VTK output: field '", f.name, "' has ", f.data.size(), " values; expected ", rows, " x ", f.channels));
    const int sc = stored_channels(f);
    vtkSmartPointer<vtkDataArray> a;
    if (f.integer)
      a = vtkSmartPointer<vtkIntArray>::New();
    else
      a = vtkSmartPointer<vtkDoubleArray>::New();
    a->SetName(f.name.c_str());
    a->SetNumberOfComponents(sc);
    const int64_t n = static_cast<int64_t>(f.on_cells ? cells.size() : global.size());
    a->SetNumberOfTuples(n);
    for (int64_t r = 0; r < n; ++r) {
      const int64_t src = f.on_cells ? cells[r] : global[r];
      for (int k = 0; k < sc; ++k) a->SetComponent(r, k, k < f.channels ? f.data[src * f.channels + k] : 0.0);
    }
    if (f.on_cells)
      grid->GetCellData()->AddArray(a);
    else
      grid->GetPointData()->AddArray(a);
  }
  if (!deck_yaml.empty()) {
    // The deck's text as 8-bit characters: meshio (5.x, Debian's) cannot read VTK's String arrays.
    vtkNew<vtkCharArray> s;
    s->SetName("tessera_deck");
    s->SetNumberOfValues(static_cast<vtkIdType>(deck_yaml.size()));
    for (size_t i = 0; i < deck_yaml.size(); ++i) s->SetValue(static_cast<vtkIdType>(i), deck_yaml[i]);
    grid->GetFieldData()->AddArray(s);
  }
  return grid;
}

void write_vtu(const std::string& path, const mesh::Mesh& m, const std::vector<Field>& fields,
               const std::string& deck_yaml) {
  core::ensure_parent_dir(path);
  std::vector<int64_t> all(m.num_cells());
  std::iota(all.begin(), all.end(), 0);
  auto grid = make_vtk_grid(m, fields, all, deck_yaml);
  vtkNew<vtkXMLUnstructuredGridWriter> w;
  w->SetInputData(grid);
  w->SetDataModeToBinary();
  write_atomically(*w, path);
}

void write_pvtu(const std::string& path, const mesh::Mesh& m, const std::vector<Field>& fields, const Comm& comm,
                const std::string& deck_yaml, const std::vector<int32_t>& cell_rank) {
  // Pieces and index are written into a hidden staging directory beside the target, then moved
  // out: pieces first, the .pvtu last, so the index never points at a missing piece.
  const fs::path target(path);
  const fs::path stage = target.parent_path() / cat(".", target.filename().string(), ".tmp");
  core::TemporaryOutput staging(stage.string(), comm.root());  // removed at the end in any case
  run_on_root(comm, [&] { fs::create_directories(stage); });
  std::vector<int64_t> mine;
  if (cell_rank.empty()) {
    auto [c0, c1] = block_range(m.num_cells(), comm.size(), comm.rank());
    for (int64_t c = c0; c < c1; ++c) mine.push_back(c);
  } else {
    if (static_cast<int64_t>(cell_rank.size()) != m.num_cells())
      throw Error(cat(path, ": cell_rank has the wrong size"));
    for (int64_t c = 0; c < m.num_cells(); ++c)
      if (cell_rank[c] == comm.rank()) mine.push_back(c);
  }
  std::vector<Field> with_rank = fields;
  Field rank{"rank", 1, true, std::vector<double>(m.num_cells(), double(comm.rank())), /*integer=*/true};
  with_rank.push_back(rank);
  auto grid = make_vtk_grid(m, with_rank, mine, deck_yaml, /*piece=*/true);
  const std::string stem = target.stem().string();
  const std::string piece = stem + "_" + std::to_string(comm.rank()) + ".vtu";
  // Each rank writes its piece itself, with the serial writer from memory, and VTK's parallel
  // writer only the index: VTK 9.1's piece writer crashed now and then on a full disk (its
  // out-of-disk path frees position arrays that the binary mode never made: a segmentation fault
  // in DeletePositionArrays, 17 of 25 runs of test_parallel_io.np2 on a loaded machine), where
  // this is a clean error on that rank.
  run_on_every_rank(comm, [&] {
    if (mine.empty()) return;
    vtkNew<vtkXMLUnstructuredGridWriter> piece_writer;
    piece_writer->SetInputData(grid);
    piece_writer->SetDataModeToBinary();
    write_atomically(*piece_writer, (stage / piece).string());
  });
  vtkNew<PvtuIndexWriter> w;
  w->SetInputData(grid);
  w->SetFileName((stage / target.filename()).string().c_str());
  w->SetNumberOfPieces(comm.size());
  w->SetStartPiece(comm.rank());
  w->SetEndPiece(comm.rank());
  w->SetWriteSummaryFile(1);  // every rank takes part; only rank 0 writes the index
  w->SetDataModeToBinary();
#if TESSERA_HAVE_MPI
  // VTK's controller on our communicator lets rank 0's index list every rank's piece.
  MPI_Comm mpi_comm = comm.mpi();
  vtkMPICommunicatorOpaqueComm opaque(&mpi_comm);
  vtkNew<vtkMPICommunicator> vcomm;
  vcomm->InitializeExternal(&opaque);
  vtkNew<vtkMPIController> controller;
  controller->SetCommunicator(vcomm);
  w->SetController(controller);
#endif
  const int wrote = w->Write();
  // The parallel writer reports an index it could not write (a full disk) by its error code
  // alone, returning success: every rank learns of any failure before anything is moved out.
  run_on_every_rank(comm, [&] {
    const std::string reason = vtk_error(w->GetErrorCode());
    if (wrote != 1 || !reason.empty())
      throw Error(cat(path, ": VTK could not write the index", comm.root() ? "" : cat(" (rank ", comm.rank(), ")"),
                      ": ", reason.empty() ? "its writer failed" : reason));
  });
  // A rank with no cells (more ranks than cells, or an empty part) gets no piece from VTK, and the
  // index lists none for it.
  run_on_every_rank(comm, [&] {
    if (!mine.empty()) core::commit_temp((stage / piece).string(), (target.parent_path() / piece).string());
  });
  run_on_root(comm, [&] { core::commit_temp((stage / target.filename()).string(), path); });
}

void PvdCollection::add(double time, const std::string& file) {
  entries_.emplace_back(time, file);
  pacer_.rewrite_if_due([&] { write(); });
}

void PvdCollection::finish() {
  if (indexed_ < entries_.size()) write();
}

PvdCollection::~PvdCollection() {
  if (indexed_ == entries_.size()) return;
  try {
    write();
  } catch (...) {  // the error that unwinds this series is the one to report
  }
}

void PvdCollection::write() {
  vtkNew<vtkXMLDataElement> root;
  root->SetName("VTKFile");
  root->SetAttribute("type", "Collection");
  root->SetAttribute("version", "0.1");
  root->SetAttribute("byte_order", "LittleEndian");
  vtkNew<vtkXMLDataElement> coll;
  coll->SetName("Collection");
  for (const auto& [t, f] : entries_) {
    vtkNew<vtkXMLDataElement> ds;
    ds->SetName("DataSet");
    // To 15 digits (VTK's SetDoubleAttribute keeps 6: ParaView then saw two times where the run's
    // .xmf has one).
    ds->SetAttribute("timestep", core::time_text(t).c_str());
    ds->SetAttribute("part", "0");
    ds->SetAttribute("file", f.c_str());
    coll->AddNestedElement(ds);
  }
  root->AddNestedElement(coll);
  std::ostringstream os;
  os << "<?xml version=\"1.0\"?>\n";
  root->PrintXML(os, vtkIndent());
  core::write_text_atomic(path_, os.str());
  indexed_ = entries_.size();
  ++index_writes_;
}

}  // namespace tessera::io
