// A DFG-sized channel with an elliptic body (0.16 x 0.08) where DFG has its cylinder: the forces
// reference-length warning (app.cfd.reference_length_ellipse).
SetFactory("OpenCASCADE");
Rectangle(1) = {0, 0, 0, 2.2, 0.41};
Disk(2) = {0.2, 0.2, 0, 0.08, 0.04};
BooleanDifference(3) = { Surface{1}; Delete; }{ Surface{2}; Delete; };
Mesh.CharacteristicLengthMax = 0.06;
Mesh.CharacteristicLengthMin = 0.01;
eps=1e-6;
Physical Curve("inflow") = Curve In BoundingBox{-eps,-eps,-eps, eps,0.41+eps,eps};
Physical Curve("outflow") = Curve In BoundingBox{2.2-eps,-eps,-eps, 2.2+eps,0.41+eps,eps};
Physical Curve("walls") = Curve In BoundingBox{-eps,-eps,-eps, 2.2+eps,eps,eps};
Physical Curve("walls") += Curve In BoundingBox{-eps,0.41-eps,-eps, 2.2+eps,0.41+eps,eps};
Physical Curve("cylinder") = Curve In BoundingBox{0.1,0.1,-eps,0.3,0.3,eps};
Physical Surface("fluid") = {3};
