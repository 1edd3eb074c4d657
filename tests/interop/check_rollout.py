#!/usr/bin/python3
"""Reads tessera-rollout's and tessera-train's output with independent readers (meshio, h5py, csv).

usage: check_rollout.py <rollout_out_dir> <checkpoint.h5>
"""
import csv
import os
import sys

import h5py
import meshio
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402
from vtkmodules.vtkIOXML import vtkXMLUnstructuredGridReader

out, ck = sys.argv[1], sys.argv[2]
check = Checks()


with meshio.xdmf.TimeSeriesReader(f"{out}/rollout.xmf") as r:
    points, cells = r.read_points_cells()
    steps = r.num_steps
    t0, d0, _ = r.read_data(0)
    t5, d5, _ = r.read_data(5)
check(steps == 20, f"rollout series has every step (got {steps})")
check(set(d5) == {"velocity_pred", "velocity_true", "error", "node_type"}, f"rollout fields {sorted(d5)}")
check(np.allclose(d0["velocity_pred"], d0["velocity_true"]), "step 0 starts from the true state")
err = np.linalg.norm(d5["velocity_pred"] - d5["velocity_true"], axis=1)
check(np.allclose(err, d5["error"].ravel()), "error field is |pred - true|")
fixed = d5["node_type"].ravel() != 0
fixed &= d5["node_type"].ravel() != 5
check(np.allclose(d5["velocity_pred"][fixed], d5["velocity_true"][fixed]), "boundary nodes imposed")
check(abs(t5 - 0.25) < 1e-12, f"time of step 5 is 5 dt (got {t5})")

v = vtkXMLUnstructuredGridReader()
v.SetFileName(f"{out}/rollout_5.vtu")
v.Update()
check(v.GetOutput().GetNumberOfPoints() == len(points), "vtu step has the mesh's points")
m = meshio.read(f"{out}/rollout_5.vtu")  # meshio 5 cannot read VTK String arrays: the deck is chars
check(len(m.points) == len(points) and np.allclose(np.sort(m.point_data["velocity_pred"][:, 0]),
                                                   np.sort(d5["velocity_pred"][:, 0])), "meshio reads a vtu step")
vtu_deck = bytes(m.field_data["tessera_deck"].astype(np.uint8)).decode()
check(vtu_deck.startswith("# tessera ") and "\nrollout:" in vtu_deck,
      "the vtu's deck is readable text: its provenance lines, then the deck")

rows = list(csv.DictReader(open(f"{out}/rollout_metrics.csv")))
check(len(rows) == 19 and float(rows[0]["rmse"]) >= 0, "per-step metrics")
summary = {r["metric"]: r for r in csv.DictReader(open(f"{out}/rollout_summary.csv"))}
steps_run = int(float(summary["rollout_steps"]["model"])) if "rollout_steps" in summary else -1
expected_rows = {"one_step_rmse", "rollout_rmse_1", "rollout_rmse_all", "rollout_steps"}
if steps_run >= 50:
    expected_rows.add("rollout_rmse_50")
check(steps_run == 19 and set(summary) == expected_rows, f"summary rows named by the {steps_run} steps run")

# The errors recomputed from the series: step k's RMSE over every node and both channels of the
# prediction against the truth, and of persistence (holding the first true state); the all-step
# values are the root mean square of the per-step ones.
with meshio.xdmf.TimeSeriesReader(f"{out}/rollout.xmf") as r:
    r.read_points_cells()
    frames = [r.read_data(k)[1] for k in range(r.num_steps)]
rmse = np.array([np.sqrt(np.mean((f["velocity_pred"][:, :2] - f["velocity_true"][:, :2]) ** 2)) for f in frames[1:]])
pers = np.array([np.sqrt(np.mean((frames[0]["velocity_true"][:, :2] - f["velocity_true"][:, :2]) ** 2))
                 for f in frames[1:]])
csv_rmse = np.array([float(r["rmse"]) for r in rows])
csv_pers = np.array([float(r["persistence_rmse"]) for r in rows])
check(np.allclose(csv_rmse, rmse, rtol=1e-5, atol=0), f"rollout_metrics rmse is the series' (max rel. diff "
      f"{np.max(np.abs(csv_rmse / rmse - 1)):.2e})")
