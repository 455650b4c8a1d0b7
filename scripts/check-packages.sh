#!/usr/bin/env bash
# The three ways to depend on libvicreg (docs/install.md), each built and
# used as its users would (issue 15). scripts/test.sh runs all three after
# the test suite; each can also be run alone, from the source root:
#
#   scripts/check-packages.sh wheel          the Python wheel and the sdist
#   scripts/check-packages.sh cmake BUILDDIR the CMake package of a build
#   scripts/check-packages.sh debian         the Debian packages
#
# wheel: `pip wheel .` (meson-python, no build isolation, no index), then
#   the sdist (`python3 -m build --sdist`: meson dist, so from a git
#   checkout, and it holds the committed tree) and a wheel built from it,
#   which must hold the same files; then the first wheel is installed into
#   a fresh virtual environment and the package's tests run against it from
#   outside the source tree, with no VICREG_LIBRARY
#   (bindings/python/tests/test_install.py::test_wheel_into_a_venv).
# cmake: tests/cmake/run.sh BUILDDIR (meson install --destdir, then
#   find_package(vicreg 1.1 CONFIG REQUIRED) through CMAKE_PREFIX_PATH).
# debian: a copy of the tree in a temporary directory, its source package
#   (dpkg-source -b, for lintian's source checks) and
#   `dpkg-buildpackage -us -uc -b` with DEB_BUILD_OPTIONS=nocheck and the
#   nocheck profile (the suite has run already: the package build does not
#   configure or run it again, and needs no Check), then
#   lintian on the result, failing on any error or warning (the remaining
#   tags are explained in debian/source/lintian-overrides), then the five
#   packages installed with dpkg -i, the README's example compiled with
#   nothing but `cc example.c $(pkg-config --cflags --libs vicreg)` and
#   run, `import vicreg` with Debian's python3 and the CMake consumer
#   against the system; then the packages are removed again (dpkg --purge,
#   also on failure), except any that was installed before. Needs root, or
#   sudo for dpkg.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=/usr/bin/python3
[ -x "$python" ] || python=python3
version=$(meson introspect --projectinfo meson.build |
    "$python" -c 'import json, sys; print(json.load(sys.stdin)["version"])')

# Prints a command as it could be pasted back into a shell.
shown() {
    printf '$'
    printf ' %q' "$@"
}

show() {
    echo "$(shown "$@")"
    "$@"
}

# Runs "$@" with its output in $log; prints the output's tail if it fails.
quiet() {
    local log=$1
    shift
    echo "$(shown "$@") > $log"
    "$@" >"$log" 2>&1 || {
        local status=$?
        tail -60 "$log"
        echo "FAIL (status $status): $*"
        return $status
    }
}

wheel_files() {
    "$python" -c 'import sys, zipfile; print("\n".join(sorted(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if not n.endswith("/RECORD"))))' "$1"
}

