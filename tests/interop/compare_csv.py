#!/usr/bin/env python3
"""The CSV tables of the same run at two rank counts must agree.

    compare_csv.py DIR_A DIR_B FILE [FILE ...] [--rtol R] [--ignore PATTERN ...]

Each FILE of DIR_A against the same FILE of DIR_B: same header, same rows in the same order, the same text in non-numeric cells, and numbers within
rtol (relative, with an absolute floor of rtol * 1e-6 for values near zero). Columns whose header
and rows whose first cell match an --ignore pattern (fnmatch, e.g. '*seconds*': wall times) are
left out. Exit 1 with the first difference, naming the file, row and column.
"""
import argparse
import csv
import fnmatch
import math
import os
import sys


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        sys.exit(f"{path}: empty")
    return rows


def ignored(name, patterns):
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def compare(path_a, path_b, rtol, patterns):
    a, b = read(path_a), read(path_b)
    if a[0] != b[0]:
        sys.exit(f"{path_b}: header {b[0]}, but {path_a} has {a[0]}")
    if len(a) != len(b):
        sys.exit(f"{path_b}: {len(b) - 1} rows, but {path_a} has {len(a) - 1}")
    keep = [j for j, name in enumerate(a[0]) if not ignored(name, patterns)]
    compared = 0
    for i, (ra, rb) in enumerate(zip(a[1:], b[1:]), start=2):
        if ra and ignored(ra[0], patterns):
            continue
        if len(ra) != len(a[0]) or len(rb) != len(a[0]):
            sys.exit(f"{path_a}:{i} / {path_b}:{i}: {len(ra)} and {len(rb)} cells for the header's {len(a[0])}")
        for j in keep:
            x, y = ra[j], rb[j]
            try:
                fx, fy = float(x), float(y)
            except ValueError:
                if x != y:
                    sys.exit(f"{path_b}:{i}, column {a[0][j]}: '{y}', but {path_a} has '{x}'")
                continue
            if not (math.isfinite(fx) and math.isfinite(fy)):
                if x != y:
                    sys.exit(f"{path_b}:{i}, column {a[0][j]}: {y}, but {path_a} has {x}")
            elif abs(fx - fy) > rtol * max(abs(fx), abs(fy), 1e-6):
                sys.exit(f"{path_b}:{i}, column {a[0][j]}: {y}, but {path_a} has {x} (relative tolerance {rtol})")
            compared += 1
    if compared == 0:
        sys.exit(f"{path_a}: no values compared")
    print(f"{path_a} and {path_b} agree: {compared} values within {rtol}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir_a")
    ap.add_argument("dir_b")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--ignore", nargs="*", default=[])
    o = ap.parse_args()
    for name in o.files:
        compare(os.path.join(o.dir_a, name), os.path.join(o.dir_b, name), o.rtol, o.ignore)


if __name__ == "__main__":
    main()
