// Fuzz target: Gmsh .msh import (mesh/gmsh_io.cpp: Gmsh's reader behind tessera's session guard,
// the model extraction and the truncated-section check) followed by mesh validation
// (mesh/validation.cpp), as tessera-mesh does with `mesh.source: msh`. Gmsh itself is a system
// library built without sanitizers; what is instrumented is tessera's code around it. Slow per
// input (Gmsh starts and stops a session for every file), so runs are fewer than for the others.
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/validation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Gmsh picks the format from the extension, so the scratch file is a .msh.
  const std::string path =
      tessera::fuzz::write_scratch("input.msh", std::string_view(reinterpret_cast<const char*>(data), size));
  return tessera::fuzz::run_reader([&] {
    tessera::mesh::Mesh mesh = tessera::mesh::read_msh(path);
    tessera::mesh::validate(mesh, path);
  });
}
