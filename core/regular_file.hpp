// Inputs that must be plain files (an HDF5 file, a Gmsh mesh, a checkpoint): one check that says
// what the path is instead, so that a directory given by mistake is not reported as missing.
#pragma once
#include <string>

namespace tessera::core {

// Throws "<path>: file not found", "<path>: is a directory; expected <expected>" or "<path>: not a
// regular file; expected <expected>" unless `path` is a regular file (or a link to one).
void require_regular_file(const std::string& path, const std::string& expected);

}  // namespace tessera::core
