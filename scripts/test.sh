#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
# builds and tests with gcc (-Dwerror=true), with clang (-Dwerror=true),
# and once more under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
vicreg_install_deps

run_suite() {
    local dir=$1
    shift
    echo "== $dir: $*"
    rm -rf "$dir"
    local log
    if ! log=$(meson setup "$dir" -Dwerror=true "$@" 2>&1); then
        echo "$log"
        return 1
    fi
    ninja -C "$dir"
    local status=0
    meson test -C "$dir" --print-errorlogs | tee "$results" || status=$?
    # Count this build's results into the closing line.
    passed=$((passed + $(awk '/^Ok:/ {print $2}' "$results")))
    failed=$((failed + $(awk '/^Fail:/ {print $2}' "$results")))
    return $status
}

passed=0
failed=0
results=$(mktemp)
trap 'rm -f "$results"' EXIT

CC=gcc CXX=g++ run_suite build-ci-gcc
CC=clang CXX=clang++ run_suite build-ci-clang
# The sanitizers halt at the first report; leak checking stays on.
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    CC=gcc CXX=g++ run_suite build-ci-asan -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false
echo "all three test builds passed"
echo "$passed passed, $failed failed"
