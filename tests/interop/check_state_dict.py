"""Loads a tessera checkpoint's PyTorch state_dict (<checkpoint>.pt) with Python's torch.load and
compares it with the tensors the C++ test wrote as text (expected.txt: name dtype ndim shape values).

usage: <python with torch> check_state_dict.py <dir holding ck.pt and expected.txt>
Interop proof only: Python is never on tessera's product path.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402

check = Checks()
folder = sys.argv[1]
state = torch.load(os.path.join(folder, "ck.pt"), weights_only=True)
dtypes = {"Float": torch.float32, "Double": torch.float64, "Long": torch.int64}
expected = {}
with open(os.path.join(folder, "expected.txt")) as f:
    for line in f:
        name, dtype, ndim, *rest = line.split()
        ndim = int(ndim)
        shape, values = [int(x) for x in rest[:ndim]], [float(x) for x in rest[ndim:]]
        expected[name] = (dtypes[dtype], shape, values)
check(isinstance(state, dict), f"torch.load gives a dict, got {type(state)}")
check(sorted(state) == sorted(expected), f"keys {sorted(state)} are the model parameters {sorted(expected)}")
for name, (dtype, shape, values) in expected.items():
    t = state.get(name)
    if t is None:
        continue
    check(t.dtype == dtype, f"{name}: dtype {t.dtype} is {dtype}")
    check(list(t.shape) == shape, f"{name}: shape {list(t.shape)} is {shape}")
    check(torch.equal(t.double().flatten(), torch.tensor(values, dtype=torch.float64)), f"{name}: values equal")
check.finish()
