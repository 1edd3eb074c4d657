#!/usr/bin/python3
"""Foreign datasets written by h5py and meshio, converted by tessera-import and read back with h5py.

A small cylinder-like channel flow (a structured triangulation of [0, 2.2] x [0, 0.41] with the
cells around a cylinder removed; an analytic velocity, zero on the channel walls and the
cylinder) is written as
  - a velocity-only graph-physics HDF5 file (h5py: groups 0, 1, 2; mesh_pos and cells per step;
    no node_type, no pressure; dt in a meta.json beside it),
  - a meshio VTU series (one .vtu per step, velocity and pressure; no .pvd, so dt is given),
  - a meshio XDMF3 time series (TimeSeriesWriter),
then each is converted and the result is checked: counts, values equal to what was written,
pressure absent or present, and the node types of the inference rule (docs/import.md).

usage: check_import.py <tessera-import> <deck> <out_dir>
"""
import json
import os
import shutil
import subprocess
import sys

import h5py
import meshio
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402

app, deck, out = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
os.makedirs(out, exist_ok=True)
check = Checks()

# --- the flow -----------------------------------------------------------------------------------
L, H, NX, NY, XC, YC, R = 2.2, 0.41, 33, 12, 0.4, 0.2, 0.07
xs, ys = np.linspace(0, L, NX + 1), np.linspace(0, H, NY + 1)
grid = np.array([[x, y] for y in ys for x in xs])
tris = []
for j in range(NY):
    for i in range(NX):
        a, b = j * (NX + 1) + i, j * (NX + 1) + i + 1
        c, d = b + NX + 1, a + NX + 1
        tris += [[a, b, c], [a, c, d]]
tris = np.array(tris)
centroids = grid[tris].mean(axis=1)
tris = tris[np.hypot(centroids[:, 0] - XC, centroids[:, 1] - YC) > R]  # the cylinder: a hole
used = np.unique(tris)
renumber = -np.ones(len(grid), dtype=np.int64)
renumber[used] = np.arange(len(used))
points, cells = grid[used], renumber[tris].astype(np.int32)
n = len(points)

edges = {}
for t in cells:
    for k in range(3):
        e = tuple(sorted((int(t[k]), int(t[(k + 1) % 3]))))
        edges[e] = edges.get(e, 0) + 1
boundary = np.zeros(n, dtype=bool)
for (a, b), count in edges.items():
    if count == 1:
        boundary[a] = boundary[b] = True
x, y = points[:, 0], points[:, 1]
moving_boundary = boundary & ((x == 0) | (x == L)) & (y > 0) & (y < H)
no_slip = boundary & ~moving_boundary  # channel walls (and corners) and the cylinder

# Expected node types of the rule: walls 6, inflow 4 at x = 0, outflow 5 at x = L, else 0.
expected_types = np.zeros(n, dtype=np.int32)
expected_types[no_slip] = 6
expected_types[moving_boundary & (x == 0)] = 4
expected_types[moving_boundary & (x == L)] = 5

STEPS, DT = 6, 0.01


def velocity(step, amplitude=1.0):
    """Potential flow past the cylinder times the channel profile, pulsating; zero where no-slip."""
    r2 = (x - XC) ** 2 + (y - YC) ** 2
    u = 1 - R**2 * ((x - XC) ** 2 - (y - YC) ** 2) / r2**2
    v = -2 * R**2 * (x - XC) * (y - YC) / r2**2
    s = amplitude * 4 * y * (H - y) / H**2 * (1 + 0.1 * np.sin(step))
    vel = np.stack([u * s, v * s], axis=1)
    vel[no_slip] = 0
    return vel


def pressure(step):
    return (L - x) * (1 + 0.05 * step)


def run_import(source, out_dir, *sets):
    cmd = [app, deck, "--set", f"import.source={source}", "--set", f"output.dir={out_dir}",
           "--set", "output.overwrite=true"]  # ctest may run this test again over its own outputs
    for s in sets:
        cmd += ["--set", s]
    r = subprocess.run(cmd, capture_output=True, text=True)
    check(r.returncode == 0, f"tessera-import {os.path.basename(source)} exits 0 ({r.stderr.strip()[-300:]})")
    return r.stdout + r.stderr


