#!/usr/bin/python3
"""libvicreg-mpi's ABI: what it exports, its soname and what it needs.

  - The defined dynamic symbols of the library (nm -D --defined-only),
    the global: names of src/mpi/vicreg_mpi.map and the functions that
    include/vicreg_mpi.h declares with VICREG_MPI_API are one set.
  - Every exported symbol is a function (T) with a default version
    (name@@VICREG_MPI_x.y) that is the map node listing it.
  - SONAME is the one given; the library needs libvicreg.so.<major> (it is
    a layer over libvicreg's public functions, not a copy of them).
"""

import argparse
import re
import subprocess
import sys

errors = []


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
