#include "io/fingerprint.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

namespace tessera::io {

namespace {

// zlib's crc32 takes at most uInt bytes at a time.
uLong crc_bytes(uLong crc, const void* data, size_t bytes) {
  const auto* p = static_cast<const Bytef*>(data);
  while (bytes > 0) {
    const size_t n = std::min<size_t>(bytes, std::numeric_limits<uInt>::max());
    crc = crc32(crc, p, static_cast<uInt>(n));
    p += n;
    bytes -= n;
  }
  return crc;
}

std::string hex(uLong crc) {
  char text[9];
  std::snprintf(text, sizeof text, "%08lx", static_cast<unsigned long>(crc & 0xffffffffUL));
  return text;
}

}  // namespace

std::string trajectory_fingerprint(const Trajectory& t) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const char* name : {"cells", "mesh_pos", "node_type", "velocity"}) {
    const auto it = t.find(name);
    if (it == t.end()) continue;
    const FieldData& f = it->second;
    crc = crc_bytes(crc, name, std::char_traits<char>::length(name) + 1);  // with its terminator
    for (const hsize_t n : f.shape) {
      const uint64_t extent = n;
      crc = crc_bytes(crc, &extent, sizeof extent);
    }
    crc = crc_bytes(crc, f.f32.data(), f.f32.size() * sizeof(float));
    crc = crc_bytes(crc, f.i32.data(), f.i32.size() * sizeof(int32_t));
  }
  return hex(crc);
}

std::string node_dataset_fingerprint(const NodeDataset& d) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const int64_t sizes[4] = {d.num_nodes, d.num_features, d.num_classes, d.graph.num_edges()};
  crc = crc_bytes(crc, sizes, sizeof sizes);
  crc = crc_bytes(crc, d.x.data(), d.x.size() * sizeof(float));
  crc = crc_bytes(crc, d.y.data(), d.y.size() * sizeof(int64_t));
  crc = crc_bytes(crc, d.graph.src.data(), d.graph.src.size() * sizeof(int64_t));
  crc = crc_bytes(crc, d.graph.dst.data(), d.graph.dst.size() * sizeof(int64_t));
  for (const auto* m : {&d.train_mask, &d.val_mask, &d.test_mask}) crc = crc_bytes(crc, m->data(), m->size());
  return hex(crc);
}

std::string mesh_fingerprint(const mesh::Mesh& m) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const int64_t sizes[4] = {m.dim, static_cast<int64_t>(m.cell_type), m.num_nodes(), m.num_cells()};
  crc = crc_bytes(crc, sizes, sizeof sizes);
  crc = crc_bytes(crc, m.coords.data(), m.coords.size() * sizeof(double));
  crc = crc_bytes(crc, m.cells.data(), m.cells.size() * sizeof(int64_t));
  crc = crc_bytes(crc, m.node_type.data(), m.node_type.size() * sizeof(int32_t));
  return hex(crc);
}

}  // namespace tessera::io