def run_bad_import(source, out_dir, dt="0.1"):
    """tessera-import of a source it must refuse: the finished process, for its exit code and stderr."""
    return subprocess.run([app, deck, "--set", f"import.source={source}", "--set", f"import.dt={dt}",
                           "--set", f"output.dir={out_dir}"], capture_output=True, text=True)


def check_dataset(out_dir, split, trajectories, with_pressure, what):
    meta = json.load(open(f"{out_dir}/meta.json"))
    fields = ["cells", "mesh_pos", "node_type", "velocity"] + (["pressure"] if with_pressure else [])
    check(meta["field_names"] == fields, f"{what}: meta.json fields {meta['field_names']}")
    check(meta["trajectory_length"] == STEPS and abs(meta["dt"] - DT) < 1e-12, f"{what}: steps and dt")
    with h5py.File(f"{out_dir}/{split}.h5", "r") as f:
        check(sorted(f.keys(), key=int) == [str(i) for i in range(len(trajectories))], f"{what}: trajectory groups")
        for i, amplitude in enumerate(trajectories):
            g = f[str(i)]
            check(g["mesh_pos"].shape == (1, n, 2) and np.array_equal(g["mesh_pos"][0], points.astype(np.float32)),
                  f"{what} {i}: mesh_pos equals the points written")
            check(g["cells"].shape == (1, len(cells), 3) and np.array_equal(g["cells"][0], cells),
                  f"{what} {i}: cells equal the triangles written")
            vel = np.stack([velocity(s, amplitude) for s in range(STEPS)]).astype(np.float32)
            check(g["velocity"].shape == (STEPS, n, 2) and np.array_equal(g["velocity"][()], vel),
                  f"{what} {i}: velocity equals the field written")
            check(np.array_equal(g["node_type"][0, :, 0], expected_types),
                  f"{what} {i}: inferred node types (wall {int((g['node_type'][0] == 6).sum())}, "
                  f"inflow {int((g['node_type'][0] == 4).sum())}, outflow {int((g['node_type'][0] == 5).sum())})")
            check(("pressure" in g) == with_pressure, f"{what} {i}: pressure {'present' if with_pressure else 'absent'}")
            if with_pressure:
                p = np.stack([pressure(s) for s in range(STEPS)]).astype(np.float32)[..., None]
                check(np.allclose(g["pressure"][()], p, rtol=1e-6), f"{what} {i}: pressure equals the field written")


# --- (a) velocity-only graph-physics HDF5 --------------------------------------------------------
gp_dir = f"{out}/graph_physics"
os.makedirs(gp_dir, exist_ok=True)
amplitudes = [1.0, 0.8, 1.2]
with h5py.File(f"{gp_dir}/cylinder.h5", "w") as f:
    for i, a in enumerate(amplitudes):
        g = f.create_group(str(i))
        g["mesh_pos"] = np.repeat(points[None].astype(np.float32), STEPS, axis=0)
        g["cells"] = np.repeat(cells[None], STEPS, axis=0)
        g["velocity"] = np.stack([velocity(s, a) for s in range(STEPS)]).astype(np.float32)
json.dump({"dt": DT, "trajectory_length": STEPS}, open(f"{gp_dir}/meta.json", "w"))
log = run_import(f"{gp_dir}/cylinder.h5", f"{out}/imported_gp")
check("found 3 trajectories (graph-physics format)" in log, "tessera-import reports 3 trajectories")
check(f"{STEPS} steps, {n} nodes, {len(cells)} triangles; fields: velocity; node types inferred (flow towards +x)"
      in log, "tessera-import reports steps, nodes, fields, inferred node types and the flow's way")
