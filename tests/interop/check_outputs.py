#!/usr/bin/python3
"""Reads tessera's output with independent Python readers (Debian's meshio, h5py, vtk).

usage: check_outputs.py <cylinder_out_dir> <test_out_dir> [<cylinder_np2_out_dir>]
Interop proof only: Python is never on tessera's product path.
"""
import json
import os
import sys

import h5py
import meshio
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402
from vtkmodules.vtkIOXML import vtkXMLPUnstructuredGridReader, vtkXMLUnstructuredGridReader

check = Checks()


cyl, test_out = sys.argv[1], sys.argv[2]
np2 = sys.argv[3] if len(sys.argv) > 3 else None

# XDMF time series (meshio) against the HDF5 heavy data (h5py).
with meshio.xdmf.TimeSeriesReader(f"{cyl}/cylinder.xmf") as r:
    points, cells = r.read_points_cells()
    t, point_data, _ = r.read_data(0)
with h5py.File(f"{cyl}/cylinder_mesh.h5", "r") as f:
    coords = f["coords"][()]
    tri = f["cells"][()]
    deck = f.attrs["tessera_deck"]
    deck = deck.decode() if isinstance(deck, bytes) else deck
check(np.array_equal(points, coords), "xmf points equal the h5 coordinates")
check(cells[0].type == "triangle" and np.array_equal(cells[0].data, tri), "xmf triangles equal the h5 cells")
check("source: cylinder" in deck, "resolved deck stored in the mesh h5")
check(deck.startswith("# tessera ") and " (git " in deck.splitlines()[0] and deck.splitlines()[1].startswith("# run on "),
      "the stored deck begins with what produced it (version, commit, ranks, host)")
types = set(np.unique(point_data["node_type"]).astype(int))
check(types == {0, 4, 5, 6}, f"node types are the MeshGraphNets codes (got {types})")

# VTU (VTK's reader) and MSH (meshio) describe the same mesh.
r = vtkXMLUnstructuredGridReader()
r.SetFileName(f"{cyl}/cylinder.vtu")
r.Update()
g = r.GetOutput()
check(g.GetNumberOfPoints() == len(points) and g.GetNumberOfCells() == len(tri), "vtu has the mesh's points and cells")
msh = meshio.read(f"{cyl}/cylinder.msh")
check(len(msh.points) == len(points), "msh has the mesh's nodes")
check(sum(len(c.data) for c in msh.cells if c.type == "triangle") == len(tri), "msh has the mesh's triangles")
check(set(msh.field_data) >= {"inflow", "outflow", "walls", "cylinder"}, "msh keeps the physical groups")

# Partitioned output: the .pvtu of the np=2 run is the same mesh as one dataset.
if np2:
    p = vtkXMLPUnstructuredGridReader()
    p.SetFileName(f"{np2}/cylinder.pvtu")
    p.Update()
    pg = p.GetOutput()
    check(pg.GetNumberOfCells() == len(tri), "pvtu pieces together hold every cell")
    check(pg.GetCellData().GetArray("rank").GetRange() == (0.0, 1.0), "pvtu has pieces from ranks 0 and 1")
    with meshio.xdmf.TimeSeriesReader(f"{np2}/cylinder.xmf") as r2:
        p2, c2 = r2.read_points_cells()
    check(np.array_equal(p2, points) and np.array_equal(c2[0].data, tri), "np=2 XDMF equals np=1 XDMF")

# Dataset in the graph-physics layout, written by test_io.
ds = f"{test_out}/dataset"
meta = json.load(open(f"{ds}/meta.json"))
check(meta["trajectory_length"] == 5 and abs(meta["dt"] - 0.01) < 1e-12, "meta.json dt and length")
check(meta["field_names"] == ["cells", "mesh_pos", "node_type", "velocity", "pressure"], "meta.json field names")
with h5py.File(f"{ds}/train.h5", "r") as f:
    check(sorted(f.keys()) == ["0", "1", "2"], "one group per trajectory")
    for name in meta["field_names"]:
        feat = meta["features"][name]
        d = f["1"][name]
        expect_t = feat["shape"][0]
        check(d.shape[0] == expect_t and d.shape[2] == feat["shape"][2], f"{name} shape {d.shape} matches meta")
        check(str(d.dtype) == feat["dtype"], f"{name} dtype {d.dtype} is {feat['dtype']}")
    check(np.allclose(f["1"]["velocity"][0, 0], [1.0, 1.001]), "velocity values")

check.finish()
