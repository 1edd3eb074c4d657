// Mesh: an unstructured mesh of one cell type with per-node types and named boundary groups.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tessera::mesh {

enum class CellType : int { Triangle, Quad, Tetrahedron };

// Node type codes of MeshGraphNets (docs/references.md §2); datasets store them as int32.
enum NodeType : int32_t { kNormal = 0, kInflow = 4, kOutflow = 5, kWall = 6 };

int nodes_per_cell(CellType t);
int cell_dim(CellType t);
const char* cell_type_name(CellType t);

// A named physical group: facets of dimension `dim` (points, lines or triangles) whose nodes
// belong to the group; facet_nodes = dim + 1 indices each.
struct PhysicalGroup {
  std::string name;
  int dim = 1;
  std::vector<int64_t> facets;
  int facet_nodes() const { return dim + 1; }
  int64_t num_facets() const { return static_cast<int64_t>(facets.size()) / facet_nodes(); }
  std::vector<int64_t> nodes() const;  // sorted, unique
};

struct Mesh {
  int dim = 2;                 // coordinates per node: 2 or 3
  std::vector<double> coords;  // num_nodes * dim
  CellType cell_type = CellType::Triangle;
  std::vector<int64_t> cells;      // num_cells * nodes_per_cell
  std::vector<int32_t> node_type;  // num_nodes, NodeType codes
  std::vector<PhysicalGroup> groups;
  // The name of the cells' own physical group (Gmsh's surface or volume group): kept so that a
  // mesh written back keeps the name its source gave ("fluid" for tessera's cylinder channel).
  std::string domain_name = "domain";

  int64_t num_nodes() const { return static_cast<int64_t>(coords.size()) / dim; }
  int64_t num_cells() const { return static_cast<int64_t>(cells.size()) / nodes_per_cell(cell_type); }
  const PhysicalGroup* find_group(const std::string& name) const;
  std::vector<std::string> group_names() const;
};

// "physical group '<name>' is not in the mesh (it has: <its groups>)": the error about a group
// the mesh lacks, for assign_node_types and for callers that add which setting named it.
std::string missing_group_message(const Mesh& mesh, const std::string& name);

// Sets node_type from a map group name -> type code. A node in several groups takes the
// highest code, so wall (6) wins over outflow (5) over inflow (4) at corners.
// Unknown group names are an error listing the mesh's groups.
void assign_node_types(Mesh& mesh, const std::map<std::string, int32_t>& group_types);

// The mean length of the cells' edges (each cell's own edges, so an inner edge counts twice): the
// mesh's length scale, which a model trained on meshes in one unit compares with another mesh's.
double mean_edge_length(const Mesh& mesh);

// The bounding box of a 2D mesh's inflow boundary: its boundary edges with an inflow node (type 4)
// at an end and no node without a boundary type, their end points included (a channel's corners,
// typed wall); x0 > x1 when it has none. Where the CFD solver and the hybrid take the inflow
// profile's span from.
struct Box {
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
};
Box inflow_extent(const Mesh& mesh);
// The inflow of a channel whose flow enters along +x: inflow_extent(mesh), checked to be a
// straight boundary at the mesh's smallest x spanning some y (where the CFD solver and a mesh
// rollout impose their profile across y). Throws Error keyed "mesh.groups" otherwise, or when the
// mesh has no inflow node.
Box channel_inflow(const Mesh& mesh);

// Counts nodes per type code.
std::map<int32_t, int64_t> node_type_counts(const Mesh& mesh);

// Per node of a 2D triangle mesh of `nodes` nodes (`triangles`: three node indices per triangle),
// whether it lies on an edge of exactly one triangle: the mesh's boundary, holes included.
// Index: int32_t (foreign data as read) or int64_t (Mesh::cells).
template <class Index>
std::vector<char> triangle_boundary_nodes(int64_t nodes, const std::vector<Index>& triangles);
// The edges (a, b), a < b, of a 2D mesh's cells (`nodes_per_cell` 3: triangles, 4: quads, their
// nodes in cyclic order) that belong to one cell alone: what the two functions around it build on.
template <class Index>
std::vector<std::pair<int64_t, int64_t>> boundary_edges(int64_t nodes, const std::vector<Index>& cells,
                                                        int nodes_per_cell);
// The same for any mesh: nodes on a facet of exactly one cell (a triangle's or quad's edge, a
// tetrahedron's face).
std::vector<char> boundary_nodes(const Mesh& mesh);

}  // namespace tessera::mesh
