#include "mesh/mesh.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <unordered_map>

#include "core/error.hpp"

namespace tessera::mesh {

int nodes_per_cell(CellType t) {
  switch (t) {
    case CellType::Triangle:
      return 3;
    case CellType::Quad:
      return 4;
    case CellType::Tetrahedron:
      return 4;
  }
  return 0;
}

int cell_dim(CellType t) { return t == CellType::Tetrahedron ? 3 : 2; }

const char* cell_type_name(CellType t) {
  switch (t) {
    case CellType::Triangle:
      return "triangle";
    case CellType::Quad:
      return "quad";
    case CellType::Tetrahedron:
      return "tetrahedron";
  }
  return "?";
}

std::vector<int64_t> PhysicalGroup::nodes() const {
  std::vector<int64_t> n(facets);
  std::sort(n.begin(), n.end());
  n.erase(std::unique(n.begin(), n.end()), n.end());
  return n;
}

const PhysicalGroup* Mesh::find_group(const std::string& name) const {
  for (const auto& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

std::vector<std::string> Mesh::group_names() const {
  std::vector<std::string> names;
  for (const auto& g : groups) names.push_back(g.name);
  return names;
}

std::string missing_group_message(const Mesh& mesh, const std::string& name) {
  std::string have;
  for (const auto& n : mesh.group_names()) have += (have.empty() ? "" : ", ") + n;
  have = have.empty() ? "none" : have;
  // The cells' own group (a .geo's Physical Surface in 2D) is no boundary: "not in the mesh" sent
  // users looking for a spelling mistake.
  if (name == mesh.domain_name)
    return cat("physical group '", name,
               "' is the mesh's cells (the domain), not a boundary group (boundary groups: ", have, ")");
  return cat("physical group '", name, "' is not in the mesh (it has: ", have, ")");
}

void assign_node_types(Mesh& mesh, const std::map<std::string, int32_t>& group_types) {
  mesh.node_type.assign(mesh.num_nodes(), kNormal);
  for (const auto& [name, code] : group_types) {
    const PhysicalGroup* g = mesh.find_group(name);
    if (!g) throw Error(missing_group_message(mesh, name));
    for (int64_t n : g->nodes()) mesh.node_type[n] = std::max(mesh.node_type[n], code);
  }
}

double mean_edge_length(const Mesh& mesh) {
  const int npc = nodes_per_cell(mesh.cell_type);
  // Triangles, quads: the cycle of their nodes; tetrahedra: all six node pairs.
  std::vector<std::pair<int, int>> edges;
  if (mesh.cell_type == CellType::Tetrahedron)
    edges = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  else
    for (int k = 0; k < npc; ++k) edges.emplace_back(k, (k + 1) % npc);
  double sum = 0;
  int64_t count = 0;
  for (int64_t c = 0; c < mesh.num_cells(); ++c)
    for (auto [a, b] : edges) {
      const double* p = &mesh.coords[mesh.cells[c * npc + a] * mesh.dim];
      const double* q = &mesh.coords[mesh.cells[c * npc + b] * mesh.dim];
      double d2 = 0;
      for (int k = 0; k < mesh.dim; ++k) d2 += (p[k] - q[k]) * (p[k] - q[k]);
      sum += std::sqrt(d2);
      ++count;
    }
  return count ? sum / double(count) : 0.0;
}

Box inflow_extent(const Mesh& mesh) {
  Box box;
  if (mesh.dim != 2 || static_cast<int64_t>(mesh.node_type.size()) != mesh.num_nodes()) return box;
  for (const auto& [a, b] : boundary_edges(mesh.num_nodes(), mesh.cells, nodes_per_cell(mesh.cell_type))) {
    // An inflow end and no normal one (wall 6 and outflow 5 rank above inflow 4).
    if (std::min(mesh.node_type[a], mesh.node_type[b]) != kInflow) continue;
    for (int64_t v : {a, b}) {
      box.x0 = std::min(box.x0, mesh.coords[v * 2]);
      box.x1 = std::max(box.x1, mesh.coords[v * 2]);
      box.y0 = std::min(box.y0, mesh.coords[v * 2 + 1]);
      box.y1 = std::max(box.y1, mesh.coords[v * 2 + 1]);
    }
  }
  return box;
}

Box channel_inflow(const Mesh& m) {
  if (std::find(m.node_type.begin(), m.node_type.end(), kInflow) == m.node_type.end())
    throw Error("the mesh has no inflow nodes (type 4)", "mesh.groups");
  // A straight boundary at the mesh's smallest x: elsewhere the flow left through it or was zero (a
  // bottom inflow: the parabola over the mesh's height is 0 at y = 0), without a word (a review
  // found it, 2026-12-07). The profile spans the inflow itself, its corners included: an inlet on
  // part of the left end (a backward-facing step) got the parabola of the whole height.
  double xmin = 1e300, xmax = -1e300, ylo = 1e300, yhi = -1e300;
  for (int64_t v = 0; v < m.num_nodes(); ++v) {
    xmin = std::min(xmin, m.coords[v * 2]), xmax = std::max(xmax, m.coords[v * 2]);
    ylo = std::min(ylo, m.coords[v * 2 + 1]), yhi = std::max(yhi, m.coords[v * 2 + 1]);
  }
  const Box in = inflow_extent(m);
  const double tolerance = 1e-6 * std::max(xmax - xmin, yhi - ylo);
  if (!(in.x0 <= in.x1) || in.x1 - in.x0 > tolerance || in.x0 > xmin + tolerance || !(in.y1 - in.y0 > tolerance))
    throw Error(cat("the inflow boundary (its nodes of type 4 and their edges' end points) spans x ", in.x0, " to ",
                    in.x1, " and y ", in.y0, " to ", in.y1,
                    "; the flow is imposed along +x with a profile across y, on a straight boundary at the mesh's "
                    "smallest x (",
                    xmin, "): orient the mesh so that its flow enters there"),
                "mesh.groups");
  return in;
}

std::map<int32_t, int64_t> node_type_counts(const Mesh& mesh) {
  std::map<int32_t, int64_t> counts;
  for (int32_t t : mesh.node_type) ++counts[t];
  return counts;
}

template <class Index>
std::vector<std::pair<int64_t, int64_t>> boundary_edges(int64_t nodes, const std::vector<Index>& cells,
                                                        int nodes_per_cell) {
  std::unordered_map<int64_t, int> edges;  // cells per edge, keyed a * nodes + b with a < b
  for (size_t c = 0; c + nodes_per_cell <= cells.size(); c += nodes_per_cell)
    for (int k = 0; k < nodes_per_cell; ++k) {
      int64_t a = cells[c + k], b = cells[c + (k + 1) % nodes_per_cell];
      if (a > b) std::swap(a, b);
      ++edges[a * nodes + b];
    }
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& [key, count] : edges)
    if (count == 1) out.emplace_back(key / nodes, key % nodes);
  return out;
}

template <class Index>
std::vector<char> triangle_boundary_nodes(int64_t nodes, const std::vector<Index>& triangles) {
  std::vector<char> on(nodes, 0);
  for (const auto& [a, b] : boundary_edges(nodes, triangles, 3)) on[a] = on[b] = 1;
  return on;
}

std::vector<char> boundary_nodes(const Mesh& mesh) {
  const int npc = nodes_per_cell(mesh.cell_type);
  std::vector<char> on(mesh.num_nodes(), 0);
  if (mesh.cell_type != CellType::Tetrahedron) {  // 2D cells: their edges
    for (const auto& [a, b] : boundary_edges(mesh.num_nodes(), mesh.cells, npc)) on[a] = on[b] = 1;
    return on;
  }
  // A tetrahedron's 4 faces, as sorted node triples.
  std::map<std::array<int64_t, 3>, int> cells_of;
  for (int64_t c = 0; c < mesh.num_cells(); ++c)
    for (const auto& f : {std::array<int, 3>{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}}) {
      std::array<int64_t, 3> face;
      for (int k = 0; k < 3; ++k) face[k] = mesh.cells[c * npc + f[k]];
      std::sort(face.begin(), face.end());
      ++cells_of[face];
    }
  for (const auto& [face, count] : cells_of)
    if (count == 1)
      for (int64_t v : face) on[v] = 1;
  return on;
}

template std::vector<std::pair<int64_t, int64_t>> boundary_edges(int64_t, const std::vector<int32_t>&, int);
template std::vector<std::pair<int64_t, int64_t>> boundary_edges(int64_t, const std::vector<int64_t>&, int);
template std::vector<char> triangle_boundary_nodes(int64_t, const std::vector<int32_t>&);
template std::vector<char> triangle_boundary_nodes(int64_t, const std::vector<int64_t>&);

}  // namespace tessera::mesh
