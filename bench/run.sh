#!/usr/bin/env bash
# The whole performance comparison in one run: builds a release library,
# runs the C benchmark against the BLAS floor (float32 and float64) and the
# PyTorch comparison (float32) on the same machine, one after the other,
# under the same environment, and plots both; then the views benchmark
# (bench/views_run.sh). Results go to
# bench/results/ (or the folder given as the first argument).
# Needs python3-torch and python3-numpy from Debian for the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
mkdir -p "$out"
. scripts/deps.sh
vicreg_install_deps python3-torch python3-numpy
[ -f build-perf/build.ninja ] || meson setup build-perf -Dtests=false >/dev/null
ninja -C build-perf >/dev/null

{
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-unset}"
} > "$out/environment.txt"
build-perf/bench/vicreg-bench --precision both --min-reps 7 --csv "$out/blas_floor.csv" |
    tee "$out/blas_floor.txt"
# Accuracy of the two paths in float32 (the measurement behind the
# automatic path rule); timing nothing, so its place in the run is free.
build-perf/bench/path-accuracy 256 1024 > "$out/path_accuracy.csv"
/usr/bin/python3 bench/compare_torch.py --lib build-perf/libvicreg.so.1 \
    --csv "$out/pytorch.csv" | tee "$out/pytorch.txt"
/usr/bin/python3 bench/plot_svg.py -o "$out/time_by_shape.svg" "$out/blas_floor.csv" "$out/pytorch.csv"
# The views call (V = 8 views, 2 global) against its floor and VICRegL's
# PyTorch loss, on the same build (about 5 more minutes).
VICREG_BENCH_BUILD=build-perf bash bench/views_run.sh "$out"
