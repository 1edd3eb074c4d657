// The unit square of tests/data/square.geo with a mistyped element size (1e-5 for 1e-2): about
// 10^10 nodes, which Gmsh would mesh for hours. tessera refuses it from the 1-D mesh.
SetFactory("Built-in");
h = 1e-5;
Point(1) = {0, 0, 0, h}; Point(2) = {1, 0, 0, h}; Point(3) = {1, 1, 0, h}; Point(4) = {0, 1, 0, h};
Line(1) = {1, 2}; Line(2) = {2, 3}; Line(3) = {3, 4}; Line(4) = {4, 1};
Curve Loop(1) = {1, 2, 3, 4};
Plane Surface(1) = {1};
Physical Curve("inflow") = {4};
Physical Curve("walls") = {1, 3};
Physical Curve("outflow") = {2};
Physical Surface("fluid") = {1};
