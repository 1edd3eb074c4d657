// VTK image data (.vti) through the VTK library: point fields on a uniform nx × ny grid (z = 1), for
// space-time fields (x along the first axis, t along the second) that ParaView opens directly.
// Written under a temporary name and renamed.
#pragma once
#include <array>
#include <string>
#include <utility>
#include <vector>

namespace tessera::io {

struct ImageField {
  std::string name;
  std::vector<double> values;  // nx * ny, x fastest
};

// origin and spacing of the first two axes; `deck_yaml` is stored as field data "tessera_deck".
void write_vti(const std::string& path, int64_t nx, int64_t ny, std::array<double, 2> origin,
               std::array<double, 2> spacing, const std::vector<ImageField>& fields, const std::string& deck_yaml = "");

}  // namespace tessera::io
