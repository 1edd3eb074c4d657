// A mesh as bytes and back, every member kept (coordinates, cells, node types, the cells' group
// name, the physical groups): how read_msh hands the mesh from the child process that read the
// file (Gmsh crashes on some damaged files) to the caller.
#pragma once
#include <string>

#include "mesh/mesh.hpp"

namespace tessera::mesh {

std::string mesh_bytes(const Mesh& m);
// Throws on bytes that mesh_bytes did not write (core::ByteReader: too short).
Mesh mesh_from_bytes(const std::string& bytes);

}  // namespace tessera::mesh
