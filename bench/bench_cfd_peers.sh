#!/usr/bin/env bash
# The solver that makes tessera's data against NGSolve on the DFG 2D-2 benchmark (Re = 100, vortex
# shedding; docs/solvers.md), in one run on the same CPU threads (one): tessera-cfd on
# decks/dfg-2d2.yaml, then bench/cfd_ngsolve.py twice on a Netgen mesh of the same size
# (Taylor-Hood P2/P1 both):
#   bdf2  tessera's scheme (BDF2, extrapolated convection, one system per step, factors refreshed
#         every 5 steps, GMRES in between), the same dt: the cost of a step, like for like;
#   imex  NGSolve's own tutorial scheme (Stokes implicit and factorised once, convection explicit),
#         at the smaller dt it needs (--imex-dt): what an NGSolve user would run.
# Prints per run the unknowns, steps, seconds per step and per simulated second, c_D,max, c_L,max
# and St over [--analysis-start, --end] (each marked * when outside the DFG interval), and the
# ratio of wall time per simulated second to tessera's (> 1: tessera is faster).
# Installs NGSolve from PyPI into the peers' venv once (bench/peer_venv.sh). Exits 1 if any run
# failed (its row says why).
#   usage: bench/bench_cfd_peers.sh [BUILD_DIR] [--end 5.5] [--analysis-start 4.5] [--dt 0.005]
#                                   [--imex-dt 0.0005] [--schemes bdf2,imex]
# The default window is the one ctest's app.cfd.dfg-2d2 checks (shedding periodic from t = 4.5);
# a run takes about 13 minutes on a 2-core Zen-1 EPYC, most of it the NGSolve bdf2 run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tag=bench_cfd_peers
program=apps/tessera-cfd

# Options first (the build folder, if given, is the first argument: peer_venv.sh takes it).
args=("$@")
[ $# -gt 0 ] && [[ "$1" != -* ]] && shift
end=5.5 start=4.5 dt=0.005 imex_dt=0.0005 schemes=bdf2,imex
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --end|--analysis-start|--dt|--imex-dt|--schemes)
      [ $# -ge 2 ] || { echo "$tag: $1 needs a value" >&2; exit 2; } ;;&
    --end) end="$2"; shift 2 ;;
    --analysis-start) start="$2"; shift 2 ;;
    --dt) dt="$2"; shift 2 ;;
    --imex-dt) imex_dt="$2"; shift 2 ;;
    --schemes) schemes="$2"; shift 2 ;;
    *) echo "$tag: unknown option '$1' (--help lists them)" >&2; exit 2 ;;
  esac
done
for s in ${schemes//,/ }; do
  [[ "$s" == bdf2 || "$s" == imex ]] || { echo "$tag: --schemes: unknown '$s'; expected bdf2, imex" >&2; exit 2; }
done
set -- "${args[@]}"
source "$here/peer_venv.sh"
pip_once ngsolve ngsolve

out="$(mktemp -d /tmp/tessera-cfd-peers-XXXXXX)"
trap 'rm -rf "$out" "$constraints"' EXIT
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# The machine line, as the C++ benches print it (bench/machine.hpp), from /proc/cpuinfo.
# (awk stops at the first match: `sed | head` dies of SIGPIPE under pipefail on many-CPU machines)
field() { awk -F': ' -v key="$1" '$1 ~ "^" key "[[:space:]]*$" {print $2; exit}' /proc/cpuinfo; }
model="$(field "model name")" family="$(field "cpu family")" cpu_model="$(field model)"
echo "DFG 2D-2, t in [0, $end], maxima and St over [$start, $end], 1 thread;" \
  "NGSolve $("$py" -c 'import ngsolve; print(ngsolve.__version__)' 2>/dev/null || echo "not installed")"
flags="$(grep -m1 '^flags' /proc/cpuinfo)"
isa="no AVX2"
[[ "$flags" == *" avx2 "* ]] && isa="AVX2"
[[ "$flags" == *" fma "* ]] && isa="$isa + FMA"
[[ "$flags" == *" avx512f "* ]] && isa="$isa, AVX-512" || isa="$isa, no AVX-512"
echo "machine: $model (family $family, model $cpu_model), $(nproc --all) logical CPUs, $isa"

# One row: code scheme dt cells unknowns steps seconds c_d c_l st; ratio against tessera's
# seconds per simulated second (set by the first row).
ref=""
row() {
  local per_sim ratio
  per_sim="$(awk -v s="$7" -v e="$end" 'BEGIN{printf "%.2f", s / e}')"
  [ -n "$ref" ] || ref="$per_sim"
  ratio="$(awk -v a="$per_sim" -v b="$ref" 'BEGIN{printf "%.2fx", a / b}')"
  mark() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN{printf "%.5f%s", v, (v >= lo && v <= hi) ? " " : "*"}'; }
  printf "%-8s %-5s %7s %6s %9s %6s %9.4f %11s %10s %9s %9s %8s\n" "$1" "$2" "$3" "$4" "$5" "$6" \
    "$(awk -v s="$7" -v n="$6" 'BEGIN{print s / n}')" "$per_sim" "$ratio" "$(mark "$8" 3.22 3.24)" \
    "$(mark "$9" 0.99 1.01)" "$(mark "${10}" 0.295 0.305)"
}
printf "%-8s %-5s %7s %6s %9s %6s %9s %11s %10s %9s %9s %8s\n" code scheme dt cells unknowns steps s/step \
  "s/sim. s" "vs tessera" "c_D,max" "c_L,max" St

# tessera-cfd: the deck as shipped but for the window and no field output.
"$build/apps/tessera-cfd" "$here/../decks/dfg-2d2.yaml" --set time.dt="$dt" --set time.end="$end" --set analysis.start="$start" \
  --set output.every=0 --set output.dir="$out/tessera" > "$out/tessera.log" 2>&1 ||
  { echo "$tag: tessera-cfd failed:" >&2; tail -5 "$out/tessera.log" >&2; exit 1; }
value() { sed -n "s/^$1,//p" "$out/tessera/dfg-2d2_summary.csv"; }
row tessera bdf2 "$dt" "$(value cells)" "$(value dofs)" "$(value steps)" "$(value seconds)" "$(value c_d_max)" \
  "$(value c_l_max)" "$(value strouhal)"

failed=0
for scheme in ${schemes//,/ }; do
  step="$dt"
  [ "$scheme" == imex ] && step="$imex_dt"
  mesh_line="" result=""
  if "$py" "$here/cfd_ngsolve.py" --scheme "$scheme" --dt "$step" --end "$end" --analysis-start "$start" \
    > "$out/$scheme.log" 2>&1; then
    mesh_line="$(grep '^mesh ' "$out/$scheme.log" || true)" result="$(grep '^ngsolve ' "$out/$scheme.log" || true)"
  fi
  if [ -z "$mesh_line" ] || [ -z "$result" ]; then
    echo "ngsolve  $scheme failed: $(tail -1 "$out/$scheme.log")"
    failed=1
    continue
  fi
  read -r _ cells unknowns <<< "$mesh_line"
  read -r _ steps seconds c_d c_l st _ <<< "$result"
  row ngsolve "$scheme" "$step" "$cells" "$unknowns" "$steps" "$seconds" "$c_d" "$c_l" "$st"
done
echo "s/sim. s: wall seconds per simulated second; vs tessera: that over tessera-cfd's (> 1: tessera is faster);"
echo "*: outside the DFG interval (c_D,max [3.22, 3.24], c_L,max [0.99, 1.01], St [0.295, 0.305])"
exit "$failed"
