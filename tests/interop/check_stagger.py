#!/usr/bin/python3
"""Reads a NeuralStagger rollout (tessera-rollout on a stagger checkpoint) with independent readers:
the .pvd collection and its .vti frames with VTK, the errors CSV with numpy, the checkpoint with h5py.

usage: check_stagger.py <rollout_out_dir> <checkpoint.h5>
Checks: every .vti the .pvd lists opens with the N x N grid of the checkpoint, holds vorticity,
reference and error with error = vorticity - reference, frame 0 has no error, the time stamps are
multiples of the checkpoint's dt; the CSV's per-step errors are finite, at times step * dt, and
persistence's error is positive. (The test's model trains for a few steps only: its accuracy is
checked by test_stagger, not here.)
"""
import os
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOXML import vtkXMLImageDataReader

check = Checks()
out, ckpt = sys.argv[1], sys.argv[2]
with h5py.File(ckpt, "r") as f:
    attrs = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
check(attrs.get("family") == "stagger", f"checkpoint family is stagger, got {attrs.get('family')}")
n, dt = int(attrs["stagger.n"]), float(attrs["stagger.dt"])

frames = ET.parse(f"{out}/rollout.pvd").getroot().findall("./Collection/DataSet")
check(len(frames) >= 2, f"the .pvd lists frames ({len(frames)})")
csv_steps = len(np.genfromtxt(f"{out}/rollout_errors.csv", delimiter=",", names=True))
last = float(frames[-1].get("timestep"))
check(abs(last / dt - csv_steps) < 1e-9,
      f"the last frame is the last step ({last} = {csv_steps} x {dt}; a cadence that did not divide the steps left it out)")
for k, ds in enumerate(frames):
    t = float(ds.get("timestep"))
    check(abs(t / dt - round(t / dt)) < 1e-9, f"frame {k}: time {t} is a multiple of dt {dt}")
    r = vtkXMLImageDataReader()
    r.SetFileName(os.path.join(out, ds.get("file")))
    r.Update()
    img = r.GetOutput()
    check(img.GetDimensions()[:2] == (n, n), f"frame {k}: grid {img.GetDimensions()} is {n} x {n}")
    pd = img.GetPointData()
    w, ref, err = (vtk_to_numpy(pd.GetArray(a)) for a in ("vorticity", "reference", "error"))
    check(np.allclose(err, w - ref, atol=1e-5 * np.abs(ref).max()), f"frame {k}: error = vorticity - reference")
    if k == 0:
        check(np.abs(err).max() == 0, "frame 0 (the initial state) has no error")
    deck = img.GetFieldData().GetArray("tessera_deck")
    check(deck is not None and bytes(vtk_to_numpy(deck).astype(np.uint8)).decode().find("rollout:") >= 0,
          f"frame {k} stores the resolved deck (field data tessera_deck)")

csv = np.genfromtxt(f"{out}/rollout_errors.csv", delimiter=",", names=True)
check(np.all(np.isfinite(csv["rel_l2_mean"])), "errors are finite")
check(np.all(csv["rel_l2_mean"] <= csv["rel_l2_max"] * (1 + 1e-9)), "the mean error is at most the largest")
# A written frame's error ||w - ref|| / ||ref|| (one of the trajectories the table averages) is at
# most the table's largest at that step; dividing by ||w|| or taking another step would not hold.
for ds in frames[1:]:
    step = int(round(float(ds.get("timestep")) / dt))
    r = vtkXMLImageDataReader()
    r.SetFileName(os.path.join(out, ds.get("file")))
    r.Update()
    pd = r.GetOutput().GetPointData()
    w, ref = (vtk_to_numpy(pd.GetArray(a)).astype(np.float64) for a in ("vorticity", "reference"))
    rel = np.linalg.norm(w - ref) / np.linalg.norm(ref)
    row = np.flatnonzero(csv["step"] == step)
    check(len(row) == 1 and rel <= csv["rel_l2_max"][row[0]] * (1 + 1e-5) and rel > 0,
          f"step {step}: the frame's relative L2 error {rel:.6g} is within the table's largest")
check(np.allclose(csv["time"], csv["step"] * dt), "times are step * dt")
check(csv["persistence_mean"][-1] > 0, "persistence error is positive")
check.finish()
