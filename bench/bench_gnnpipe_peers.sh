#!/usr/bin/env bash
# GCNII training epoch: tessera's GNNPipe engine vs PyTorch Geometric's GCN2Conv and the GCNII
# authors' PyTorch model, in one run (bench/bench_gnnpipe_peers.cpp, bench/gnnpipe_peers.py).
# Installs torch_geometric from PyPI into the peers' venv once (bench/peer_venv.sh; torch pinned to
# tessera's), then runs.
#   usage: bench/bench_gnnpipe_peers.sh [BUILD_DIR] [bench_gnnpipe_peers options, e.g. --threads 2]
# If PyTorch Geometric cannot be installed, its rows report the import error and the rest still runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tag=bench_gnnpipe_peers
source "$here/peer_venv.sh"

pip_once torch_geometric torch_geometric

exec "$build/bench/bench_gnnpipe_peers" --python "$py" "$@"
