#!/usr/bin/env bash
# The library beside the lowest ratio any arrangement of its passes can
# reach, on this machine, in one run: `rounds` times, pass-costs' least
# traffic in place (in_place, and two_reads for two-pass statistics) and
# then vicreg-bench's lib/floor, at the same shapes. Prints one row per
# round, shape and precision under a header that names the commit, the
# CPU, the kernels and the environment.
#
#   bench/bounds.sh [BUILD] [rounds] [shapes]
#
# Runs with the library's passes on 2 threads and OPENBLAS_THREAD_TIMEOUT=4,
# the setting of the issue's targets.
set -euo pipefail
build=${1:-build-perf} rounds=${2:-5}
shapes=${3:-256x256,256x2048,1024x1024,512x8192,4096x128}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-$(nproc)} OPENBLAS_THREAD_TIMEOUT=4
bench=(--precision both --min-reps 7 --threads 2 --peak-size 0 --shapes "$shapes" --min-time 0.5)
costs=(--threads 2 --reps 31 --shapes "$shapes")
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "# bounds: $(git rev-parse --short HEAD 2>/dev/null || echo 'no git'), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# CPU: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) online); core $("$build/bench/vicreg-bench" --print-blas-core)"
"$build/bench/pass-costs" --shapes 16x16 --precision f32 --reps 1 | grep '^# BLAS'
echo "# OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS OPENBLAS_THREAD_TIMEOUT=4 OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-unset}"
echo "# per round: pass-costs ${costs[*]}, then vicreg-bench ${bench[*]}"
echo "# round shape prec in_place two_reads lib_ratio lib_pair"
for r in $(seq "$rounds"); do
    "$build/bench/pass-costs" "${costs[@]}" |
        awk '/^[0-9]+x[0-9]+ / { print $1, $2, $(NF-1), $NF }' >"$tmp"
    "$build/bench/vicreg-bench" "${bench[@]}" |
        awk -v r="$r" 'NR == FNR { b[$1 " " $2] = $3 " " $4; next }
                       /^[0-9]+x[0-9]+ / { print r, $1, $2, b[$1 " " $2], $9, $10 }' "$tmp" -
done
