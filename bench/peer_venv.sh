# Sourced by the bench scripts that run Python peers (bench_mgn_peers.sh, bench_pinn.sh,
# bench_gnnpipe_peers.sh, bench_transformer_peers.sh, bench_cfd_peers.sh): creates
# or reuses the peers' venv (TESSERA_BENCH_VENV, default ~/.local/share/tessera/bench-venv), which
# reuses the torch of tessera's own venv (TESSERA_PYTHON, default ~/.local/share/tessera/venv/bin/python)
# through a .pth file, so both sides run the same libtorch build (same ATen kernels, same BLAS).
# Sets: py (the venv's Python) and constraints (a pip constraints file pinning that torch);
# defines pip_once.
# Expects: tag (the calling script's name, also its bench program's) and here (bench/); program
# (optional: the program it runs, relative to the build folder; default bench/<tag>). Takes the
# caller's first argument as the build folder unless it is an option (default: build/ beside
# bench/), shifting it off, and sets build; the folder must have the program.
build="$here/../build"
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
  build="$1"
  shift
fi
program="${program:-bench/$tag}"
if [ ! -x "$build/$program" ]; then
  echo "$tag: build it first: ninja -C $build $(basename "$program")" >&2
  exit 1
fi
data="${XDG_DATA_HOME:-$HOME/.local/share}/tessera"
base_py="${TESSERA_PYTHON:-$data/venv/bin/python}"
venv="${TESSERA_BENCH_VENV:-$data/bench-venv}"
py="$venv/bin/python"

"$base_py" -c 'import torch' 2>/dev/null || { echo "$tag: $base_py has no torch (scripts/setup)" >&2; exit 1; }
if [ ! -x "$py" ]; then
  echo "$tag: creating $venv" >&2
  /usr/bin/python3 -m venv "$venv"
fi
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
base_site="$("$base_py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$base_site" > "$site/tessera-venv.pth"
torch_version="$("$py" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null)"
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
echo "torch==$torch_version" > "$constraints"

# pip_once MODULE PACKAGE: installs PACKAGE from PyPI into the venv (torch pinned) unless MODULE
# already imports; a failed install is said, not fatal (the bench reports that peer's error).
pip_once() {
  if ! "$py" -c "import $1" 2>/dev/null; then
    echo "$tag: installing $2" >&2
    "$py" -m pip install -q -c "$constraints" "$2" >&2 || echo "$tag: $2 did not install" >&2
  fi
}
