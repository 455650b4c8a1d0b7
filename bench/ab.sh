#!/usr/bin/env bash
# A before/after comparison of two builds of the library on one machine:
# each build's vicreg-bench (which links its own libvicreg.so.1) at the
# given shapes, the two alternating `rounds` times so that the machine's
# drift falls on both alike. Prints one row per build, round, shape and
# precision (library/floor ratio, and the median of the pairs' ratios),
# under a header that names the builds, the CPU, the kernels and the
# environment.
#
#   bench/ab.sh BEFORE_BUILD AFTER_BUILD "what changed" [rounds] [shapes]
#
# Runs with the library's passes on 2 threads and OPENBLAS_THREAD_TIMEOUT=4,
# the setting of the issue's targets; OPENBLAS_NUM_THREADS defaults to the
# number of cores.
set -euo pipefail
before=$1 after=$2 what=$3 rounds=${4:-3}
shapes=${5:-256x256,256x2048,4096x128,1024x1024}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-$(nproc)} OPENBLAS_THREAD_TIMEOUT=4
args=(--precision both --min-reps 7 --threads 2 --peak-size 0 --shapes "$shapes" --min-time 0.5)
for b in "$before" "$after"; do
    [ -x "$b/bench/vicreg-bench" ] || { echo "no $b/bench/vicreg-bench" >&2; exit 2; }
done
# A build by its folder's name and the commit of the checkout it is in.
name() {
    local c
    c=$(git -C "$1" rev-parse --short HEAD 2>/dev/null) || c="no git"
    git -C "$1" diff --quiet HEAD -- 2>/dev/null || c="$c with uncommitted changes"
    echo "$(basename "$1") ($c)"
}
echo "# $what: before = $(name "$before"), after = $(name "$after"), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# CPU: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) online); core $("$before/bench/vicreg-bench" --print-blas-core)"
echo "# each row: vicreg-bench ${args[*]}, OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS OPENBLAS_THREAD_TIMEOUT=4 OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-unset}, the two builds alternating $rounds times"
echo "# build run shape prec ratio pair"
for r in $(seq "$rounds"); do
    for side in before after; do
        build=$before
        [ "$side" = after ] && build=$after
        "$build/bench/vicreg-bench" "${args[@]}" |
            awk -v side="$side" -v r="$r" '/^[0-9]+x[0-9]+ / { print side, r, $1, $2, $9, $10 }'
    done
done
