// The solver's state as vertex fields, and the hand-over from vertex data (set_vertex_velocity:
// P2 midpoints from a local least-squares quadratic), for datasets, probes and tessera-hybrid;
// the time-stepping state in rank-independent order, for restart files.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>
#include <utility>

#include "core/error.hpp"
#include "solvers/navier_stokes.hpp"
#include "solvers/navier_stokes_impl.hpp"

namespace tessera::solvers {

std::vector<double> NavierStokes::vertex_velocity() const {
  const auto& s = *impl_;
  std::vector<double> u(s.th.num_vertices() * 2);
  for (int64_t v = 0; v < s.th.num_vertices(); ++v)
    for (int c = 0; c < 2; ++c) u[v * 2 + c] = s.x[s.th.velocity_dof(v, c)];
  return u;
}

namespace {

// The value at (x0, y0) of the least-squares quadratic through `points` (vertex ids; two values
// each in `u`), in `out`; false when the points do not determine a quadratic. Coordinates are
// scaled to [-1, 1] around (x0, y0), so the rank threshold is independent of the mesh size; a
// column-pivoting QR (not the normal equations) keeps near-degenerate sets, such as nearly
// collinear boundary points, from being fitted.
bool quadratic_fit_at(const mesh::Mesh& m, const std::vector<int64_t>& points, const std::vector<double>& u, double x0,
                      double y0, double out[2]) {
  if (points.size() < 6) return false;
  double scale = 0;
  for (int64_t v : points)
    scale = std::max({scale, std::abs(m.coords[v * 2] - x0), std::abs(m.coords[v * 2 + 1] - y0)});
  const auto n = static_cast<Eigen::Index>(points.size());
  Eigen::Matrix<double, Eigen::Dynamic, 6> phi(n, 6);
  Eigen::Matrix<double, Eigen::Dynamic, 2> values(n, 2);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int64_t v = points[static_cast<size_t>(i)];
    const double dx = (m.coords[v * 2] - x0) / scale, dy = (m.coords[v * 2 + 1] - y0) / scale;
    phi.row(i) << 1, dx, dy, dx * dx, dx * dy, dy * dy;
    values.row(i) << u[v * 2], u[v * 2 + 1];
  }
  Eigen::ColPivHouseholderQR<Eigen::Matrix<double, Eigen::Dynamic, 6>> qr(phi);
  qr.setThreshold(1e-5);  // |R_ii| / |R_00|: a normal-equations pivot of about 1e-10 per point
  if (qr.rank() < 6) return false;
  const Eigen::Matrix<double, 6, 2> coef = qr.solve(values);
  for (int c = 0; c < 2; ++c) out[c] = coef(0, c);
  return true;
}

}  // namespace

