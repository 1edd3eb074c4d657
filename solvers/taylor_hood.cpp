#include "solvers/taylor_hood.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/log.hpp"

namespace tessera::solvers {

namespace {

// Barycentric gradients of the reference triangle (0,0), (1,0), (0,1) in (xi, eta) = (lambda_1,
// lambda_2): the derivatives of a cell's quadratic map come from them through p2_gradients.
constexpr double kReferenceGradLambda[3][2] = {{-1, -1}, {1, 0}, {0, 1}};

// A loop needs at least this many edges to be taken for a circle: any three points lie on one,
// and so do a rectangle's four corners.
constexpr int64_t kMinCircleEdges = 8;
// How far (relative to the radius) the loop's vertices may lie from the circle: Gmsh's points
// lie on it to round-off; float32 coordinates of a foreign dataset to about 3e-7 of a radius of
// 0.05 at x ~ 0.2. A polygon meant as one misses any circle by far more: a square with its edges'
// midpoints among its vertices by 29%.
constexpr double kCircleTolerance = 1e-5;

// The circle through three points; false if they are (nearly) collinear.
bool circumcircle(const double* a, const double* b, const double* c, double& cx, double& cy, double& r) {
  const double bx = b[0] - a[0], by = b[1] - a[1], qx = c[0] - a[0], qy = c[1] - a[1];
  const double d = 2 * (bx * qy - by * qx);
  const double scale = (bx * bx + by * by) * (qx * qx + qy * qy);
  if (!(std::abs(d) > 1e-12 * std::sqrt(scale))) return false;
  const double b2 = bx * bx + by * by, q2 = qx * qx + qy * qy;
  const double ux = (qy * b2 - by * q2) / d, uy = (bx * q2 - qx * b2) / d;
  cx = a[0] + ux;
  cy = a[1] + uy;
  r = std::hypot(ux, uy);
  return true;
}

// Jacobian J[d][r] = d x_d / d xi_r of the quadratic map with nodes X at lambda, and the
// reference gradients of the P2 shape functions.
double quadratic_map_jacobian(const double X[6][2], const double lambda[3], double J[2][2], double dref[6][2]) {
  p2_gradients(lambda, kReferenceGradLambda, dref);
  for (int d = 0; d < 2; ++d)
    for (int r = 0; r < 2; ++r) {
      J[d][r] = 0;
      for (int i = 0; i < 6; ++i) J[d][r] += X[i][d] * dref[i][r];
    }
  return J[0][0] * J[1][1] - J[0][1] * J[1][0];
}

}  // namespace

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

TaylorHood::TaylorHood(const mesh::Mesh& m, const std::vector<int32_t>& vertex_rank, int ranks, bool curve_circles)
    : mesh_(m), nv_(m.num_nodes()) {
  if (m.cell_type != mesh::CellType::Triangle || m.dim != 2)
    throw Error(cat("the Navier-Stokes solver needs a 2D triangle mesh; this one has ", m.num_cells(), " ",
                    mesh::cell_type_name(m.cell_type), " cells in ", m.dim, "D"),
                "mesh");
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
  curved_edge_.assign(num_edges(), 0);
  curved_cell_.assign(nc, 0);
  if (curve_circles) curve_boundary_circles();
}

void TaylorHood::curve_boundary_circles() {
  // Boundary edges per vertex; a loop is walked only through vertices with exactly two (a mesh
  // whose boundary touches itself at a vertex keeps those loops straight).
  std::vector<std::vector<int64_t>> vertex_boundary(nv_);
  for (int64_t e = 0; e < num_edges(); ++e)
    if (boundary_edge_[e])
      for (int end = 0; end < 2; ++end) vertex_boundary[edges_[e * 2 + end]].push_back(e);
  std::vector<char> walked(num_edges(), 0);
  const auto& xy = mesh_.coords;
  for (int64_t first = 0; first < num_edges(); ++first) {
    if (!boundary_edge_[first] || walked[first]) continue;
    std::vector<int64_t> loop_edges, loop_vertices;
    bool closed = false, simple = true;
    int64_t e = first, v = edges_[first * 2 + 1];
    while (true) {
      walked[e] = 1;
      loop_edges.push_back(e);
      loop_vertices.push_back(v);
      if (vertex_boundary[v].size() != 2) {
        simple = false;
        break;
      }
      const int64_t next = vertex_boundary[v][0] == e ? vertex_boundary[v][1] : vertex_boundary[v][0];
      if (next == first) {
        closed = true;
        break;
      }
      if (walked[next]) break;
      v = edges_[next * 2] == v ? edges_[next * 2 + 1] : edges_[next * 2];
      e = next;
    }
    const int64_t n = static_cast<int64_t>(loop_vertices.size());
    if (!closed || !simple || n < kMinCircleEdges) continue;
    BoundaryCircle circle;
    if (!circumcircle(&xy[loop_vertices[0] * 2], &xy[loop_vertices[n / 3] * 2], &xy[loop_vertices[2 * n / 3] * 2],
                      circle.cx, circle.cy, circle.radius))
      continue;
    for (int64_t u : loop_vertices)
      circle.max_deviation = std::max(
          circle.max_deviation,
          std::abs(std::hypot(xy[u * 2] - circle.cx, xy[u * 2 + 1] - circle.cy) - circle.radius) / circle.radius);
    if (!(circle.max_deviation <= kCircleTolerance)) continue;
    circle.edges = n;
    curved_midpoint_.resize(num_edges() * 2, 0.0);
    for (int64_t k : loop_edges) {
      curved_edge_[k] = 1;
      // The chord's midpoint pushed out (or in) to the circle: the arc's midpoint.
      const int64_t a = edges_[k * 2], b = edges_[k * 2 + 1];
      const double mx = (xy[a * 2] + xy[b * 2]) / 2 - circle.cx, my = (xy[a * 2 + 1] + xy[b * 2 + 1]) / 2 - circle.cy;
      const double len = std::hypot(mx, my);
      curved_midpoint_[k * 2] = circle.cx + circle.radius * mx / len;
      curved_midpoint_[k * 2 + 1] = circle.cy + circle.radius * my / len;
    }
    circles_.push_back(circle);
  }
  if (circles_.empty()) return;
  // The cells with a curved edge, each checked for a positive Jacobian at its vertices, edge
  // midpoints and quadrature points (a cell much thinner than its curved edge's bulge folds).
  const TriangleQuadrature quad;
  std::vector<std::array<double, 3>> points(quad.lambda.begin(), quad.lambda.end());
  for (int i = 0; i < 3; ++i) {
    std::array<double, 3> vertex = {0, 0, 0}, mid = {0.5, 0.5, 0.5};
    vertex[i] = 1;
    mid[(i + 2) % 3] = 0;
    points.push_back(vertex);
    points.push_back(mid);
  }
  for (int64_t c = 0; c < num_cells(); ++c) {
    for (int k = 0; k < 3; ++k) curved_cell_[c] = curved_cell_[c] || curved_edge_[cell_nodes_[c * 6 + 3 + k] - nv_];
    if (!curved_cell_[c]) continue;
    for (const auto& l : points) {
      double gp[6][2];
      if (!(shape_gradients(c, l.data(), gp) > 0)) {
        // A sliver (a tiny angle: the mesh generator's, under a very steep size grading) folds
        // however fine the mesh: refining is the advice only for a well-shaped cell.
        double X[6][2];
        cell_node_coords(c, X);
        double smallest = 180;
        for (int k = 0; k < 3; ++k) {
          const double* a = X[k];
          const double* b = X[(k + 1) % 3];
          const double* d = X[(k + 2) % 3];
          const double ux = b[0] - a[0], uy = b[1] - a[1], vx = d[0] - a[0], vy = d[1] - a[1];
          const double angle = std::atan2(std::abs(ux * vy - uy * vx), ux * vx + uy * vy) * 180 / M_PI;
          smallest = std::min(smallest, angle);
        }
        throw Error(cat("cell ", c, " folds when its boundary edge is curved onto the circle it lies on",
                        smallest < 5 ? cat(": it is a sliver (smallest angle ", core::sig3(smallest),
                                           " degrees), which refining does not mend; a gentler size grading "
                                           "near the circle (e.g. a larger mesh.cylinder.h_near) avoids it")
                                     : std::string(": refine the mesh there (the cell is too thin for the arc)")),
                    "mesh");
      }
    }
  }
}

void TaylorHood::cell_node_coords(int64_t c, double X[6][2]) const {
  for (int i = 0; i < 6; ++i) {
    const auto p = node_coords(cell_nodes_[c * 6 + i]);
    X[i][0] = p[0];
    X[i][1] = p[1];
  }
}

double TaylorHood::shape_gradients(int64_t c, const double lambda[3], double grad_phi[6][2]) const {
  if (!curved_cell_[c]) {
    p2_gradients(lambda, grad_lambda(c), grad_phi);
    return area_[c];
  }
  double X[6][2], J[2][2], dref[6][2];
  cell_node_coords(c, X);
  const double det = quadratic_map_jacobian(X, lambda, J, dref);
  // grad_x phi = J^-T grad_xi phi.
  for (int i = 0; i < 6; ++i) {
    grad_phi[i][0] = (J[1][1] * dref[i][0] - J[1][0] * dref[i][1]) / det;
    grad_phi[i][1] = (-J[0][1] * dref[i][0] + J[0][0] * dref[i][1]) / det;
  }
  return det / 2;  // the reference triangle's area is 1/2
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
  const int64_t e = n - nv_;
  if (curved_edge_[e]) return {curved_midpoint_[e * 2], curved_midpoint_[e * 2 + 1]};
  const int64_t a = edges_[e * 2], b = edges_[e * 2 + 1];
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
    if (!(l[0] >= -tol && l[1] >= -tol && l[2] >= -tol)) continue;
    if (curved_cell_[c]) {
      // Newton on the quadratic map from the straight triangle's coordinates: the curved edge
      // moves points by at most its bulge, a few per cent of the cell, so a few steps suffice.
      double X[6][2], J[2][2], dref[6][2], phi[6];
      cell_node_coords(c, X);
      for (int it = 0; it < 8; ++it) {
        p2_values(l, phi);
        double rx = -x, ry = -y;
        for (int i = 0; i < 6; ++i) rx += X[i][0] * phi[i], ry += X[i][1] * phi[i];
        const double det = quadratic_map_jacobian(X, l, J, dref);
        const double dxi = (J[1][1] * rx - J[0][1] * ry) / det, deta = (-J[1][0] * rx + J[0][0] * ry) / det;
        l[1] -= dxi;
        l[2] -= deta;
        l[0] = 1 - l[1] - l[2];
        if (std::abs(dxi) + std::abs(deta) < 1e-14) break;
      }
    }
    return c;
  }
  return -1;
}

}  // namespace tessera::solvers
