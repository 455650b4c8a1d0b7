#!/usr/bin/python3
"""libvicreg-mpi's ABI: what it exports, its soname and what it needs.

  - The defined dynamic symbols of the library (nm -D --defined-only),
    the global: names of src/mpi/vicreg_mpi.map and the functions that
    include/vicreg_mpi.h declares with VICREG_MPI_API are one set.
  - Every exported symbol is a function (T) with a default version
    (name@@VICREG_MPI_x.y) that is the map node listing it.
  - SONAME is the one given; the library needs libvicreg.so.<major> (it is
    a layer over libvicreg's public functions, not a copy of them).
  - The map's nodes form one chain, each inheriting the one before it (the
    first ends with local: *), and the released nodes below are exactly
    as released, byte for byte: a released node is never edited.
  - Every declaration of the header says "Since <major>.<minor>" in the
    comment before it, and that is the node listing it (VICREG_MPI_x.y).
"""

import argparse
import hashlib
import re
import subprocess
import sys

errors = []

# The released nodes of src/mpi/vicreg_mpi.map: their names, and the
# SHA-256 of their text from the node's name to the semicolon that closes
# it ("};" or "} VICREG_MPI_x.y;").
RELEASED = {
    'VICREG_MPI_1.0': (
        {'vicreg_mpi_strerror', 'vicreg_mpi_set_strategy', 'vicreg_mpi_get_strategy',
         'vicreg_mpi_bytes_per_step', 'vicreg_mpi_loss_f32', 'vicreg_mpi_loss_f64',
         'vicreg_mpi_get_info'},
        '8374af597be0fb4dd199141b384d3070ebe5798a801b91405133661343975802'),
    'VICREG_MPI_1.1': (
        {'vicreg_mpi_version_number', 'vicreg_mpi_version_string', 'vicreg_mpi_ctx_create',
         'vicreg_mpi_ctx_destroy', 'vicreg_mpi_ctx_set_strategy', 'vicreg_mpi_ctx_get_strategy',
         'vicreg_mpi_ctx_get_info', 'vicreg_mpi_ctx_loss_f32', 'vicreg_mpi_ctx_loss_f64'},
        '708b6e77be6f7cada15cc5593af707a1e4911a2376b43f9b6c271f6b964463c5'),
}


def run(cmd):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)
    if res.returncode != 0:
        print('FAIL: {} exited with {}:\n{}'.format(' '.join(cmd), res.returncode, res.stderr))
        sys.exit(1)
    return res.stdout


def without_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.DOTALL)
    return re.sub(r'//[^\n]*', '', text)


def exported(nm, library):
    """{name: (kind, version, is_default)}, leaving out the node symbols."""
    out = {}
    for line in run([nm, '-D', '--defined-only', library]).splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        kind, raw = fields[-2], fields[-1]
        name, sep, version = raw.partition('@')
        default = version.startswith('@')
        version = version.lstrip('@') or None
        if kind == 'A' and version in (None, name):
            continue  # the absolute symbol that names a version node
        out[name] = (kind, version, default)
    return out


def map_globals(path):
    """{name: node} from the global: parts of a version script."""
    with open(path, encoding='utf-8') as f:
        text = without_comments(f.read())
    names = {}
    for node, body in re.findall(r'([A-Za-z_][\w.]*)\s*\{(.*?)\}', text, flags=re.DOTALL):
        glob = re.split(r'\blocal\s*:', body)[0]
        glob = re.sub(r'\bglobal\s*:', '', glob)
        for entry in (e.strip() for e in glob.split(';')):
            if entry:
                if entry in names:
                    errors.append('{} is listed twice in {}'.format(entry, path))
                names[entry] = node
    return names


