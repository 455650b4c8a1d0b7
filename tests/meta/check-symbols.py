#!/usr/bin/python3
"""Prove that libvicreg exports exactly the functions its header declares.

Three lists must be the same set of names:

  library  the defined dynamic symbols of libvicreg.so (nm -D --defined-only),
           without their @@VICREG_x.y suffix; the absolute symbol of each
           version node (VICREG_1.0 itself) is not a function and is skipped;
  map      the names in the global: parts of src/vicreg.map;
  header   the functions declared with VICREG_API in include/vicreg.h.

Also, every exported symbol must be a function, must carry a default
version (name@@VICREG_x.y) and that version must be the map node that lists
it; the map must list each name once, in well-formed nodes that each
inherit the node before them; and every function the header declares must
be declared with VICREG_API.

If this fails after adding a function: declare it with VICREG_API in
include/vicreg.h and list it in a *new* node of src/vicreg.map for the
release that adds it (a released node is never edited).
"""

import argparse
import re
import subprocess
import sys

NODE_NAME = re.compile(r'^VICREG_[0-9]+\.[0-9]+$')
IDENT = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')

errors = []


def error(msg):
    errors.append(msg)


def strip_c_comments(text):
    """Remove /* */ and // comments, keeping line structure roughly."""
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'),
                  text, flags=re.DOTALL)
    return re.sub(r'//[^\n]*', '', text)


def library_symbols(nm, library):
    """{name: (type, [versions], default_version)} of the defined dynamic symbols."""
    cmd = [nm, '-D', '--defined-only', library]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)
    if res.returncode != 0:
        print('FAIL: {} exited with {}:\n{}'.format(' '.join(cmd), res.returncode,
                                                   res.stderr))
        sys.exit(1)
    symbols = {}
    version_nodes = set()
    for line in res.stdout.splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) == 3:
            _, kind, raw = fields
        elif len(fields) == 2:
            kind, raw = fields
        else:
            error('cannot parse nm line: {!r}'.format(line))
            continue
        if '@@' in raw:
            name, version, default = raw.split('@@', 1) + [True]
        elif '@' in raw:
            name, version, default = raw.split('@', 1) + [False]
        else:
            name, version, default = raw, None, False
        if kind == 'A' and NODE_NAME.match(name) and version in (None, name):
            version_nodes.add(name)
            continue
        entry = symbols.setdefault(name, {'kinds': set(), 'versions': set(),
                                          'default': None})
        entry['kinds'].add(kind)
        if version is not None:
            entry['versions'].add(version)
        if default:
            entry['default'] = version
    return symbols, version_nodes, res.stdout


def map_symbols(path):
    """{name: node} of the global: names of a GNU ld version script."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    text = strip_c_comments(text)
    text = re.sub(r'#[^\n]*', '', text)
    node_re = re.compile(r'([A-Za-z_][A-Za-z0-9_.]*)\s*\{([^{}]*)\}\s*'
                         r'([A-Za-z_][A-Za-z0-9_.]*)?\s*;', re.DOTALL)
    symbols = {}
    nodes = []
    pos = 0
    for m in node_re.finditer(text):
        if text[pos:m.start()].strip():
            error('{}: cannot parse {!r}'.format(path, text[pos:m.start()].strip()))
        pos = m.end()
        node, body, parent = m.group(1), m.group(2), m.group(3)
        if not NODE_NAME.match(node):
            error('{}: node {} is not named VICREG_<major>.<minor>'.format(path, node))
        if node in nodes:
            error('{}: node {} is defined twice'.format(path, node))
        if nodes and parent != nodes[-1]:
            error('{}: node {} must inherit the node before it, {} (found {})'.format(
                path, node, nodes[-1], parent or 'no parent'))
        if not nodes and parent:
            error('{}: the first node {} inherits {}, which is not defined before it'
                  .format(path, node, parent))
        nodes.append(node)
        section = None
        for part in re.split(r'(\bglobal\s*:|\blocal\s*:)', body):
            part = part.strip()
            if re.match(r'^global\s*:$', part):
                section = 'global'
                continue
            if re.match(r'^local\s*:$', part):
                section = 'local'
                continue
            for entry in (e.strip() for e in part.split(';')):
                if not entry:
                    continue
                if section is None:
                    section = 'global'  # ld's default for a bare list
                if section == 'local':
                    continue
                if not IDENT.match(entry):
                    error('{}: node {}: {!r} is not a plain name (no wildcards or '
                          'extern blocks in global:)'.format(path, node, entry))
                    continue
                if entry in symbols:
                    error('{}: {} is listed twice (nodes {} and {})'.format(
                        path, entry, symbols[entry], node))
                    continue
                symbols[entry] = node
    if text[pos:].strip():
        error('{}: cannot parse {!r}'.format(path, text[pos:].strip()))
    if not nodes:
        error('{}: no version node found'.format(path))
    return symbols, nodes


def header_symbols(path):
    """(functions declared with VICREG_API, all vicreg_* functions declared)."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    text = strip_c_comments(text)
    # Drop preprocessor directives, with their continuation lines.
    text = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', '', text, flags=re.MULTILINE)
    api = set()
    for m in re.finditer(r'\bVICREG_API\b([^;{}]*?)\b([A-Za-z_][A-Za-z0-9_]*)\s*\(',
                         text):
        api.add(m.group(2))
    declared = set(re.findall(r'\b(vicreg_[A-Za-z0-9_]*)\s*\(', text))
    return api, declared


