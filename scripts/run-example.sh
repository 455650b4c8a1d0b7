#!/usr/bin/env bash
# The project's main job for now: installs what is missing, builds the
# library and runs the example (two correlated batches, their loss, terms
# and diagnostics, and gradient steps that make the loss fall). Arguments
# are passed to the example (--n, --d, --steps, --seed, --f32).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
vicreg_install_deps
[ -f build-release/build.ninja ] || meson setup build-release >/dev/null
ninja -C build-release >/dev/null
exec ./build-release/examples/correlated-batches "$@"