def map_chain(path, mapped):
    """The nodes in order, each inheriting the previous; released ones intact."""
    with open(path, encoding='utf-8') as f:
        raw = f.read()
    text = without_comments(raw)
    nodes = re.findall(r'([A-Za-z_][\w.]*)\s*\{(.*?)\}\s*([A-Za-z_][\w.]*)?\s*;', text,
                       flags=re.DOTALL)
    previous = None
    for i, (node, body, parent) in enumerate(nodes):
        if (parent or None) != previous:
            errors.append('map node {} inherits {}, expected {}'.format(
                node, parent or 'nothing', previous or 'nothing'))
        if (i == 0) != bool(re.search(r'\blocal\s*:\s*\*\s*;', body)):
            errors.append('map node {}: only the first node has local: *;'.format(node))
        previous = node
    for node, (names, digest) in sorted(RELEASED.items()):
        listed = {name for name, n in mapped.items() if n == node}
        if listed != names:
            errors.append('released node {} lists {}, it was released with {}'.format(
                node, ' '.join(sorted(listed)), ' '.join(sorted(names))))
        m = re.search(r'(?m)^' + re.escape(node) + r' \{.*?\}[^;{}]*;', raw, flags=re.DOTALL)
        if not m or hashlib.sha256(m.group(0).encode('utf-8')).hexdigest() != digest:
            errors.append('released node {} is not byte for byte as released'.format(node))
    return [node for node, _, _ in nodes]


def header_since(path):
    """{name: "x.y"} from the "Since x.y" of the comment before each
    VICREG_MPI_API declaration (None when it has none)."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    since = {}
    declaration = (r'/\*((?:[^*]|\*(?!/))*)\*/'      # the comment before it
                   r'\s*VICREG_MPI_API\b[^;{}]*?\b([A-Za-z_]\w*)\s*\(')
    for m in re.finditer(declaration, text):
        found = re.findall(r'\bSince\s+(?:\*\s*)?(\d+\.\d+)', m.group(1))
        since[m.group(2)] = found[-1] if found else None
    return since


def header_api(path):
    with open(path, encoding='utf-8') as f:
        text = without_comments(f.read())
    text = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', '', text, flags=re.MULTILINE)
    return set(re.findall(r'\bVICREG_MPI_API\b[^;{}]*?\b([A-Za-z_]\w*)\s*\(', text))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for opt in ('--nm', '--objdump', '--library', '--map', '--header', '--soname', '--needs'):
        ap.add_argument(opt, required=True)
    a = ap.parse_args()

    lib = exported(a.nm, a.library)
    mapped = map_globals(a.map)
    api = header_api(a.header)
    sets = [('library', set(lib)), ('map', set(mapped)), ('header', api)]
    for i, (name_a, set_a) in enumerate(sets):
        for name_b, set_b in sets[i + 1:]:
            for name in sorted(set_a - set_b):
                errors.append('{} is in the {} but not in the {}'.format(name, name_a, name_b))
            for name in sorted(set_b - set_a):
                errors.append('{} is in the {} but not in the {}'.format(name, name_b, name_a))
    map_chain(a.map, mapped)
    for name, version in sorted(header_since(a.header).items()):
        node = mapped.get(name)
        if node is not None and node != 'VICREG_MPI_' + str(version):
            errors.append('{}: the header says since {}, the map lists it in {}'.format(
                name, version, node))
    for name, (kind, version, default) in sorted(lib.items()):
        if kind != 'T':
            errors.append('{} is exported as {}, not as a function'.format(name, kind))
        if not default or version != mapped.get(name):
            errors.append('{} has version {} ({}), expected default version {}'.format(
                name, version, 'default' if default else 'not default', mapped.get(name)))
        if not name.startswith('vicreg_mpi_'):
            errors.append('{} does not start with vicreg_mpi_'.format(name))

    dyn = run([a.objdump, '-p', a.library])
    sonames = re.findall(r'^\s*SONAME\s+(\S+)', dyn, flags=re.MULTILINE)
    needed = re.findall(r'^\s*NEEDED\s+(\S+)', dyn, flags=re.MULTILINE)
    if sonames != [a.soname]:
        errors.append('SONAME is {}, expected {}'.format(sonames, a.soname))
    if a.needs not in needed:
        errors.append('the library does not need {} (NEEDED: {})'.format(a.needs, needed))

    print('exported: ' + ' '.join(sorted(lib)))
    print('NEEDED: ' + ' '.join(needed))
    for e in errors:
        print('FAIL: ' + e)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