check(np.allclose(csv_pers, pers, rtol=1e-5, atol=0), "rollout_metrics persistence_rmse is the series'")
all_model, all_pers = np.sqrt(np.mean(rmse ** 2)), np.sqrt(np.mean(pers ** 2))
check(abs(float(summary["rollout_rmse_all"]["model"]) / all_model - 1) < 1e-5
      and abs(float(summary["rollout_rmse_all"]["persistence"]) / all_pers - 1) < 1e-5,
      f"rollout_rmse_all is the RMS over the steps ({all_model:.6g}, {all_pers:.6g})")
check(abs(float(summary["rollout_rmse_1"]["model"]) / rmse[0] - 1) < 1e-5, "rollout_rmse_1 is step 1's")

# The wake probe (train/wake_probe.hpp) recomputed with numpy from the series: the normal node of
# largest cross-stream variance in the data, and the peak of each Hann-windowed spectrum.
with meshio.xdmf.TimeSeriesReader(f"{out}/rollout.xmf") as r:
    r.read_points_cells()
    series = [r.read_data(k) for k in range(r.num_steps)]
node_type = series[0][1]["node_type"].ravel()
v_true = np.array([d["velocity_true"][:, 1] for _, d, _ in series])
v_pred = np.array([d["velocity_pred"][:, 1] for _, d, _ in series])
dt = series[1][0] - series[0][0]
variance = np.where(node_type == 0, v_true.var(axis=0), -1.0)
probe = int(np.argmax(variance))


def dominant_frequency(x):
    scale = max(1.0, np.abs(x).max())
    x = x - x.mean()
    if np.abs(x).max() <= 1e-12 * scale:
        return 0.0
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), 8 * len(x)))
    k = 1 + int(np.argmax(spec[1:]))
    a, b, c = np.log(spec[k - 1:k + 2])
    shift = np.clip(0.5 * (a - c) / (a - 2 * b + c), -0.5, 0.5) if a - 2 * b + c < 0 else 0.0
    return (k + shift) / (8 * len(x) * dt)


wake = next(csv.DictReader(open(f"{out}/rollout_wake_probe.csv")))
check(int(wake["node"]) == probe, f"wake probe node {wake['node']} (numpy: {probe})")
check(np.allclose([float(wake["x"]), float(wake["y"])], points[probe][:2]), "wake probe position")
for name, series_v in (("true", v_true), ("pred", v_pred)):
    f_np = dominant_frequency(series_v[:, probe].astype(np.float64))
    # Reported only when the series holds at least two periods of it (train/wake_probe.hpp).
    if f_np > 0 and f_np * len(series) * dt < 2:
        check(np.isnan(float(wake[f"frequency_{name}"])),
              f"wake frequency_{name} {wake[f'frequency_{name}']} not reported: {f_np * len(series) * dt:.2f} periods")
    else:
        check(abs(float(wake[f"frequency_{name}"]) - f_np) <= 1e-6 * max(1.0, f_np),
              f"wake frequency_{name} {wake[f'frequency_{name}']} (numpy: {f_np})")
    check(np.isclose(float(wake[f"amplitude_{name}"]), series_v[:, probe].std(), rtol=1e-6),
          f"wake amplitude_{name}")

# The probe's signal at every step, against the series read back by meshio, and its picture.
signal = list(csv.DictReader(open(f"{out}/rollout_wake_probe_series.csv")))
check(len(signal) == len(series), f"wake probe series has every step ({len(signal)} rows, {len(series)} steps)")
check(np.allclose([float(row["time"]) for row in signal], [t for t, _, _ in series], atol=1e-12), "wake probe times")
for name, series_v in (("true", v_true), ("pred", v_pred)):
    check(np.allclose([float(row[f"v_{name}"]) for row in signal], series_v[:, probe], rtol=1e-6, atol=1e-7),
          f"wake probe series v_{name} is the cross-stream velocity at the probe node")
with open(f"{out}/rollout_wake_probe.png", "rb") as png:
    check(png.read(8) == b"\x89PNG\r\n\x1a\n", "wake probe picture is a PNG")

with h5py.File(ck, "r") as f:
    check(f.attrs["family"] in ("transformer", b"transformer"), "checkpoint family")
    names = list(f["tensors"].keys())
    check(any(n.startswith("model.") for n in names), "checkpoint has model tensors")
    check(any(n.startswith("optim.") for n in names), "checkpoint has optimiser moments")
    check("rng.sampler" in names, "checkpoint has the sampler RNG state")

check.finish()