void NavierStokes::set_vertex_velocity(const std::vector<double>& u, Midpoints midpoints) {
  auto& s = *impl_;
  const auto& m = s.th.mesh();
  const int64_t nv = s.th.num_vertices();
  if (static_cast<int64_t>(u.size()) != 2 * nv)
    throw Error(cat("set_vertex_velocity: ", u.size(), " values for ", nv, " vertices (2 per vertex expected)"));
  for (double v : u)
    if (!std::isfinite(v)) throw Error("set_vertex_velocity: the velocity is not finite (NaN or Inf)");
  // Each vertex with the vertices of its cells (itself included).
  std::vector<std::vector<int64_t>> ring(midpoints == Midpoints::Quadratic ? nv : 0);
  for (int64_t c = 0; c < (ring.empty() ? 0 : s.th.num_cells()); ++c)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) ring[s.th.cell_node(c, i)].push_back(s.th.cell_node(c, j));
  for (auto& r : ring) {
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
  }
  std::vector<int64_t> points;
  for (int64_t n = 0; n < s.th.num_p2_nodes(); ++n) {
    const int64_t kx = s.th.velocity_dof(n, 0), ky = s.th.velocity_dof(n, 1);
    double value[2];
    if (n < nv) {
      value[0] = u[n * 2], value[1] = u[n * 2 + 1];
    } else {
      const int64_t a = s.th.edge_vertex(n - nv, 0), b = s.th.edge_vertex(n - nv, 1);
      bool fitted = false;
      if (!ring.empty() && !(s.dirichlet[kx] && s.dirichlet[ky])) {
        points.clear();
        std::set_union(ring[a].begin(), ring[a].end(), ring[b].begin(), ring[b].end(), std::back_inserter(points));
        const auto mid = s.th.node_coords(n);
        fitted = quadratic_fit_at(m, points, u, mid[0], mid[1], value);
        if (!fitted) {  // e.g. at a corner: the next ring of vertices too
          std::vector<int64_t> wider;
          for (int64_t v : points) wider.insert(wider.end(), ring[v].begin(), ring[v].end());
          std::sort(wider.begin(), wider.end());
          wider.erase(std::unique(wider.begin(), wider.end()), wider.end());
          fitted = quadratic_fit_at(m, wider, u, mid[0], mid[1], value);
        }
      }
      if (!fitted)
        for (int c = 0; c < 2; ++c) value[c] = 0.5 * (u[a * 2 + c] + u[b * 2 + c]);
    }
    if (!s.dirichlet[kx]) s.x[kx] = value[0];
    if (!s.dirichlet[ky]) s.x[ky] = value[1];
  }
  // A new history: BDF1 next (step() takes BDF2 only after a step of the same dt), on fresh LU
  // factors: stale ones from another state leave GMRES many iterations (a hybrid rollout's
  // solver steps measured 3.5x a regular step with refactor_every 5).
  s.x_prev = s.x_prev2 = s.w = s.x;
  std::fill(s.hist.begin(), s.hist.end(), 0.0);
  s.last_dt = 0;
  s.since_factor = 0;
}

std::vector<double> NavierStokes::vertex_pressure() const {
  const auto& s = *impl_;
  std::vector<double> p(s.th.num_vertices());
  for (int64_t v = 0; v < s.th.num_vertices(); ++v) p[v] = s.x[s.th.pressure_dof(v)] * s.cfg.density;
  return p;
}

std::vector<double> NavierStokes::vertex_vorticity() const {
  const auto& s = *impl_;
  std::vector<double> om(s.th.num_vertices(), 0.0), weight(s.th.num_vertices(), 0.0);
  for (int64_t c = 0; c < s.th.num_cells(); ++c) {
    for (int i = 0; i < 3; ++i) {
      double l[3] = {0, 0, 0}, gp[6][2];
      l[i] = 1;
      const double area = s.th.shape_gradients(c, l, gp);
      double w = 0;
      for (int j = 0; j < 6; ++j) {
        const int64_t n = s.th.cell_node(c, j);
        w += s.x[s.th.velocity_dof(n, 1)] * gp[j][0] - s.x[s.th.velocity_dof(n, 0)] * gp[j][1];
      }
      const int64_t v = s.th.cell_node(c, i);
      om[v] += area * w;
      weight[v] += area;
    }
  }
  for (int64_t v = 0; v < s.th.num_vertices(); ++v) om[v] /= weight[v];
  return om;
}

double NavierStokes::max_speed() const {
  const auto& s = *impl_;
  double m = 0;
  for (int64_t n = 0; n < s.th.num_p2_nodes(); ++n)
    m = std::max(m, std::hypot(s.x[s.th.velocity_dof(n, 0)], s.x[s.th.velocity_dof(n, 1)]));
  return m;
}

double NavierStokes::max_cfl(double dt) const {
  const auto& s = *impl_;
  const auto& m = s.th.mesh();
  double cfl = 0;
  for (int64_t c = 0; c < s.th.num_cells(); ++c) {
    double longest = 0, speed = 0;
    for (int i = 0; i < 3; ++i) {
      const int64_t a = m.cells[c * 3 + i], b = m.cells[c * 3 + (i + 1) % 3];
      longest =
          std::max(longest, std::hypot(m.coords[a * 2] - m.coords[b * 2], m.coords[a * 2 + 1] - m.coords[b * 2 + 1]));
    }
    for (int i = 0; i < 6; ++i) {
      const int64_t n = s.th.cell_node(c, i);
      speed = std::max(speed, std::hypot(s.x[s.th.velocity_dof(n, 0)], s.x[s.th.velocity_dof(n, 1)]));
    }
    cfl = std::max(cfl, speed * dt * longest / (2 * s.th.area(c)));
  }
  return cfl;
}