def show(title, names):
    print('  {} ({}):'.format(title, len(names)))
    for name in sorted(names):
        print('    ' + name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for option in ('nm', 'library', 'map', 'header'):
        ap.add_argument('--' + option, required=True)
    args = ap.parse_args()

    lib, lib_nodes, nm_out = library_symbols(args.nm, args.library)
    mapped, map_nodes = map_symbols(args.map)
    api, declared = header_symbols(args.header)

    lists = {
        'library (nm -D {})'.format(args.library): set(lib),
        'map ({})'.format(args.map): set(mapped),
        'header VICREG_API ({})'.format(args.header): api,
    }
    names = list(lists)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            only_a = lists[a] - lists[b]
            only_b = lists[b] - lists[a]
            if only_a:
                error('in the {} but not in the {}: {}'.format(
                    a.split(' (')[0], b.split(' (')[0], ' '.join(sorted(only_a))))
            if only_b:
                error('in the {} but not in the {}: {}'.format(
                    b.split(' (')[0], a.split(' (')[0], ' '.join(sorted(only_b))))

    for name in sorted(declared - api):
        error('the header declares {}() without VICREG_API'.format(name))
    for name in sorted(api | set(mapped) | set(lib)):
        if not name.startswith('vicreg_'):
            error('{} does not start with vicreg_'.format(name))

    for name, entry in sorted(lib.items()):
        data = entry['kinds'] - {'T', 'i'}
        if data:
            error('{} is exported with nm type {}, expected T: only strong function '
                  'definitions belong in the ABI (no data, no weak symbols)'.format(
                      name, ''.join(sorted(data))))
        if entry['default'] is None:
            error('{} is exported without a default version (expected {}@@VICREG_x.y; '
                  'nm shows {})'.format(name, name,
                                       ', '.join(sorted(entry['versions'])) or
                                       'no version'))
        elif name in mapped and entry['default'] != mapped[name]:
            error('{} has version {} in the library but is listed in node {} of the map'
                  .format(name, entry['default'], mapped[name]))
        for version in entry['versions']:
            if version not in map_nodes:
                error('{} carries version {}, which is not a node of the map'.format(
                    name, version))
    for node in sorted(lib_nodes - set(map_nodes)):
        error('the library defines version node {}, which the map does not'.format(node))
    for node in sorted(set(mapped.values()) - lib_nodes):
        error('the map node {} is not a version definition of the library'.format(node))

    if errors:
        print('FAIL: the exported symbols, the version script and the header disagree.')
        for e in errors:
            print('  - ' + e)
        print()
        for title, names_ in lists.items():
            show(title, names_)
        print('\n  nm -D --defined-only output:')
        for line in nm_out.splitlines():
            print('    ' + line)
        print('\nEvery exported function is declared with VICREG_API in the header and '
              'listed in exactly one node of the version script.')
        return 1
    print('OK: {} functions exported, each with a default version in {}; map and '
          'header agree.'.format(len(lib), ', '.join(sorted(lib_nodes))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
