#!/usr/bin/env bash
# The whole performance comparison in one run (about 25 minutes on an idle
# 2-core machine): builds release libraries against OpenBLAS and BLIS, then
# one after the other, under the same environment,
#
#   1  vicreg-bench (float32 and float64, each row interleaved with its BLAS
#      floor, and a 4096^3 GEMM per precision as the reference) on OpenBLAS
#      with the library's passes on 1 thread, on 2 threads, and on 2 threads
#      with OPENBLAS_THREAD_TIMEOUT=4 (OpenBLAS's idle workers sleep at
#      once instead of spinning, so the passes get the second core);
#   2  the same on BLIS (BLIS_NUM_THREADS = the cores), passes on 2 threads;
#   3  pass-costs: each streaming pass timed on its own beside the products
#      and the least traffic any arrangement needs (alone and in place
#      between the products, bench/bounds.sh), on 1 thread, then on 2
#      threads with OPENBLAS_THREAD_TIMEOUT=4; and blas-gaps: the floor's
#      BLAS calls with pauses between them, with OPENBLAS_THREAD_TIMEOUT=4;
#      and blas-in-situ: the library's BLAS calls timed inside its calls
#      against the floor's, the rest of each call beside them (same setting);
#   4  the PyTorch comparison (float32) and the time-by-shape plot;
#   5  the views benchmark (bench/views_run.sh).
#
# Every OpenBLAS step runs on the kernels in use: OpenBLAS's pick, or the
# OPENBLAS_CORETYPE of the environment. When these are older than the CPU
# can run (Debian's 0.3.21 falls back to its generic Prescott kernels on a
# CPU it does not know; some machines set Haswell on an AVX-512 CPU), steps
# 1, 3 and 4 run a second time with OPENBLAS_CORETYPE set to the fastest
# kernels the CPU supports (scripts/blas-kernels.sh), for every side of the
# comparison alike, into files ending in _fast. Every table
# header prints the kernels, the threads and these variables.
# Results go to bench/results/ (or the folder given as the first argument).
# Needs python3-torch, python3-numpy and libblis-dev from Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
mkdir -p "$out"
. scripts/deps.sh
. scripts/blas-kernels.sh
vicreg_install_deps python3-torch python3-numpy libblis-dev
[ -f build-perf/build.ninja ] || meson setup build-perf -Dtests=false >/dev/null
ninja -C build-perf >/dev/null
[ -f build-perf-blis/build.ninja ] || meson setup build-perf-blis -Dtests=false -Dblas=blis >/dev/null
ninja -C build-perf-blis bench/vicreg-bench >/dev/null
cores=$(nproc)
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-$cores}

kernel_sets=("")
suffixes=("")
# The kernels in use, and the fastest this CPU can run: OpenBLAS's own pick
# with OPENBLAS_CORETYPE unset, unless that pick is the Prescott fallback.
in_use=$(build-perf/bench/vicreg-bench --print-blas-core)
fast=$(env -u OPENBLAS_CORETYPE build-perf/bench/vicreg-bench --print-blas-core)
[ "$fast" = Prescott ] && fast=$(vicreg_fast_coretype)
if [ -n "$fast" ] && [ "$(vicreg_kernel_rank "$in_use")" -lt "$(vicreg_kernel_rank "$fast")" ]; then
    kernel_sets+=("$fast")
    suffixes+=("_fast")
    echo "note: OpenBLAS runs $in_use kernels (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-unset}) on a CPU that can run $fast;" \
        "steps 1, 3 and 4 also run with OPENBLAS_CORETYPE=$fast"
fi

{
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $cores cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# CPU: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "# OpenBLAS runs: $in_use; extra kernel sets run: ${kernel_sets[*]:1}"
    echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-unset} OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS BLIS_NUM_THREADS=$cores (BLIS steps)"
} > "$out/environment.txt"
cat "$out/environment.txt"

bench() { build-perf/bench/vicreg-bench --precision both --min-reps 7 "$@"; }
for k in "${!kernel_sets[@]}"; do
    sfx=${suffixes[$k]}
    (
        [ -n "${kernel_sets[$k]}" ] && export OPENBLAS_CORETYPE=${kernel_sets[$k]}
        bench --threads 1 --csv "$out/blas_floor$sfx.csv" | tee "$out/blas_floor$sfx.txt"
        bench --threads 2 --csv "$out/blas_floor_t2$sfx.csv" | tee "$out/blas_floor_t2$sfx.txt"
        OPENBLAS_THREAD_TIMEOUT=4 bench --threads 2 --csv "$out/blas_floor_t2_timeout4$sfx.csv" |
            tee "$out/blas_floor_t2_timeout4$sfx.txt"
        build-perf/bench/pass-costs | tee "$out/pass_costs$sfx.txt"
        OPENBLAS_THREAD_TIMEOUT=4 build-perf/bench/pass-costs --threads 2 |
            tee "$out/pass_costs_t2_timeout4$sfx.txt"
        OPENBLAS_THREAD_TIMEOUT=4 build-perf/bench/blas-gaps --reps 401 --gaps 0,5,20,50 |
            tee "$out/blas_gaps_timeout4$sfx.txt"
        OPENBLAS_THREAD_TIMEOUT=4 build-perf/bench/blas-in-situ --threads 2 |
            tee "$out/blas_in_situ_t2_timeout4$sfx.txt"
        /usr/bin/python3 bench/compare_torch.py --lib build-perf/libvicreg.so.1 \
            --threads "$OPENBLAS_NUM_THREADS" --csv "$out/pytorch$sfx.csv" | tee "$out/pytorch$sfx.txt"
        /usr/bin/python3 bench/plot_svg.py -o "$out/time_by_shape$sfx.svg" \
            "$out/blas_floor_t2$sfx.csv" "$out/pytorch$sfx.csv"
    )
done
BLIS_NUM_THREADS=$cores build-perf-blis/bench/vicreg-bench --precision both --min-reps 7 \
    --threads 2 --csv "$out/blis_floor_t2.csv" | tee "$out/blis_floor_t2.txt"
# Accuracy of the two paths in float32 (the measurement behind the
# automatic path rule); timing nothing, so its place in the run is free.
build-perf/bench/path-accuracy 256 1024 > "$out/path_accuracy.csv"
# The views call (V = 8 views, 2 global) against its floor and VICRegL's
# PyTorch loss, on the same build (about 5 more minutes).
VICREG_BENCH_BUILD=build-perf bash bench/views_run.sh "$out"