NavierStokes::TimeState NavierStokes::time_state() const {
  const auto& s = *impl_;
  TimeState ts;
  ts.time = s.t;
  ts.time_carry = s.t_carry;
  ts.last_dt = s.last_dt;
  ts.steps = s.nsteps;
  const int64_t nodes = s.th.num_p2_nodes(), nv = s.th.num_vertices();
  auto by_node = [&](const std::vector<double>& x, std::vector<double>& velocity, std::vector<double>& pressure) {
    velocity.resize(static_cast<size_t>(nodes * 2));
    pressure.resize(static_cast<size_t>(nv));
    for (int64_t n = 0; n < nodes; ++n)
      for (int c = 0; c < 2; ++c) velocity[n * 2 + c] = x[s.th.velocity_dof(n, c)];
    for (int64_t v = 0; v < nv; ++v) pressure[v] = x[s.th.pressure_dof(v)];
  };
  by_node(s.x, ts.velocity, ts.pressure);
  by_node(s.x_prev, ts.previous_velocity, ts.previous_pressure);
  return ts;
}

void NavierStokes::set_time_state(const TimeState& ts) {
  auto& s = *impl_;
  const int64_t nodes = s.th.num_p2_nodes(), nv = s.th.num_vertices();
  const std::pair<const std::vector<double>*, int64_t> parts[] = {
      {&ts.velocity, nodes * 2}, {&ts.previous_velocity, nodes * 2}, {&ts.pressure, nv}, {&ts.previous_pressure, nv}};
  const char* names[] = {"velocity", "previous velocity", "pressure", "previous pressure"};
  for (int k = 0; k < 4; ++k) {
    const auto& [values, expected] = parts[k];
    if (static_cast<int64_t>(values->size()) != expected)
      throw Error(cat("the state's ", names[k], " has ", values->size(), " values; this mesh takes ", expected,
                      k < 2 ? cat(" (2 per P2 node: ", nodes, " nodes)") : cat(" (1 per vertex)")));
    for (double x : *values)
      if (!std::isfinite(x)) throw Error(cat("the state's ", names[k], " holds a value that is not finite"));
  }
  if (!(std::isfinite(ts.time) && std::isfinite(ts.time_carry) && ts.last_dt >= 0 && std::isfinite(ts.last_dt) &&
        ts.steps >= 0))
    throw Error(
        cat("the state's time ", ts.time, ", last step ", ts.last_dt, " or step count ", ts.steps, " is not valid"));
  auto to_unknowns = [&](const std::vector<double>& velocity, const std::vector<double>& pressure) {
    std::vector<double> x(s.x.size(), 0.0);
    for (int64_t n = 0; n < nodes; ++n)
      for (int c = 0; c < 2; ++c) x[s.th.velocity_dof(n, c)] = velocity[n * 2 + c];
    for (int64_t v = 0; v < nv; ++v) x[s.th.pressure_dof(v)] = pressure[v];
    return x;
  };
  s.x = to_unknowns(ts.velocity, ts.pressure);
  s.x_prev = to_unknowns(ts.previous_velocity, ts.previous_pressure);
  s.x_prev2 = s.x_prev;
  // The advecting velocity and history term of the last solve are the next step's to recompute;
  // forces() before a step sees no time derivative.
  s.w = s.x;
  std::fill(s.hist.begin(), s.hist.end(), 0.0);
  s.mass_coef = 0;
  s.t = ts.time;
  s.t_carry = ts.time_carry;
  s.last_dt = ts.last_dt;
  s.nsteps = ts.steps;
  s.since_factor = 0;  // fresh factors at the next step
}

}  // namespace tessera::solvers
