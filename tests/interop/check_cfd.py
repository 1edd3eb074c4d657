#!/usr/bin/python3
"""Reads tessera-cfd's output with independent readers (h5py, meshio, VTK, csv).

usage: check_cfd.py <case_dir> <dataset_dir> [<same_dataset_made_another_way>]
  case_dir: a short DFG 2D-2 run (dfg-2d2.xmf, .pvd, _forces.csv, _forces.png);
  dataset_dir: a small job: dataset run (meta.json, train/valid/test.h5, trajectories.csv);
  the optional third directory must hold bit-identical data (reproducibility: np=2 and
  resumed generation against a serial one-shot run).
"""
import csv
import json
import os
import sys

import h5py
import meshio
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402
from vtkmodules.vtkIOImage import vtkPNGReader
from vtkmodules.vtkIOXML import vtkXMLUnstructuredGridReader

case, data = sys.argv[1], sys.argv[2]
other = sys.argv[3] if len(sys.argv) > 3 else None
check = Checks()

# --- the flow case: XDMF series, VTU pieces, forces table
with meshio.xdmf.TimeSeriesReader(f"{case}/dfg-2d2.xmf") as r:
    points, cells = r.read_points_cells()
    steps = r.num_steps
    t_last, d_last, _ = r.read_data(steps - 1)
check(steps == 3, f"fields at t = 0, 0.05, 0.1 (got {steps} steps)")
check(abs(t_last - 0.1) < 1e-12, f"last time 0.1 (got {t_last})")
check({"velocity", "pressure", "vorticity", "node_type"} <= set(d_last), f"case fields {sorted(d_last)}")
u = d_last["velocity"]
types = d_last["node_type"].ravel().astype(int)
inflow = types == 4
y = points[:, 1]
check(np.allclose(u[inflow, 0], 4 * 1.5 * y[inflow] * (0.41 - y[inflow]) / 0.41**2, atol=1e-12), "parabolic inflow")
check(np.allclose(u[types == 6, :2], 0, atol=1e-12), "no-slip walls")
check(np.isfinite(d_last["vorticity"]).all(), "finite vorticity")
reader = vtkXMLUnstructuredGridReader()
reader.SetFileName(f"{case}/dfg-2d2_2.vtu")
reader.Update()
grid = reader.GetOutput()
check(grid.GetNumberOfPoints() == len(points), "VTU has the mesh's points")
check(grid.GetPointData().GetArray("pressure") is not None, "VTU has pressure")
with open(f"{case}/dfg-2d2_forces.csv") as f:
    rows = list(csv.DictReader(f))
check(len(rows) == 20, f"one force row per step (got {len(rows)})")
check(all(np.isfinite(float(r["c_d"])) for r in rows), "finite c_D")
check(float(rows[-1]["c_d"]) > 1, "drag builds up after the impulsive start")
png = vtkPNGReader()
png.SetFileName(f"{case}/dfg-2d2_forces.png")
png.Update()
dims = png.GetOutput().GetDimensions()
check(dims[:2] == (1320, 300), f"force-history plot: three 440 x 300 panels (got {dims[:2]})")

# --- the dataset: graph-physics layout (docs/references.md §4)
meta = json.load(open(f"{data}/meta.json"))
check(meta["dt"] == 0.01 and meta["trajectory_length"] == 10, f"meta dt/length {meta['dt']} {meta['trajectory_length']}")
check(set(meta["field_names"]) == {"cells", "mesh_pos", "node_type", "velocity", "pressure"}, "field names")
check(meta["features"]["velocity"]["type"] == "dynamic", "velocity is dynamic")
counts = {"train": 2, "valid": 1, "test": 1}
for split, n in counts.items():
    with h5py.File(f"{data}/{split}.h5", "r") as f:
        check(sorted(f.keys(), key=int) == [str(i) for i in range(n)], f"{split} groups {list(f.keys())}")
        g = f["0"]
        nv = g["mesh_pos"].shape[1]
        check(g["mesh_pos"].shape == (1, nv, 2) and g["mesh_pos"].dtype == np.float32, "mesh_pos [1, N, 2] float32")
        check(g["cells"].shape[0] == 1 and g["cells"].shape[2] == 3 and g["cells"].dtype == np.int32, "cells int32")
        check(g["node_type"].dtype == np.int32 and set(np.unique(g["node_type"][()])) == {0, 4, 5, 6}, "node types 0/4/5/6")
        check(g["velocity"].shape == (10, nv, 2) and g["velocity"].dtype == np.float32, "velocity [T, N, 2] float32")
        check(g["pressure"].shape == (10, nv, 1), "pressure [T, N, 1]")
        v = g["velocity"][()]
        check(np.isfinite(v).all() and np.abs(v).max() < 10, "finite, bounded velocity")
        check(np.abs(v[-1] - v[0]).max() > 1e-4, "the flow evolves")
        nt = g["node_type"][0, :, 0]
        check(np.abs(v[:, nt == 6]).max() == 0, "walls at rest in every step")
with open(f"{data}/trajectories.csv") as f:
    rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
check(len(rows) == 4 and [r["split"] for r in rows] == ["train", "train", "valid", "test"], "trajectory table")

if other:
    for split in counts:
        with h5py.File(f"{data}/{split}.h5", "r") as a, h5py.File(f"{other}/{split}.h5", "r") as b:
            same = all(np.array_equal(a[k][name][()], b[k][name][()]) for k in a for name in a[k])
            check(same, f"{split}: identical data from the two generations")
check.finish()
