// Unit square with two boundary groups, meshed by tessera through Gmsh (tests/test_gmsh.cpp).
SetFactory("Built-in");
h = 0.25;
Point(1) = {0, 0, 0, h}; Point(2) = {1, 0, 0, h}; Point(3) = {1, 1, 0, h}; Point(4) = {0, 1, 0, h};
Line(1) = {1, 2}; Line(2) = {2, 3}; Line(3) = {3, 4}; Line(4) = {4, 1};
Curve Loop(1) = {1, 2, 3, 4};
Plane Surface(1) = {1};
Physical Curve("inflow") = {4};
Physical Curve("walls") = {1, 3};
Physical Curve("outflow") = {2};
Physical Surface("fluid") = {1};
