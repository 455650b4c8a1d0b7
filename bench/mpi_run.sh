#!/usr/bin/env bash
# libvicreg-mpi on this machine: time per step and bytes per process of
# both strategies, for 1 to 4 processes, float32, global batches of
# N = 512 and 2048 rows and d = 2048 and 8192 columns. Writes
# bench/results/mpi.csv and the table bench/results/mpi.txt (or into the
# folder given as the first argument).
#
# Each process runs OpenBLAS with one thread (OPENBLAS_NUM_THREADS=1), so
# that P processes use P cores' worth of BLAS. On a machine with fewer
# cores than processes, mpirun oversubscribes: the processes share cores
# and the times at those P show contention, not scaling.
#
# Each cell is the median of 3 to 9 steps after a warm-up step, except
# where the warm-up step alone takes over 4 s (the d = 8192 cells on a
# slow BLAS): that step is the one measurement (reps = 1 in the CSV), so
# that the whole run stays within about 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
build=${BUILD:-build-perf}
mkdir -p "$out"
[ -f "$build/build.ninja" ] || meson setup "$build" -Dtests=false >/dev/null
ninja -C "$build" bench/mpi-bench >/dev/null

export OPENBLAS_NUM_THREADS=1
mpirun_args=(--oversubscribe)
[ "$(id -u)" = 0 ] && mpirun_args+=(--allow-run-as-root)

csv=$out/mpi.csv
rm -f "$csv"
header=--header
{
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(mpirun --version | head -1), load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# OPENBLAS_NUM_THREADS=1 per process; more processes than cores oversubscribe"
} > "$out/mpi.txt"
for np in 1 2 3 4; do
    for n in 512 2048; do
        for d in 2048 8192; do
            for strategy in reduce gather; do
                mpirun "${mpirun_args[@]}" -n "$np" "$build/bench/mpi-bench" --n "$n" --d "$d" \
                    --precision f32 --strategy "$strategy" --min-time 2 --max-reps 9 --heavy 4 \
                    --csv "$csv" $header
                header=
            done
        done
    done
done | tee -a "$out/mpi.txt"
echo "# finished $(date -u '+%H:%M UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/mpi.txt"
echo "results in $csv"
