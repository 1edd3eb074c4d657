#!/usr/bin/env bash
# MeshGraphNet training step: tessera vs PhysicsNeMo and a PyTorch Geometric MeshGraphNet, in one
# run (bench/bench_mgn_peers.cpp, bench/mgn_peers.py). Creates the peers' venv once, then runs.
#   usage: bench/bench_mgn_peers.sh [BUILD_DIR] [bench_mgn_peers options, e.g. --rounds 3 --reps 5]
# The venv (TESSERA_BENCH_VENV, default ~/.local/share/tessera/bench-venv) reuses the torch of
# tessera's own venv (TESSERA_PYTHON, default ~/.local/share/tessera/venv/bin/python) through a
# .pth file, so both sides run the same libtorch build (same ATen kernels, same BLAS). It gets
# from PyPI: nvidia-physicsnemo and torch_geometric (torch pinned to the reused version), and
# torch_scatter, which PhysicsNeMo's MeshGraphNet needs and PyPI has only as source (built here
# for the CPU, one job; about 15 minutes on the 2-core VM). If PhysicsNeMo cannot be installed,
# its rows report the import error and the PyTorch Geometric row still runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tag=bench_mgn_peers
source "$here/peer_venv.sh"

pip_once torch_geometric torch_geometric
pip_once physicsnemo nvidia-physicsnemo
if ! "$py" -c 'import torch_scatter' 2>/dev/null; then
  echo "bench_mgn_peers: building torch_scatter from source (CPU only)" >&2
  FORCE_ONLY_CPU=1 MAX_JOBS=1 "$py" -m pip install -q --no-build-isolation -c "$constraints" torch_scatter >&2 ||
    echo "bench_mgn_peers: torch_scatter did not build; PhysicsNeMo's MeshGraphNet will not run" >&2
fi

exec "$build/bench/bench_mgn_peers" --python "$py" "$@"
