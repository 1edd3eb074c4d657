#!/usr/bin/env bash
# PINN training step: tessera vs the same step in PyTorch (bench/pinn_torch.py, tessera's venv) and,
# for the Eulerian PINN rows, in DeepXDE's PyTorch backend (bench/pinn_deepxde.py), in one run
# (bench/bench_pinn.cpp). Installs DeepXDE from PyPI into the peers' venv once (bench/peer_venv.sh;
# torch pinned to tessera's), then runs.
#   usage: bench/bench_pinn.sh [BUILD_DIR] [bench_pinn options, e.g. --pairs 7 --threads 1]
# If DeepXDE cannot be installed, its rows report the import error and the rest still runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tag=bench_pinn
source "$here/peer_venv.sh"

if ! DDE_BACKEND=pytorch "$py" -c 'import deepxde' 2>/dev/null; then
  echo "bench_pinn: installing deepxde" >&2
  "$py" -m pip install -q -c "$constraints" deepxde >&2 || echo "bench_pinn: DeepXDE did not install" >&2
fi

exec "$build/bench/bench_pinn" --deepxde-python "$py" "$@"
