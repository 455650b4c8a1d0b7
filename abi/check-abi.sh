#!/usr/bin/env bash
# The ABI gate of libvicreg.so.1. Same major, same ABI: a program linked
# against any 1.x.y keeps working with every later 1.x.y.
#
# Builds libvicreg.so with debug info (a dedicated debugoptimized build:
# buildtype=release carries none), describes it with abidw exactly as the
# committed baseline was described, and fails when
#   1. abidiff --no-added-syms against abi/libvicreg.so.1.abi (the latest
#      release, see abi/README.md) reports a
#      removed symbol or an incompatible change (a changed signature, a
#      changed type a function uses), or any ABI change at all;
#   2. a symbol defined in the library carries no version node
#      (nm -D must show every defined symbol as name@@VICREG_1.y);
#   3. a node of abi/vicreg.map (the version script as released) differs
#      in src/vicreg.map: a released node is never edited; an addition goes
#      into a new node that inherits the previous one
#      (VICREG_1.1 { global: ...; } VICREG_1.0;).
#
# Usage: abi/check-abi.sh [BUILDDIR]     (default build-ci-abi)
#        abi/check-abi.sh --update [BUILDDIR]
# --update rewrites the baseline and the map copy: only when a release is
# cut, in the commit that bumps the version.
# Tools: abidw and abidiff (Debian: abigail-tools), nm (binutils), meson,
# ninja, a C compiler (CC, default gcc).
set -euo pipefail
cd "$(dirname "$0")/.."

update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
build=${1:-build-ci-abi}
baseline=abi/libvicreg.so.1.abi
released_map=abi/vicreg.map
abidw_opts=(--no-corpus-path --no-comp-dir-path --no-show-locs
            --headers-dir include --drop-private-types)

if [ ! -f "$build/build.ninja" ]; then
    CC=${CC:-gcc} meson setup "$build" -Dbuildtype=debugoptimized \
        -Ddefault_library=shared -Dtests=false >"$build.setup.log" 2>&1 ||
        { cat "$build.setup.log"; exit 1; }
fi
# The shared library's file name carries the project version.
version=$(meson introspect --projectinfo "$build" |
          /usr/bin/env python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
ninja -C "$build" "libvicreg.so.$version" >/dev/null
lib=$(readlink -f "$build/libvicreg.so.1")
sections=$(readelf -S "$lib")
if ! grep -q '\.debug_info' <<<"$sections"; then
    echo "check-abi: $lib has no debug info (use buildtype=debug or debugoptimized)" >&2
    exit 1
fi
current=$build/libvicreg.so.1.abi
abidw "${abidw_opts[@]}" "$lib" >"$current"

if [ $update -eq 1 ]; then
    cp "$current" "$baseline"
    cp src/vicreg.map "$released_map"
    echo "check-abi: baseline and map copy updated from $lib"
    exit 0
fi

fail=0

# 1. abidiff. Its status is a bit mask: 1 error, 2 usage error, 4 ABI
# change, 8 incompatible change (a removed symbol counts as one).
status=0
abidiff --no-added-syms "$baseline" "$current" >"$build/abidiff.txt" || status=$?
if [ $status -ne 0 ]; then
    cat "$build/abidiff.txt"
    if (( status & 8 )); then
        echo "check-abi: FAIL: incompatible ABI change or removed symbol against $baseline"
    elif (( status & 4 )); then
        echo "check-abi: FAIL: ABI change against $baseline"
    else
        echo "check-abi: FAIL: abidiff could not compare (status $status)"
    fi
    fail=1
else
    echo "check-abi: abidiff: no removed symbol, no ABI change against $baseline"
fi

# 2. Every defined dynamic symbol carries a version node. The node names
# themselves appear as absolute symbols (type A) and are skipped.
unversioned=$(nm -D --defined-only "$lib" | awk '$2 != "A" && $3 !~ /@@?VICREG_[0-9]+\.[0-9]+$/ { print $3 }')
if [ -n "$unversioned" ]; then
    echo "check-abi: FAIL: exported symbols outside a version node:"
    echo "$unversioned" | sed 's/^/    /'
    fail=1
else
    echo "check-abi: every exported symbol has a version node ($(nm -D --defined-only "$lib" | awk '$2 != "A"' | wc -l) symbols)"
fi

# 3. Released nodes are unchanged, and every node after the first
# inherits the one before it.
if ! /usr/bin/env python3 - "$released_map" src/vicreg.map <<'EOF'
import re
import sys


def nodes(path):
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"#[^\n]*", "", text)
    found = []
    for m in re.finditer(r"([A-Za-z0-9_.]+)\s*\{(.*?)\}\s*([A-Za-z0-9_.]*)\s*;", text, re.S):
        body = " ".join(m.group(2).split())
        found.append((m.group(1), body, m.group(3)))
    return found


released, current = nodes(sys.argv[1]), nodes(sys.argv[2])
cur = {name: (body, parent) for name, body, parent in current}
ok = True
for name, body, parent in released:
    if name not in cur:
        print(f"check-abi: FAIL: released node {name} is gone from {sys.argv[2]}")
        ok = False
    elif cur[name] != (body, parent):
        print(f"check-abi: FAIL: released node {name} was edited in {sys.argv[2]}")
        print(f"    released: {name} {{ {body} }} {parent};")
        print(f"    now:      {name} {{ {cur[name][0]} }} {cur[name][1]};")
        ok = False
for (prev, _, _), (name, _, parent) in zip(current, current[1:]):
    if parent != prev:
        print(f"check-abi: FAIL: node {name} must inherit {prev} ('}} {prev};')")
        ok = False
for name, _, _ in current:
    if not re.fullmatch(r"VICREG_1\.[0-9]+", name):
        print(f"check-abi: FAIL: node {name} is not VICREG_1.<minor> (soname libvicreg.so.1)")
        ok = False
if ok:
    print(f"check-abi: released nodes {', '.join(n for n, _, _ in released)} unchanged; "
          f"nodes {', '.join(n for n, _, _ in current)}")
sys.exit(0 if ok else 1)
EOF
then
    fail=1
fi

if [ $fail -ne 0 ]; then
    echo "check-abi: the ABI of libvicreg.so.1 is broken (see above)"
    exit 1
fi
echo "check-abi: OK"
