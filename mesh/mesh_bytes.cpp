#include "mesh/mesh_bytes.hpp"

#include "core/bytes.hpp"

namespace tessera::mesh {

std::string mesh_bytes(const Mesh& m) {
  core::ByteWriter w;
  w.u64(m.dim);
  w.u64(static_cast<uint64_t>(m.cell_type));
  w.vec(m.coords);
  w.vec(m.cells);
  w.vec(m.node_type);
  w.str(m.domain_name);
  w.u64(m.groups.size());
  for (const PhysicalGroup& g : m.groups) {
    w.str(g.name);
    w.u64(g.dim);
    w.vec(g.facets);
  }
  return w.take();
}

Mesh mesh_from_bytes(const std::string& bytes) {
  core::ByteReader r(bytes);
  Mesh m;
  m.dim = static_cast<int>(r.u64());
  m.cell_type = static_cast<CellType>(r.u64());
  m.coords = r.vec<double>();
  m.cells = r.vec<int64_t>();
  m.node_type = r.vec<int32_t>();
  m.domain_name = r.str();
  m.groups.resize(r.u64());
  for (PhysicalGroup& g : m.groups) {
    g.name = r.str();
    g.dim = static_cast<int>(r.u64());
    g.facets = r.vec<int64_t>();
  }
  return m;
}

}  // namespace tessera::mesh
