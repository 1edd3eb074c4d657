// Gmsh through its C++ API: build meshes from .geo files and built-in parametric geometries,
// read and write .msh 4.1. Gmsh keeps process-wide state, so every call here opens and closes
// its own session; none may run concurrently in one process.
#pragma once
#include <cstdint>
#include <string>

#include "mesh/mesh.hpp"

namespace tessera::mesh {

// Cylinder in a channel (docs/references.md §1/§2): channel [0, length] x [0, height], a circular
// hole of `radius` at (cx, cy). Element size grows from h_near at the cylinder to h_far over
// `transition` (distance from the cylinder surface), via a Distance + Threshold size field.
// Physical groups: inflow (x = 0), outflow (x = length), walls (top, bottom), cylinder.
struct CylinderChannel {
  double length = 2.2, height = 0.41;
  double cx = 0.2, cy = 0.2, radius = 0.05;
  double h_near = 0.01, h_far = 0.04, transition = 0.3;
  // Refuse to mesh when the estimated node count exceeds this (a mistyped size such as
  // h_near = 1e-9 would otherwise run for hours or crash inside Gmsh).
  int64_t max_nodes = 5'000'000;
};

// The node count that the size field of `c` gives, estimated as the integral of the node
// density 1 / (0.87 h^2) of a triangulation with edge length h (h growing linearly from h_near
// to h_far over `transition` from the cylinder). Within a factor of about 1.5 of Gmsh's count.
double estimate_cylinder_nodes(const CylinderChannel& c);

// Default group -> node type map for the cylinder channel (inflow 4, outflow 5, walls and
// cylinder 6).
std::map<std::string, int32_t> cylinder_node_types();

// All three return a validated, counter-clockwise mesh with its physical groups (boundary
// groups of dimension cell_dim - 1 and below); node types are left at 0 (see assign_node_types).
Mesh build_cylinder_channel(const CylinderChannel& geometry);
// The checks build_cylinder_channel makes before meshing (an Error keyed to the mesh.cylinder.*
// key at fault): positive sizes with h_far >= h_near; the cylinder strictly inside the channel,
// at least h_near / 2 from its sides (a thinner gap is meshed with slivers); h_near at most the
// radius (at least about 6 elements around the cylinder); h_far at most half the channel height.
void check_cylinder_channel(const CylinderChannel& geometry);
// Meshes a .geo (unless it holds a mesh). A 2-D one is refused when a lower bound on its node
// count from the boundary mesh (its area over its longest boundary element squared) exceeds
// `max_nodes`: a mistyped size is an error in seconds, not a meshing run of hours.
Mesh mesh_from_geo(const std::string& geo_path, int64_t max_nodes = 5'000'000);
Mesh read_msh(const std::string& msh_path);

// Writes .msh 4.1 (ASCII) with the cells in a physical surface/volume named mesh.domain_name
// (the source's, "domain" by default) and one physical group per mesh group; written to a
// temporary name and renamed.
void write_msh(const Mesh& mesh, const std::string& msh_path);

}  // namespace tessera::mesh
