#!/usr/bin/env bash
# The views benchmark in one run (about 5 minutes on an idle 2-core
# machine, most of it PyTorch at d = 8192): builds a release library, runs
# the C benchmark of vicreg_views_loss_f32 against the BLAS floor of its
# per-view products (bench/views_bench.c) and the comparison with VICRegL's
# multi-crop global loss in PyTorch (bench/compare_torch_views.py), both
# with V = 8 views of which G = 2 are global, float32, one after the other
# under the same environment. Results go to bench/results/ (or the folder
# given as the first argument): views_environment.txt, views.txt and
# views.csv (C), pytorch_views.txt and pytorch_views.csv (PyTorch).
#
# Both sides run on the same BLAS thread count: OPENBLAS_NUM_THREADS (2
# unless set) is exported for the C benchmark and passed to the PyTorch
# comparison as --threads (which also sets the library's passes' threads). OPENBLAS_CORETYPE is left as it is: when set, it
# applies to every side alike, and every header prints it.
# VICREG_BENCH_BUILD names the build directory (default build-perf, the one
# bench/run.sh uses). Needs python3-torch and python3-numpy from Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
build=${VICREG_BENCH_BUILD:-build-perf}
mkdir -p "$out"
. scripts/deps.sh
vicreg_install_deps python3-torch python3-numpy
[ -f "$build/build.ninja" ] || meson setup "$build" -Dtests=false >/dev/null
ninja -C "$build" bench/views-bench >/dev/null  # and libvicreg.so.1, which it links
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}

{
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# CPU: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-unset} OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS"
    echo "# views_bench: --views 8 --global 2 --precision f32 --min-reps 7 (and --threads $OPENBLAS_NUM_THREADS with OPENBLAS_THREAD_TIMEOUT=4); compare_torch_views.py: --views 8 --global-views 2 --threads $OPENBLAS_NUM_THREADS"
} > "$out/views_environment.txt"
"$build"/bench/views-bench --views 8 --global 2 --precision f32 --min-reps 7 \
    --csv "$out/views.csv" | tee "$out/views.txt"
# The same with the passes on the BLAS's thread count and OpenBLAS's idle
# workers sleeping at once (see docs/performance.md).
OPENBLAS_THREAD_TIMEOUT=4 "$build"/bench/views-bench --views 8 --global 2 --precision f32 \
    --min-reps 7 --threads "$OPENBLAS_NUM_THREADS" --csv "$out/views_t2_timeout4.csv" |
    tee "$out/views_t2_timeout4.txt"
/usr/bin/python3 bench/compare_torch_views.py --lib "$build/libvicreg.so.1" \
    --views 8 --global-views 2 --threads "$OPENBLAS_NUM_THREADS" \
    --csv "$out/pytorch_views.csv" | tee "$out/pytorch_views.txt"
echo "results in $out"
