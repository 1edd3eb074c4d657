// A box meshed with tetrahedra, only its x = 0 face in a group (tests/apps: app.mesh.untyped_boundary_3d).
SetFactory("OpenCASCADE");
Box(1) = {0, 0, 0, 1, 0.5, 0.5};
Physical Surface("inflow") = {1};
Physical Volume("fluid") = {1};
Mesh.CharacteristicLengthMax = 0.25;
