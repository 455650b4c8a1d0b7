#!/usr/bin/python3
"""The README's examples in other languages are the files the tests run.

A line `<!-- same-as: PATH -->` in README.md is followed by a fenced code
block that must equal, line for line, the file PATH (relative to the
source root), or, when PATH ends in .md, the first fenced code block of
that file. The files are built and run by their own tests (tests/cxx,
tests/mpi, the Rust crate's doctests), so an example that drifts from them
is an example nobody runs: this test fails on it and prints the first
line that differs. A README without any marker fails too.
"""

import argparse
import os
import re
import sys

MARKER = re.compile(r'^\s*<!--\s*same-as:\s*(\S+)\s*-->\s*$')
FENCE = re.compile(r'^\s*(`{3,})')


def first_block(lines, start, where):
    """The lines of the first fenced block at or after lines[start]."""
    for i in range(start, len(lines)):
        opened = FENCE.match(lines[i])
        if opened:
            fence = opened.group(1)
            for j in range(i + 1, len(lines)):
                if lines[j].strip() == fence:
                    return lines[i + 1:j]
            raise ValueError('{}: the block opened at line {} is not closed'.format(where, i + 1))
    raise ValueError('{}: no fenced block after line {}'.format(where, start))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--readme', required=True)
    ap.add_argument('--root', required=True, help='the source root')
    args = ap.parse_args()

    with open(args.readme, encoding='utf-8') as f:
        lines = f.read().splitlines()
    markers = [(i, MARKER.match(line).group(1)) for i, line in enumerate(lines)
               if MARKER.match(line)]
    if not markers:
        print('FAIL: {} has no "<!-- same-as: PATH -->" marker'.format(args.readme))
        return 1
    failed = 0
    for i, path in markers:
        where = '{}:{}'.format(os.path.basename(args.readme), i + 1)
        try:
            shown = first_block(lines, i + 1, where)
            with open(os.path.join(args.root, path), encoding='utf-8') as f:
                source = f.read().splitlines()
            if path.endswith('.md'):
                source = first_block(source, 0, path)
        except (OSError, ValueError) as e:
            print('FAIL: {}'.format(e))
            failed += 1
            continue
        if shown == source:
            print('OK: {} shows {} ({} lines)'.format(where, path, len(source)))
            continue
        k = next((k for k, (a, b) in enumerate(zip(shown, source)) if a != b),
                 min(len(shown), len(source)))
        print('FAIL: {}: the block differs from {} at its line {}:\n  README: {!r}\n  file:   {!r}'
              .format(where, path, k + 1, shown[k] if k < len(shown) else '(end)',
                      source[k] if k < len(source) else '(end)'))
        failed += 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
