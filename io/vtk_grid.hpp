// Internal to io/ (includes VTK): a mesh as a vtkUnstructuredGrid, for the VTK writers and the
// image sampler.
#pragma once
#include <vtkSmartPointer.h>
#include <vtkUnstructuredGrid.h>

#include <string>
#include <vector>

#include "io/field.hpp"
#include "mesh/mesh.hpp"

namespace tessera::io {

// The listed cells and the nodes they reference, with the fields (node fields sliced to those
// nodes) and `deck_yaml` as field data "tessera_deck" when given. All cells: every node, in the
// mesh's order. Some cells (a parallel piece): the nodes they use in order of first use, with
// their mesh numbers as the point global ids "node_id".
// `piece`: the grid is one part of a parallel file (node_id always; a rank may own every cell).
vtkSmartPointer<vtkUnstructuredGrid> make_vtk_grid(const mesh::Mesh& m, const std::vector<Field>& fields,
                                                   const std::vector<int64_t>& cells, const std::string& deck_yaml,
                                                   bool piece = false);

}  // namespace tessera::io
