// Cylinder-channel meshes the benchmarks share, meshed by tessera through Gmsh, with their node
// types (inflow, outflow, walls and cylinder).
#pragma once
#include "mesh/gmsh_io.hpp"

namespace tessera::bench {

inline mesh::Mesh cylinder_mesh(double length, double cx, double cy, double radius, double h_near, double h_far) {
  mesh::CylinderChannel c;
  c.length = length;
  c.cx = cx;
  c.cy = cy;
  c.radius = radius;
  c.h_near = h_near;
  c.h_far = h_far;
  mesh::Mesh m = mesh::build_cylinder_channel(c);
  mesh::assign_node_types(m, mesh::cylinder_node_types());
  return m;
}

// The CylinderFlow-sized mesh of the training benchmarks: a 1.6 x 0.41 channel, about 1.7k
// nodes (--quick: about 350).
inline mesh::Mesh cylinder_flow_mesh(bool quick) {
  return cylinder_mesh(1.6, 0.33, 0.2, 0.05, quick ? 0.03 : 0.008, quick ? 0.06 : 0.03);
}

}  // namespace tessera::bench