check_wheel() {
    local out
    out=$(mktemp -d "${TMPDIR:-/tmp}/vicreg-wheel.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$out'" EXIT
    local pip=("$python" -m pip --disable-pip-version-check)
    quiet "$out/wheel.log" "${pip[@]}" wheel --no-build-isolation --no-deps --no-index \
        --no-cache-dir -w "$out/wheel" .
    local wheel
    wheel=$(ls "$out"/wheel/vicreg-"$version"-*.whl)
    echo "built $(basename "$wheel") ($(stat -c %s "$wheel") bytes):"
    wheel_files "$wheel" | sed 's/^/  /'

    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        quiet "$out/sdist.log" "$python" -m build --sdist --no-isolation --outdir "$out/sdist" .
        local sdist=$out/sdist/vicreg-$version.tar.gz
        echo "built $(basename "$sdist") ($(stat -c %s "$sdist") bytes, $(tar tzf "$sdist" | wc -l) entries)"
        quiet "$out/sdist-wheel.log" "${pip[@]}" wheel --no-build-isolation --no-deps \
            --no-index --no-cache-dir -w "$out/from-sdist" "$sdist"
        if ! diff <(wheel_files "$wheel") <(wheel_files "$out"/from-sdist/vicreg-*.whl); then
            echo "FAIL: the wheel built from the sdist holds other files than the wheel of the tree"
            return 1
        fi
        echo "the wheel built from the sdist holds the same files"
    else
        echo "not a git checkout: no sdist (meson dist, which makes it, needs git)"
    fi

    (cd bindings/python &&
        show env VICREG_WHEEL="$wheel" PYTHONDONTWRITEBYTECODE=1 "$python" -m pytest \
            -p no:cacheprovider -q -s -rs -m slow -k test_wheel_into_a_venv tests/test_install.py)
}

check_debian() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    local work src
    work=$(mktemp -d "${TMPDIR:-/tmp}/vicreg-deb.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    src=$work/vicreg-$version
    mkdir "$src"
    # The tree as git sees it (tracked and untracked files, not the
    # ignored build directories), or all of it but the build directories.
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z --cached --others --exclude-standard |
            tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$src"
    else
        tar --exclude='./build*' --exclude=./.git --exclude='./.mesonpy*' \
            --exclude=__pycache__ -cf - . | tar -xf - -C "$src"
    fi
    (cd "$work" && quiet "$work/source.log" dpkg-source -b "vicreg-$version")
    (cd "$src" && quiet "$work/build.log" \
        env DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b -Pnocheck)
    grep -E '^dpkg-(gensymbols|shlibdeps): (warning|error)' "$work/build.log" && return 1
    local packages=(libvicreg1 libvicreg-dev libvicreg-mpi1 libvicreg-mpi-dev python3-vicreg)
    local debs=() pkg
    for pkg in "${packages[@]}"; do
        debs+=("$(ls "$work/${pkg}_${version}"_*.deb)")
        echo "$(basename "${debs[-1]}"): Depends: $(dpkg-deb -f "${debs[-1]}" Depends)"
    done

    show lintian --fail-on error,warning --display-info --display-experimental --pedantic \
        --show-overrides --tag-display-limit 0 \
        "$work/vicreg_${version}_$(dpkg --print-architecture).changes" "$work/vicreg_${version}.dsc"
    echo "lintian: no error and no warning"

    # Install; remove again on the way out (not what was there before).
    local ours=()
    for pkg in "${packages[@]}"; do
        if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            echo "note: $pkg was installed before; it is replaced and left installed"
        else
            ours+=("$pkg")
        fi
    done
    # shellcheck disable=SC2064
    trap "[ ${#ours[@]} -eq 0 ] || $sudo dpkg --purge ${ours[*]} >/dev/null; rm -rf '$work'" EXIT
    quiet "$work/install.log" $sudo dpkg -i "${debs[@]}"
    echo "installed: ${packages[*]}"

    # The README example with nothing but pkg-config.
    "$python" scripts/readme-example.py -o "$work/example.c"
    (
        cd "$work"
        echo "\$ pkg-config --cflags --libs vicreg"
        pkg-config --cflags --libs vicreg
        # shellcheck disable=SC2046
        show cc example.c $(pkg-config --cflags --libs vicreg) -o example
        local lib
        lib=$(env -u LD_LIBRARY_PATH ldd ./example | awk '/libvicreg\.so/ {print $3}')
        echo "example loads $lib ($(dpkg -S "$(readlink -f "$lib")"))"
        local out
        out=$(env -u LD_LIBRARY_PATH ./example)
        echo "$out"
        case $out in
            *"libvicreg $version: loss "*) ;;
            *) echo "FAIL: the README example did not print the loss of libvicreg $version"; exit 1 ;;
        esac
        # Debian's python3, python3-vicreg and libvicreg1, nothing else.
        env -u PYTHONPATH -u VICREG_LIBRARY -u LD_LIBRARY_PATH /usr/bin/python3 -c '
import sys, numpy as np, vicreg
assert vicreg.__file__.startswith("/usr/lib/python3/dist-packages/"), vicreg.__file__
assert vicreg.library_path().startswith("/usr/lib/"), vicreg.library_path()
z = np.random.default_rng(0).standard_normal((64, 16))
print("python3-vicreg: %s loads %s (libvicreg %s): loss %.6f"
      % (vicreg.__file__, vicreg.library_path(), vicreg.library_version(),
         vicreg.loss(z, z + 0.1).loss))'
    )
    bash tests/cmake/run.sh --system
}

case ${1:-} in
    wheel) check_wheel ;;
    cmake)
        [ $# -eq 2 ] || { echo "usage: $0 cmake BUILDDIR" >&2; exit 2; }
        bash tests/cmake/run.sh "$2"
        ;;
    debian) check_debian ;;
    *)
        echo "usage: $0 wheel | cmake BUILDDIR | debian" >&2
        exit 2
        ;;
esac
