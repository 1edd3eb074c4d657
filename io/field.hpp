// Field: named per-node or per-cell data handed to the visualization writers (XDMF, VTK).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tessera::io {

struct Field {
  std::string name;
  int channels = 1;          // 1: scalar; 2 or 3: vector (2D vectors are written with z = 0)
  bool on_cells = false;     // false: one value per node
  std::vector<double> data;  // rows x channels, row-major
  // Whole numbers (node types, degrees, ranks): written as 32-bit integers, which ParaView and
  // h5py then show as such (they were written as doubles).
  bool integer = false;
};

// Components a field is written with by the visualization writers: 2D vectors get a zero third
// component, the form ParaView's readers handle for glyphs and warping.
inline int stored_channels(const Field& f) { return f.channels == 2 ? 3 : f.channels; }

// Splits [0, n) into `parts` near-equal contiguous blocks; returns block `part` as [begin, end).
std::pair<int64_t, int64_t> block_range(int64_t n, int parts, int part);

}  // namespace tessera::io
