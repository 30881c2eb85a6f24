#!/bin/sh
# Sweep benchmark: the kv quickstart (30 s simulated, a partition from 10 s
# to 20 s) over R = 1..3 x W = 1..3 (9 points) x 20 seeds = 180 runs, at
# -j 1, at -j 2, and under MPI with 2 ranks when dsim-mpi was built.  Each
# configuration runs REPS times (default 3) into a fresh folder; the median
# wall time is reported, and the three result tables are checked to be the
# same bytes.  usage: bench/sweep-kv.sh [BUILD_DIR]
set -eu
build=${1:-build}
reps=${REPS:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export DSIM_NO_PLOT=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none

grid="scenarios/kv/quickstart.json --vary kv.r=1..3 --vary kv.w=1..3 --seeds 20 --quiet"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { python3 -c 'import time; print(time.monotonic())'; }

mpi=""
if [ -x "$build/dsim-mpi" ] && command -v mpirun >/dev/null 2>&1; then
    mpi="mpirun -n 2 --oversubscribe"
    [ "$(id -u)" -eq 0 ] && mpi="$mpi --allow-run-as-root"
fi

printf '| how | command | wall time (s, median of %s) | runs/s |\n' "$reps"
printf '|---|---|---|---|\n'
for how in j1 j2 mpi2; do
    case $how in
        j1) cmd="$build/dsim sweep $grid -j 1" ;;
        j2) cmd="$build/dsim sweep $grid -j 2" ;;
        mpi2) [ -n "$mpi" ] || { echo "| MPI, 2 ranks | (dsim-mpi not built) | | |"; continue; }
              cmd="$mpi $build/dsim-mpi sweep $grid" ;;
    esac
    : >"$out/times"
    i=0
    while [ "$i" -lt "$reps" ]; do
        rm -rf "$out/$how"
        t0=$(now)
        $cmd -o "$out/$how"
        t1=$(now)
        python3 -c "print($t1 - $t0)" >>"$out/times"
        i=$((i + 1))
    done
    t=$(median <"$out/times")
    printf '| %s | `%s` | %.2f | %.1f |\n' "$how" "$(echo "$cmd" | sed "s|$build/||")" "$t" \
        "$(python3 -c "print(180 / $t)")"
done
for how in j2 mpi2; do
    [ -d "$out/$how" ] || continue
    for f in runs.csv points.csv t_visibility.csv; do
        cmp -s "$out/j1/$f" "$out/$how/$f" || { echo "bench: $how/$f differs from j1" >&2; exit 1; }
    done
done
echo "results identical across -j 1, -j 2 and MPI: yes"