check("pressure: absent" in log and "node-type rule: boundary nodes" in log, "tessera-import reports pressure and rule")
check_dataset(f"{out}/imported_gp", "test", amplitudes, False, "graph-physics")
check("found no" not in log, "the rule finds inflow and outflow nodes, and no warning says otherwise")
# The rule along the wrong axis: the top and bottom walls hold no inflow or outflow, which is said
# (it was written without a word).
log = run_import(f"{gp_dir}/cylinder.h5", f"{out}/imported_gp_y", "node_types.axis=y")
check("the node-type rule found no inflow node (boundary nodes at the upstream end of y) in 3 of 3 trajectories (" in log
      and "); check node_types.axis, node_types.direction, node_types.tolerance and node_types.wall_speed" in log
      and "found no outflow node (at the downstream end of y) in 3 of 3 trajectories" in log,
      "the rule along y warns, once per type, that it found no inflow and no outflow")
# Walls that are not quite at rest (a penalty or lattice-Boltzmann solver's 1e-3): the rule finds
# no wall, which is said (no wall, and inflow corners, were written without a word).
with h5py.File(f"{gp_dir}/cylinder.h5") as f, h5py.File(f"{out}/leaky.h5", "w") as g:
    for i in f:
        for k in f[i]:
            g[f"{i}/{k}"] = f[i][k][...] + (np.float32(1e-3) if k == "velocity" else 0)
json.dump({"dt": DT, "trajectory_length": STEPS}, open(f"{out}/meta.json", "w"))
log = run_import(f"{out}/leaky.h5", f"{out}/imported_leaky")
check("the node-type rule found no wall node (boundary nodes whose speed stays at most 1e-06 x the largest) in 3 of "
      "3 trajectories" in log, "walls at 1e-3 of the largest speed: the rule says it found no wall")
# A node_type field that marks every node normal: said (it was taken without a word).
with h5py.File(f"{gp_dir}/cylinder.h5") as f, h5py.File(f"{out}/all_normal.h5", "w") as g:
    for i in f:
        for k in f[i]:
            g[f"{i}/{k}"] = f[i][k][...]
        g[f"{i}/node_type"] = np.zeros((n, 1), dtype=np.int32)
json.dump({"dt": DT, "trajectory_length": STEPS}, open(f"{out}/meta.json", "w"))
log = run_import(f"{out}/all_normal.h5", f"{out}/imported_all_normal")
check("import found no boundary node in the node_type field in 3 of 3 trajectories" in log
      and "every node is type 0 (normal)" in log, "a node_type field with no boundary node is said")
# Train and valid splits for the end-to-end rollout test (trajectories 1 and 2 of the same file).
run_import(f"{gp_dir}/cylinder.h5", f"{out}/imported_gp", "output.split=train")
log = run_import(f"{gp_dir}/cylinder.h5", f"{out}/imported_gp", "output.split=valid", "import.max_trajectories=1")
check("found 1 trajectory (import.max_trajectories: the source may hold more) (graph-physics format)" in log,
      "a capped import says the source may hold more (it said 'found 1' of a file holding 3)")
# An existing split is replaced only when asked (a re-import replaced it without a word).
r = subprocess.run([app, deck, "--set", f"import.source={gp_dir}/cylinder.h5", "--set", f"output.dir={out}/imported_gp",
                    "--set", "output.split=valid"], capture_output=True, text=True)
check(r.returncode == 1 and "valid.h5 exists; choose another output.dir or output.split, or replace it with --set "
      "output.overwrite=true" in r.stderr, f"a second import into the valid split is refused ({r.stderr.strip()[-200:]})")
# A split that is a path: refused at its --set before the data are read.
r = subprocess.run([app, deck, "--set", f"import.source={gp_dir}/cylinder.h5", "--set", f"output.dir={out}/imported_gp",
                    "--set", "output.split=a/b"], capture_output=True, text=True)
check(r.returncode == 1 and "error: --set output.split: 'a/b' is not a plain file name" in r.stderr
      and "found" not in r.stdout, f"a split that is a path is refused at its key ({r.stderr.strip()[-200:]})")

