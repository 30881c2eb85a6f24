#!/bin/sh
# PHOLD engine benchmark: dsim against a straightforward binary-heap PHOLD
# (bench/phold_heap.c), same parameters, in one invocation.
#   1000 LPs, M = 1 and M = 16 events per LP, lookahead 100 ms, mean 1 s,
#   16000 s / M of simulated time (about 14.5 million events either way);
#   dsim with trace hashing on (it is always on).
# Each configuration runs REPS times (default 5), the baseline and dsim back
# to back; the table gives the median events/s of each and the median of
# the REPS paired ratios (a pair runs within a second or two, so a shared
# machine's slow minutes tend to hit both of its runs alike).
# usage: bench/run-phold.sh [BUILD_DIR]
set -eu
build=${1:-build}
reps=${REPS:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Say when and where, as docs/performance.md asks of every figure.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
printf 'PHOLD, %s, %s (%s cores), %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
    "${cpu:-unknown CPU}" "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')" \
    "$(${CC:-cc} --version 2>/dev/null | head -n 1)"
printf '| M | straightforward heap (events/s) | dsim (events/s) | ratio (median of pairs) | events |\n'
printf '|---|---|---|---|---|\n'
for m in 1 16; do
    secs=$((16000 / m))
    : >"$out/heap" ; : >"$out/dsim"
    i=0
    while [ "$i" -lt "$reps" ]; do
        "$build/phold_heap" 1000 "$m" 100000000 1000000000 "${secs}000000000" 1 |
            sed 's/.*"events_per_s": \([0-9.]*\).*/\1/' >>"$out/heap"
        "$build/dsim" run scenarios/bench/phold.json --quiet -o "$out/run" \
            --set phold.events_per_lp="$m" --set phold.lookahead=100ms --set phold.mean=1s \
            --set duration="${secs}s" --no-plot
        python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["engine"]["events_per_s"])' \
            "$out/run/summary.json" >>"$out/dsim"
        i=$((i + 1))
    done
    events=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["engine"]["events"])' "$out/run/summary.json")
    h=$(median <"$out/heap")
    d=$(median <"$out/dsim")
    ratio=$(paste "$out/dsim" "$out/heap" | awk '{ print $1 / $2 }' | median |
        awk '{ printf "%.2f", $1 }')
    printf '| %s | %.0f | %.0f | %s | %s |\n' "$m" "$h" "$d" "$ratio" "$events"
done
