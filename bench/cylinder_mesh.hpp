// The CylinderFlow-sized mesh the training benchmarks share: a 1.6 x 0.41 channel with a
// cylinder, about 1.7k nodes (--quick: about 350), meshed by tessera through Gmsh.
#pragma once
#include "mesh/gmsh_io.hpp"

namespace tessera::bench {

inline mesh::Mesh cylinder_flow_mesh(bool quick) {
  mesh::CylinderChannel c;
  c.length = 1.6;
  c.cx = 0.33;
  c.h_near = quick ? 0.03 : 0.008;
  c.h_far = quick ? 0.06 : 0.03;
  return mesh::build_cylinder_channel(c);
}

}  // namespace tessera::bench