# --- (b) meshio VTU series -----------------------------------------------------------------------
vtu_dir = f"{out}/vtu_series"
os.makedirs(vtu_dir, exist_ok=True)
for s in range(STEPS):
    meshio.write(f"{vtu_dir}/flow_{s}.vtu", meshio.Mesh(np.c_[points, np.zeros(n)], [("triangle", cells)],
                                                         point_data={"velocity": velocity(s), "pressure": pressure(s)}))
log = run_import(vtu_dir, f"{out}/imported_vtu", f"import.dt={DT}")
check("found 1 trajectory (vtu format)" in log and "fields: velocity, pressure" in log, "VTU series reported")
check_dataset(f"{out}/imported_vtu", "test", [1.0], True, "VTU series")
check(f'"dt": {DT!r},' in open(f"{out}/imported_vtu/meta.json").read()
      and f"dt: {DT!r}\n" in open(f"{out}/imported_vtu/test.import.yaml").read(),
      f"dt written as {DT!r} in meta.json and test.import.yaml (it was 0.01000000000000000021)")
# Boundary edges and a corner point as line and vertex cells beside the triangles (as meshio and
# Gmsh write them): left out with a warning, the same dataset (they were refused).
edges = np.sort(np.concatenate([cells[:, [0, 1]], cells[:, [1, 2]], cells[:, [2, 0]]]), axis=1)
unique, count = np.unique(edges, axis=0, return_counts=True)
boundary = unique[count == 1].astype(np.int32)
marked_dir = f"{out}/vtu_marked"
os.makedirs(marked_dir, exist_ok=True)
for s in range(STEPS):
    meshio.write(f"{marked_dir}/flow_{s}.vtu",
                 meshio.Mesh(np.c_[points, np.zeros(n)],
                             [("vertex", np.array([[0]], dtype=np.int32)), ("line", boundary), ("triangle", cells)],
                             point_data={"velocity": velocity(s), "pressure": pressure(s)}))
log = run_import(marked_dir, f"{out}/imported_vtu_marked", f"import.dt={DT}")
check(f"flow_0.vtu: left out {len(boundary) + 1} vertex and line cells (VTK types 1-4, boundary markers); the "
      f"{len(cells)} triangles are the mesh" in log, "vertex and line cells are left out, with a warning")
check_dataset(f"{out}/imported_vtu_marked", "test", [1.0], True, "VTU series with line and vertex cells")

# --- (c) meshio XDMF3 time series ----------------------------------------------------------------
xdmf_dir = f"{out}/xdmf_series"
os.makedirs(xdmf_dir, exist_ok=True)
cwd = os.getcwd()
os.chdir(xdmf_dir)  # meshio 5 writes the .h5 beside the working directory
with meshio.xdmf.TimeSeriesWriter("flow.xdmf") as w:
    w.write_points_cells(points, [("triangle", cells)])
    for s in range(STEPS):
        w.write_data(s * DT, point_data={"velocity": velocity(s)})
os.chdir(cwd)
log = run_import(f"{xdmf_dir}/flow.xdmf", f"{out}/imported_xdmf")
check("found 1 trajectory (xdmf format)" in log, "XDMF series reported")
check_dataset(f"{out}/imported_xdmf", "test", [1.0], False, "XDMF series")

# --- a malformed input: one clear line -----------------------------------------------------------
with h5py.File(f"{out}/no_velocity.h5", "w") as f:
    f["0/mesh_pos"] = points
    f["0/cells"] = cells
r = run_bad_import(f"{out}/no_velocity.h5", f"{out}/bad")
check(r.returncode == 1 and r.stderr.strip().endswith("no_velocity.h5: trajectory group /0 has no dataset 'velocity'; "
                                                      "expected velocity [T, N, 2]") and r.stderr.count("\n") == 1,
      f"missing velocity: one line ({r.stderr.strip()})")

