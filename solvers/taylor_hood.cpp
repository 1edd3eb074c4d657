#include "solvers/taylor_hood.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace tessera::solvers {

TriangleQuadrature::TriangleQuadrature() {
  // Dunavant's degree-5 rule: the centroid and two orbits of three points.
  const double a1 = 0.059715871789769820, b1 = 0.470142064105115090, w1 = 0.132394152788506181;
  const double a2 = 0.797426985353087322, b2 = 0.101286507323456339, w2 = 0.125939180544827153;
  lambda[0] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  weight[0] = 0.225;
  for (int k = 0; k < 3; ++k) {
    lambda[1 + k] = {b1, b1, b1};
    lambda[1 + k][k] = a1;
    weight[1 + k] = w1;
    lambda[4 + k] = {b2, b2, b2};
    lambda[4 + k][k] = a2;
    weight[4 + k] = w2;
  }
}

void p2_values(const double l[3], double phi[6]) {
  for (int i = 0; i < 3; ++i) phi[i] = l[i] * (2 * l[i] - 1);
  phi[3] = 4 * l[0] * l[1];
  phi[4] = 4 * l[1] * l[2];
  phi[5] = 4 * l[2] * l[0];
}

void p2_gradients(const double l[3], const double g[3][2], double gp[6][2]) {
  for (int d = 0; d < 2; ++d) {
    for (int i = 0; i < 3; ++i) gp[i][d] = (4 * l[i] - 1) * g[i][d];
    gp[3][d] = 4 * (l[0] * g[1][d] + l[1] * g[0][d]);
    gp[4][d] = 4 * (l[1] * g[2][d] + l[2] * g[1][d]);
    gp[5][d] = 4 * (l[2] * g[0][d] + l[0] * g[2][d]);
  }
}

TaylorHood::TaylorHood(const mesh::Mesh& m, const std::vector<int32_t>& vertex_rank, int ranks)
    : mesh_(m), nv_(m.num_nodes()) {
  if (m.cell_type != mesh::CellType::Triangle || m.dim != 2)
    throw Error("the Navier-Stokes solver needs a 2D triangle mesh", "mesh");
  const int64_t nc = m.num_cells();
  // Edges: each unordered vertex pair once, found through per-vertex lists.
  vertex_edges_.assign(nv_, {});
  std::vector<int> edge_cells;
  cell_nodes_.resize(nc * 6);
  static constexpr int kEdgeEnds[3][2] = {{0, 1}, {1, 2}, {2, 0}};
  for (int64_t c = 0; c < nc; ++c) {
    for (int i = 0; i < 3; ++i) cell_nodes_[c * 6 + i] = m.cells[c * 3 + i];
    for (int k = 0; k < 3; ++k) {
      int64_t a = m.cells[c * 3 + kEdgeEnds[k][0]], b = m.cells[c * 3 + kEdgeEnds[k][1]];
      if (a > b) std::swap(a, b);
      int64_t e = find_edge(a, b);
      if (e < 0) {
        e = num_edges();
        edges_.push_back(a);
        edges_.push_back(b);
        edge_cells.push_back(0);
        vertex_edges_[a].push_back({b, e});
        vertex_edges_[b].push_back({a, e});
      }
      ++edge_cells[e];
      cell_nodes_[c * 6 + 3 + k] = nv_ + e;
    }
  }
  boundary_edge_.resize(num_edges());
  for (int64_t e = 0; e < num_edges(); ++e) boundary_edge_[e] = edge_cells[e] == 1;

  // Unknowns, rank by rank: owned vertices (ux, uy, p), then owned edges (ux, uy).
  vel_dof_.assign(num_p2_nodes() * 2, -1);
  pres_dof_.assign(nv_, -1);
  row_start_.assign(ranks + 1, 0);
  int64_t next = 0;
  for (int r = 0; r < ranks; ++r) {
    row_start_[r] = next;
    for (int64_t v = 0; v < nv_; ++v)
      if (vertex_rank[v] == r) {
        vel_dof_[v * 2] = next++;
        vel_dof_[v * 2 + 1] = next++;
        pres_dof_[v] = next++;
      }
    for (int64_t e = 0; e < num_edges(); ++e)
      if (vertex_rank[edges_[e * 2]] == r) {
        vel_dof_[(nv_ + e) * 2] = next++;
        vel_dof_[(nv_ + e) * 2 + 1] = next++;
      }
  }
  row_start_[ranks] = next;
  num_dofs_ = next;

  area_.resize(nc);
  grad_lambda_.resize(nc * 6);
  for (int64_t c = 0; c < nc; ++c) {
    const double* x0 = &m.coords[m.cells[c * 3] * 2];
    const double* x1 = &m.coords[m.cells[c * 3 + 1] * 2];
    const double* x2 = &m.coords[m.cells[c * 3 + 2] * 2];
    const double det = (x1[0] - x0[0]) * (x2[1] - x0[1]) - (x2[0] - x0[0]) * (x1[1] - x0[1]);
    if (!(det > 0)) throw Error(cat("cell ", c, " is inverted or degenerate (signed area ", det / 2, ")"), "mesh");
    area_[c] = det / 2;
    double* g = &grad_lambda_[c * 6];
    // grad lambda_1 and lambda_2 from the inverse Jacobian; lambda_0 = 1 - lambda_1 - lambda_2.
    g[2] = (x2[1] - x0[1]) / det;
    g[3] = -(x2[0] - x0[0]) / det;
    g[4] = -(x1[1] - x0[1]) / det;
    g[5] = (x1[0] - x0[0]) / det;
    g[0] = -g[2] - g[4];
    g[1] = -g[3] - g[5];
  }
}

int64_t TaylorHood::find_edge(int64_t a, int64_t b) const {
  for (auto [other, e] : vertex_edges_[a])
    if (other == b) return e;
  return -1;
}

void TaylorHood::cell_dofs(int64_t c, int64_t dofs[15]) const {
  for (int i = 0; i < 6; ++i) {
    dofs[2 * i] = vel_dof_[cell_nodes_[c * 6 + i] * 2];
    dofs[2 * i + 1] = vel_dof_[cell_nodes_[c * 6 + i] * 2 + 1];
  }
  for (int i = 0; i < 3; ++i) dofs[12 + i] = pres_dof_[cell_nodes_[c * 6 + i]];
}

std::array<double, 2> TaylorHood::node_coords(int64_t n) const {
  if (n < nv_) return {mesh_.coords[n * 2], mesh_.coords[n * 2 + 1]};
  const int64_t a = edges_[(n - nv_) * 2], b = edges_[(n - nv_) * 2 + 1];
  return {(mesh_.coords[a * 2] + mesh_.coords[b * 2]) / 2, (mesh_.coords[a * 2 + 1] + mesh_.coords[b * 2 + 1]) / 2};
}

int64_t TaylorHood::locate(double x, double y, double l[3]) const {
  const double tol = 1e-10;
  for (int64_t c = 0; c < num_cells(); ++c) {
    const double* x0 = &mesh_.coords[mesh_.cells[c * 3] * 2];
    const auto g = grad_lambda(c);
    l[1] = g[1][0] * (x - x0[0]) + g[1][1] * (y - x0[1]);
    l[2] = g[2][0] * (x - x0[0]) + g[2][1] * (y - x0[1]);
    l[0] = 1 - l[1] - l[2];
    if (l[0] >= -tol && l[1] >= -tol && l[2] >= -tol) return c;
  }
  return -1;
}

}  // namespace tessera::solvers
