#!/usr/bin/env bash
# Graph-transformer training step: tessera vs the same model with PyTorch Geometric and in
# plain PyTorch, in one run (bench/bench_transformer_peers.cpp, bench/transformer_peers.py).
# Installs torch_geometric from PyPI into the peers' venv once (bench/peer_venv.sh; torch pinned to
# tessera's), then runs.
#   usage: bench/bench_transformer_peers.sh [BUILD_DIR] [bench_transformer_peers options, e.g. --threads 2]
# If PyTorch Geometric cannot be installed, its rows report the import error and the rest still runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tag=bench_transformer_peers
source "$here/peer_venv.sh"

pip_once torch_geometric torch_geometric

exec "$build/bench/bench_transformer_peers" --python "$py" "$@"
