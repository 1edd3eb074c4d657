#include "mesh/geo_node_bound.hpp"

#include <gmsh.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tessera::mesh {

// The area does not trust orientations (Gmsh keeps a hole's loop as written, and a curve's
// elements need not run its way): each closed loop of boundary elements is walked as an
// undirected cycle and its enclosed area taken unsigned.
double geo_node_lower_bound() {
  std::vector<std::size_t> tags;
  std::vector<double> coords, params;
  gmsh::model::mesh::getNodes(tags, coords, params, -1, -1, false, false);
  std::unordered_map<std::size_t, size_t> index;
  for (size_t i = 0; i < tags.size(); ++i) index.emplace(tags[i], i);
  const double boundary_nodes = static_cast<double>(tags.size());
  double extend = 1;
  try {
    gmsh::option::getNumber("Mesh.MeshSizeExtendFromBoundary", extend);
  } catch (...) {  // Gmsh 4.8 throws a non-std value (its error text in its log), hence "..."
    extend = 1;    // the default, where this Gmsh names the option otherwise
  }
  if (extend != 1 && extend != 2) return boundary_nodes;  // interior sizes not from the surfaces' boundaries
  const auto x = [&](size_t i) { return coords[3 * i]; };
  const auto y = [&](size_t i) { return coords[3 * i + 1]; };
  double interior = 0;
  gmsh::vectorpair surfaces;
  gmsh::model::getEntities(surfaces, 2);
  for (const auto& surface : surfaces) {
    gmsh::vectorpair curves;
    gmsh::model::getBoundary({surface}, curves, false, false, false);
    // The surface's boundary elements as undirected edges between node indices.
    std::vector<std::pair<size_t, size_t>> edges;
    double longest = 0;
    for (const auto& curve : curves) {
      std::vector<int> types;
      std::vector<std::vector<std::size_t>> elements, nodes;
      gmsh::model::mesh::getElements(types, elements, nodes, 1, std::abs(curve.second));
      for (size_t t = 0; t < types.size(); ++t) {
        const size_t per = nodes[t].size() / std::max<size_t>(elements[t].size(), 1);  // 2, or 3 for order 2
        for (size_t e = 0; e + per <= nodes[t].size(); e += per) {
          const auto a = index.find(nodes[t][e]), b = index.find(nodes[t][e + 1]);
          if (a == index.end() || b == index.end()) continue;
          edges.emplace_back(a->second, b->second);
          longest = std::max(longest, std::hypot(x(b->second) - x(a->second), y(b->second) - y(a->second)));
        }
      }
    }
    if (longest == 0) continue;
    std::unordered_map<size_t, std::vector<size_t>> incident;  // node -> its edges
    for (size_t e = 0; e < edges.size(); ++e) {
      incident[edges[e].first].push_back(e);
      incident[edges[e].second].push_back(e);
    }
    std::vector<char> walked(edges.size(), 0);
    std::vector<double> loops;  // the unsigned area each closed walk encloses
    for (size_t first = 0; first < edges.size(); ++first) {
      if (walked[first]) continue;
      walked[first] = 1;
      const size_t start = edges[first].first;
      size_t at = edges[first].second;
      double twice = 0;  // shoelace relative to the walk's first node
      for (;;) {
        size_t next_edge = edges.size();
        for (size_t e : incident[at])
          if (!walked[e]) {
            next_edge = e;
            break;
          }
        if (next_edge == edges.size()) break;
        walked[next_edge] = 1;
        const size_t to = edges[next_edge].first == at ? edges[next_edge].second : edges[next_edge].first;
        twice += (x(at) - x(start)) * (y(to) - y(start)) - (x(to) - x(start)) * (y(at) - y(start));
        at = to;
      }
      loops.push_back(std::abs(twice) / 2);
    }
    // The largest loop is the outer boundary, the others are its holes.
    const double outer = *std::max_element(loops.begin(), loops.end());
    const double holes = std::accumulate(loops.begin(), loops.end(), 0.0) - outer;
    double area = outer - holes;
    double x0, y0, z0, x1, y1, z1;  // and at most the surface's bounding box
    gmsh::model::getBoundingBox(surface.first, surface.second, x0, y0, z0, x1, y1, z1);
    area = std::clamp(area, 0.0, (x1 - x0) * (y1 - y0));
    interior += area / (2 * longest * longest);
  }
  return std::max(boundary_nodes, interior);
}

}  // namespace tessera::mesh
