// TaylorHood: the P2/P1 (Taylor–Hood) mixed finite-element space on a triangle mesh: quadratic
// velocity at vertices and edge midpoints, linear pressure at vertices. Inf-sup stable without
// stabilisation parameters, which is what lets the DFG drag and lift intervals (c_D within ±0.2%,
// c_L ±3%) be met on meshes of a few thousand cells; see docs/solvers.md for the choice.
//
// Curved boundaries: a closed loop of boundary edges whose vertices lie on one circle (the
// cylinder of the CylinderFlow and DFG meshes) gets its edges' midpoints on that circle, and its
// cells become isoparametric (quadratic geometry). The straight polygon was 99% of the DFG 2D-1
// drag error on the deck mesh and capped its convergence at second order (docs/solvers.md).
//
// Unknowns are numbered rank by rank (rows of a PETSc MPIAIJ matrix are contiguous per rank):
// rank r owns the vertices of its partition (ux, uy, p each) and the edges whose first vertex it
// owns (ux, uy each). The mesh itself is replicated on every rank.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "mesh/mesh.hpp"

namespace tessera::solvers {

// Quadrature on a triangle exact to degree 5 (7 points): barycentric coordinates and weights
// summing to 1 (multiply by the cell area).
struct TriangleQuadrature {
  static constexpr int kPoints = 7;
  std::array<std::array<double, 3>, kPoints> lambda;
  std::array<double, kPoints> weight;
  TriangleQuadrature();
};

// P2 shape functions on a straight triangle from barycentric coordinates: nodes 0-2 the
// vertices, 3-5 the midpoints of edges (0,1), (1,2), (2,0).
void p2_values(const double lambda[3], double phi[6]);
// Gradients from the (constant) barycentric gradients grad_lambda[3][2].
void p2_gradients(const double lambda[3], const double grad_lambda[3][2], double grad_phi[6][2]);

// A loop of boundary edges found to lie on a circle, and made curved.
struct BoundaryCircle {
  double cx = 0, cy = 0, radius = 0;
  int64_t edges = 0;
  double max_deviation = 0;  // of its vertices from the circle, relative to the radius
};

class TaylorHood {
 public:
  // `vertex_rank[v]`: owning rank of each vertex (all zeros for one rank). Cells must be
  // counter-clockwise triangles. With `curve_circles`, boundary loops on a circle become curved
  // (see above); an error if that inverts a cell.
  TaylorHood(const mesh::Mesh& mesh, const std::vector<int32_t>& vertex_rank, int ranks, bool curve_circles = true);

  const mesh::Mesh& mesh() const { return mesh_; }
  int64_t num_vertices() const { return nv_; }
  int64_t num_edges() const { return static_cast<int64_t>(edges_.size()) / 2; }
  int64_t num_p2_nodes() const { return nv_ + num_edges(); }
  int64_t num_cells() const { return mesh_.num_cells(); }
  int64_t num_dofs() const { return num_dofs_; }
  // Rows [begin, end) owned by rank r.
  std::pair<int64_t, int64_t> owned_rows(int rank) const { return {row_start_[rank], row_start_[rank + 1]}; }

  // P2 node n (vertex v = n, or edge e = n - num_vertices) of cell c, local node 0..5.
  int64_t cell_node(int64_t c, int local) const { return cell_nodes_[c * 6 + local]; }
  int64_t edge_vertex(int64_t e, int end) const { return edges_[e * 2 + end]; }
  int64_t velocity_dof(int64_t node, int component) const { return vel_dof_[node * 2 + component]; }
  int64_t pressure_dof(int64_t vertex) const { return pres_dof_[vertex]; }
  // The 15 unknowns of a cell: (ux, uy) of nodes 0..5, then p of vertices 0..2.
  void cell_dofs(int64_t c, int64_t dofs[15]) const;
  // Coordinates of a P2 node (midpoints for edges, on the circle for a curved edge).
  std::array<double, 2> node_coords(int64_t node) const;

  // Geometry of the cell's straight triangle (its vertices): area and barycentric gradients.
  double area(int64_t c) const { return area_[c]; }
  const double (*grad_lambda(int64_t c) const)[2] { return reinterpret_cast<const double(*)[2]>(&grad_lambda_[c * 6]); }
  // The P2 shape functions' gradients at reference barycentric coordinates `lambda` of cell c,
  // straight or curved; returns the area element there, so that the integral over the cell of f
  // is the sum over a TriangleQuadrature of weight * f(lambda) * area_element.
  double shape_gradients(int64_t c, const double lambda[3], double grad_phi[6][2]) const;
  bool is_curved(int64_t c) const { return curved_cell_[c]; }
  const std::vector<BoundaryCircle>& curved_circles() const { return circles_; }

  // Boundary edges (in exactly one cell).
  bool is_boundary_edge(int64_t e) const { return boundary_edge_[e]; }
  // Edge index of vertex pair (a, b), or -1.
  int64_t find_edge(int64_t a, int64_t b) const;

  // Cell containing point (x, y) and its reference barycentric coordinates (for a curved cell,
  // the inverse of its quadratic map); cell -1 if outside the cells' straight triangles.
  int64_t locate(double x, double y, double lambda[3]) const;

 private:
  void curve_boundary_circles();
  // The coordinates of cell c's six P2 nodes: its quadratic map's nodes.
  void cell_node_coords(int64_t c, double X[6][2]) const;

  const mesh::Mesh& mesh_;
  int64_t nv_;
  std::vector<int64_t> edges_;       // 2 per edge, sorted vertex pair
  std::vector<int64_t> cell_nodes_;  // 6 per cell
  std::vector<char> boundary_edge_;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> vertex_edges_;  // (other vertex, edge)
  std::vector<int64_t> vel_dof_, pres_dof_, row_start_;
  int64_t num_dofs_ = 0;
  std::vector<double> area_, grad_lambda_;
  std::vector<char> curved_edge_, curved_cell_;
  std::vector<double> curved_midpoint_;  // 2 per edge, set for curved edges
  std::vector<BoundaryCircle> circles_;
};

}  // namespace tessera::solvers
