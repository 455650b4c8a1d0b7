#!/usr/bin/env bash
# The CMake package as a CMake user meets it: tests/CMakeLists.txt here,
# configured with find_package(vicreg 1.1 CONFIG REQUIRED), builds the
# README's C example, the C++ example (C++17, vicreg.hpp) and, where
# libvicreg-mpi is installed, the MPI example, and runs them.
#
#   tests/cmake/run.sh BUILD_DIR   `meson install --destdir` of BUILD_DIR into a
#                                  temporary tree, found through CMAKE_PREFIX_PATH
#                                  (the tree is not at the build's prefix, so this
#                                  also shows that the package is relocatable)
#   tests/cmake/run.sh --system    the installed package (Debian's libvicreg-dev),
#                                  found in CMake's default search path
#
# The expected version is meson.build's. The programs run with no
# LD_LIBRARY_PATH: the staged libraries are found through the run path
# CMake gives a build-tree program that links an imported library by its
# full path. Prints what it runs; exits non-zero on the first failure.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
python=/usr/bin/python3
[ -x "$python" ] || python=python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vicreg-cmake.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

version=$(meson introspect --projectinfo "$src/meson.build" |
    "$python" -c 'import json, sys; print(json.load(sys.stdin)["version"])')
cmake_args=()
if [ "${1:-}" = "--system" ]; then
    root=/usr
    echo "== CMake package of the system (find_package's default search path)"
elif [ $# -eq 1 ]; then
    build=$(cd "$1" && pwd)
    prefix=$(meson introspect --buildoptions "$build" | "$python" -c \
        'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
    meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/stage"
    root=$tmp/stage$prefix
    cmake_args+=("-DCMAKE_PREFIX_PATH=$root")
    echo "== CMake package of $build, installed into $root"
else
    echo "usage: $0 BUILD_DIR | --system" >&2
    exit 2
fi
config=$(find "$root"/lib* -path '*/cmake/vicreg/vicregConfig.cmake' 2>/dev/null | head -1)
if [ -z "$config" ]; then
    echo "FAIL: no <libdir>/cmake/vicreg/vicregConfig.cmake under $root" >&2
    exit 1
fi
mpi=OFF
[ -f "$(dirname "$config")/vicreg-mpiTargets.cmake" ] && mpi=ON

"$python" "$src/scripts/readme-example.py" -o "$tmp/example.c"
cmake -S "$src/tests/cmake" -B "$tmp/build" "${cmake_args[@]}" \
    -DVICREG_EXAMPLE="$tmp/example.c" \
    -DVICREG_CXX_EXAMPLE="$src/tests/cxx/example.cpp" \
    -DVICREG_MPI_EXAMPLE="$src/tests/mpi/example.c" \
    -DVICREG_EXPECT_VERSION="$version" -DVICREG_EXPECT_MPI=$mpi \
    >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
grep -E '^-- vicreg' "$tmp/configure.log"
cmake --build "$tmp/build" -j 2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }

run() {
    echo "\$ $*"
    env -u LD_LIBRARY_PATH "$@"
}
# The programs must use the library of $root, not another copy.
resolved=$(env -u LD_LIBRARY_PATH ldd "$tmp/build/readme-example" | awk '/libvicreg\.so/ {print $3}')
resolved=$(readlink -f "$resolved")
case $resolved in
    "$(readlink -f "$root")"/*) echo "readme-example loads $resolved" ;;
    *) echo "FAIL: readme-example loads libvicreg from '$resolved', not from $root" >&2; exit 1 ;;
esac
out=$(run "$tmp/build/readme-example")
echo "$out"
case $out in
    *"libvicreg $version: loss "*) ;;
    *) echo "FAIL: the README example did not print the loss of libvicreg $version" >&2; exit 1 ;;
esac
run "$tmp/build/cxx-example"
if [ $mpi = ON ]; then
    mpirun_args=()
    if mpirun --version 2>&1 | grep -q 'Open MPI'; then
        mpirun_args+=(--oversubscribe)
        [ "$(id -u)" -eq 0 ] && mpirun_args+=(--allow-run-as-root)
    fi
    OPENBLAS_NUM_THREADS=1 run mpirun "${mpirun_args[@]}" -n 2 "$tmp/build/mpi-example"
fi
echo "OK: find_package(vicreg $version) from $root: C, C++$([ $mpi = ON ] && echo ' and MPI') examples built and ran"
