// A graded 2-D mesh for the .geo node-count bound (tests/mesh/test_gmsh.cpp): a channel with a
// cylindrical hole, elements of 0.01 on the cylinder and 0.08 on the outer walls, and a second
// surface beside it sharing the outflow line (two surfaces, one of them with a hole).
SetFactory("Built-in");
Point(1) = {0, 0, 0, 0.08}; Point(2) = {2.2, 0, 0, 0.08}; Point(3) = {2.2, 0.41, 0, 0.08}; Point(4) = {0, 0.41, 0, 0.08};
Point(5) = {0.2, 0.2, 0, 0.01}; Point(6) = {0.25, 0.2, 0, 0.01}; Point(7) = {0.2, 0.25, 0, 0.01};
Point(8) = {0.15, 0.2, 0, 0.01}; Point(9) = {0.2, 0.15, 0, 0.01};
Point(10) = {2.6, 0, 0, 0.04}; Point(11) = {2.6, 0.41, 0, 0.04};
Line(1) = {1, 2}; Line(2) = {2, 3}; Line(3) = {3, 4}; Line(4) = {4, 1};
Circle(5) = {6, 5, 7}; Circle(6) = {7, 5, 8}; Circle(7) = {8, 5, 9}; Circle(8) = {9, 5, 6};
Line(9) = {2, 10}; Line(10) = {10, 11}; Line(11) = {11, 3};
Curve Loop(1) = {1, 2, 3, 4};
Curve Loop(2) = {5, 6, 7, 8};
Curve Loop(3) = {9, 10, 11, -2};
Plane Surface(1) = {1, 2};
Plane Surface(2) = {3};
Physical Curve("inflow") = {4};
Physical Curve("walls") = {1, 3, 9, 11};
Physical Curve("cylinder") = {5, 6, 7, 8};
Physical Curve("outflow") = {10};
Physical Surface("fluid") = {1, 2};
