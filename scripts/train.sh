#!/usr/bin/env bash
# The project's main job: a self-supervised training run on Fashion-MNIST in
# C with libvicreg as the loss (examples/fashion-mnist). Installs what is
# missing with apt-get (the build tools, OpenBLAS, zlib and Debian's
# dataset-fashion-mnist package), builds in build-release, trains the
# encoder with the trainer's defaults and prints the evaluation table (kNN
# and linear-probe accuracy of the trained encoder, the same encoder at its
# random initialisation, and raw pixels). The CSV, the SVG plot and the
# checkpoint go to build-release/fashion-mnist/. Arguments are passed to
# the trainer (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
vicreg_install_deps zlib1g-dev dataset-fashion-mnist

trainer=build-release/examples/fashion-mnist/fashion-mnist-vicreg
[ -f build-release/build.ninja ] || meson setup build-release >/dev/null
ninja -C build-release >/dev/null
if [ ! -x "$trainer" ]; then
    # Configured before zlib was installed: look for it again.
    meson setup --reconfigure build-release >/dev/null
    ninja -C build-release >/dev/null
fi

# OpenBLAS 0.3.21 (Debian 12) does not recognise some recent x86 CPUs and
# falls back to its generic "Prescott" kernels, several times slower. When
# that happens, pick the kernels the CPU supports.
. scripts/blas-kernels.sh
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ "$("$trainer" --print-blas-core)" = Prescott ]; then
    fast=$(vicreg_fast_coretype)
    if [ -n "$fast" ]; then
        export OPENBLAS_CORETYPE=$fast
        echo "note: OpenBLAS did not recognise this CPU; using OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE"
    fi
fi

exec "$trainer" --out build-release/fashion-mnist "$@"