# h5py's lzf compression, which the HDF5 C library cannot decode: the error names the filter and
# what to do (it said only "cannot read /0/velocity").
with h5py.File(f"{out}/lzf.h5", "w") as f:
    f["0/mesh_pos"] = points
    f["0/cells"] = cells
    f.create_dataset("0/velocity", data=np.stack([velocity(s) for s in range(STEPS)]).astype(np.float32),
                     compression="lzf")
r = run_bad_import(f"{out}/lzf.h5", f"{out}/bad_lzf")
check(r.returncode == 1 and "lzf.h5: cannot read /0/velocity (compressed with filter 'lzf'" in r.stderr
      and "h5repack -f NONE" in r.stderr and r.stderr.count("\n") == 1,
      f"lzf-compressed velocity: one line naming the filter ({r.stderr.strip()[-400:]})")

# numpy's float16, which h5py writes as a 2-byte IEEE float: refused by name (it was "not an array
# of integers or floating-point numbers").
with h5py.File(f"{out}/half.h5", "w") as f:
    f["0/mesh_pos"] = points
    f["0/cells"] = cells
    f["0/velocity"] = np.stack([velocity(s) for s in range(STEPS)]).astype(np.float16)
r = run_bad_import(f"{out}/half.h5", f"{out}/bad_half")
check(r.returncode == 1 and "half.h5: cannot read /0/velocity (floating-point numbers of 2 bytes; float32 and float64 "
      "are read: convert it, e.g. with h5py)" in r.stderr and r.stderr.count("\n") == 1,
      f"float16 velocity: one line naming the type ({r.stderr.strip()[-300:]})")

# A soft link where the velocity should be: named as such (it was "has no dataset 'velocity'").
with h5py.File(f"{out}/soft_link.h5", "w") as f:
    f["0/mesh_pos"] = points
    f["0/cells"] = cells
    f["data/v"] = np.stack([velocity(s) for s in range(STEPS)]).astype(np.float32)
    f["0/velocity"] = h5py.SoftLink("/data/v")
r = run_bad_import(f"{out}/soft_link.h5", f"{out}/bad_link")
check(r.returncode == 1 and "soft_link.h5: /0/velocity is a soft link; tessera follows no links: store the data "
      "itself in the file" in r.stderr and r.stderr.count("\n") == 1,
      f"soft-linked velocity: one line naming the link ({r.stderr.strip()[-300:]})")

# A trajectory group that is a soft link (to a group elsewhere in the file): named, not skipped (the
# import read the other trajectories and said nothing of it).
with h5py.File(f"{out}/soft_group.h5", "w") as f:
    for g in ("0", "store/1"):
        f[f"{g}/mesh_pos"] = points
        f[f"{g}/cells"] = cells
        f[f"{g}/velocity"] = np.stack([velocity(s) for s in range(STEPS)]).astype(np.float32)
    f["1"] = h5py.SoftLink("/store/1")
r = run_bad_import(f"{out}/soft_group.h5", f"{out}/bad_group_link")
check(r.returncode == 1 and "soft_group.h5: /1 is a soft link; tessera follows no links" in r.stderr and
      r.stderr.count("\n") == 1, f"soft-linked trajectory group: one line naming it ({r.stderr.strip()[-300:]})")

# A meshio series with one step truncated mid-file: VTK's parser reports it in several lines of its
# own; tessera-import must print one line naming the file, and write nothing.
broken_dir = f"{out}/vtu_broken"
shutil.rmtree(broken_dir, ignore_errors=True)
shutil.copytree(vtu_dir, broken_dir)
text = open(f"{broken_dir}/flow_1.vtu", "rb").read()
open(f"{broken_dir}/flow_1.vtu", "wb").write(text[: len(text) // 2])
r = run_bad_import(f"{broken_dir}", f"{out}/bad_vtu", dt=DT)
check(r.returncode == 1 and "flow_1.vtu: not a readable .vtu file (VTK: " in r.stderr and r.stderr.count("\n") == 1
      and not os.path.exists(f"{out}/bad_vtu/test.h5"), f"truncated .vtu: one line ({r.stderr.strip()[-400:]})")

check.finish()
