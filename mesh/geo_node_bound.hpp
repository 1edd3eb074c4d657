// The node limit for meshing a 2-D .geo (mesh.max_nodes): Gmsh 4.8 has no node limit of its own
// nor a reader for the points' sizes, so a mistyped size would mesh for hours.
#pragma once

namespace tessera::mesh {

// A lower bound on the node count of the 2-D mesh of the current model, from its 1-D mesh alone
// (generated beforehand): the boundary's nodes, and for each surface its area A over the square of
// its longest boundary element h. Gmsh sizes the interior from the boundary (the default
// Mesh.MeshSizeExtendFromBoundary; other constraints can only make elements smaller), so interior
// edges are not much longer than h, and a triangulation with edges of length h holds about
// 1.15 / h^2 nodes per area: A / (2 h^2) leaves room for edges 1.5 h long. A graded mesh (small
// elements on an obstacle, large ones on the outer walls) has a large h and a small bound; a
// mistyped size (1e-5 for 1e-2) gives a bound of billions in the time of the 1-D mesh.
// Needs a Gmsh session whose current model holds the 1-D mesh only.
double geo_node_lower_bound();

}  // namespace tessera::mesh
