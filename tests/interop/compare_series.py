#!/usr/bin/python3
"""Two XDMF series of the same run (at two rank counts, or whole and continued) must agree, read by meshio.

    compare_series.py A.xmf B.xmf FIELD [--rtol R] [--skip-a K]

The same number of steps (A's from its K-th on: B continues A's run from there), the same times
(to 1e-12 of the larger: a continued series adds its steps to the time it started at) and points,
and FIELD within rtol at every step (relative to the field's largest magnitude in A, so values near
zero do not fail on rounding). Exit 1 with the first difference.
"""
import argparse
import sys

import meshio
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("a")
p.add_argument("b")
p.add_argument("field")
p.add_argument("--rtol", type=float, default=1e-5)
p.add_argument("--skip-a", type=int, default=0)
args = p.parse_args()


def read(path):
    with meshio.xdmf.TimeSeriesReader(path) as r:
        points, _ = r.read_points_cells()
        steps = [r.read_data(k) for k in range(r.num_steps)]
    return points, [(t, d[args.field]) for t, d, _ in steps]


pa, sa = read(args.a)
sa = sa[args.skip_a:]
pb, sb = read(args.b)
if len(sa) != len(sb) or not sa:
    sys.exit(f"{args.a} has {len(sa)} steps, {args.b} {len(sb)}")
if not np.array_equal(pa, pb):
    sys.exit("the series have different points")
scale = max(float(np.abs(f).max()) for _, f in sa) or 1.0
for k, ((ta, fa), (tb, fb)) in enumerate(zip(sa, sb)):
    if abs(ta - tb) > 1e-12 * max(abs(ta), abs(tb), 1.0):
        sys.exit(f"step {k}: time {ta} against {tb}")
    worst = float(np.abs(fa - fb).max()) / scale
    if not worst <= args.rtol:
        sys.exit(f"step {k}: {args.field} differs by {worst:.3g} of its largest magnitude (rtol {args.rtol})")
worst = max(float(np.abs(fa - fb).max()) for (_, fa), (_, fb) in zip(sa, sb)) / scale
print(f"{len(sa)} steps of {args.field} agree within {args.rtol} of its largest magnitude {scale:.4g} "
      f"(largest difference {worst:.3g} of it)")
