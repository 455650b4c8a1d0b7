#!/usr/bin/python3
"""The documentation's examples are the files the tests run, and its links hold.

Checked in README.md and in every .md file of the docs directory:

1. A line `<!-- same-as: PATH -->` is followed by a fenced code block that
   must equal, line for line, the file PATH (relative to the source root),
   or, when PATH ends in .md, the first fenced code block of that file.
   The files are built and run by their own tests (tests/cxx, tests/mpi,
   the Rust crate's doctests), so an example that drifts from them is an
   example nobody runs: this fails on it and prints the first line that
   differs. Fewer markers in all than --min-same-as fail too.
2. Every fenced block in C, C++, Rust or Python is tested: the nearest
   non-blank line before it is `<!-- same-as: PATH -->`,
   `<!-- readme-example -->` (a C program that tests/meta/check-readme.py
   compiles and runs) or `<!-- python-example -->` (a Python program that
   bindings/python/tests/test_readme.py runs). Shell commands and the
   untested Julia section are not examples of this kind.
3. Every relative link and image, [text](target) or ![alt](target),
   points to a file or directory that exists, and a #fragment to a heading
   of that page (GitHub's anchors: lower case, punctuation dropped, spaces
   as hyphens).
4. README.md is at most --max-readme-bytes bytes: the front page stays a
   front page, and the rest lives in docs/.
"""

import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import docpages  # noqa: E402  (tests/meta, beside this script)

MARKER = re.compile(r'^\s*<!--\s*same-as:\s*(\S+)\s*-->\s*$')
ANY_MARKER = re.compile(r'^\s*<!--\s*(same-as:\s*\S+|readme-example|python-example)\s*-->\s*$')
FENCE = re.compile(r'^\s*(`{3,}|~{3,})\s*([^`\s]*)')
TESTED_LANGUAGES = {'c', 'cpp', 'c++', 'cxx', 'rust', 'rs', 'python', 'py'}
LINK = re.compile(r'!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
HEADING = re.compile(r'^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$')


def first_block(lines, start, where, adjacent=False):
    """The lines of the first fenced block at or after lines[start]; with
    adjacent, only blank lines may come before it."""
    for i in range(start, len(lines)):
        opened = FENCE.match(lines[i])
        if opened:
            fence = opened.group(1)
            for j in range(i + 1, len(lines)):
                if lines[j].strip() == fence:
                    return lines[i + 1:j]
            raise ValueError('{}: the block opened at line {} is not closed'.format(where, i + 1))
        if adjacent and lines[i].strip():
            break
    raise ValueError('{}: no fenced block after line {}'.format(where, start))


def blocks(lines):
    """[(opening line index, fence, language)] of every fenced block."""
    found, i = [], 0
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if not opened:
            i += 1
            continue
        fence = opened.group(1)
        j = i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence) and
                                      not lines[j].strip().strip(fence[0])):
            j += 1
        found.append((i, fence, opened.group(2).lower(), j))
        i = j + 1
    return found


def slug(heading):
    """GitHub's anchor of a heading."""
    text = re.sub(r'`|\*\*|\*|_(?=\w)|(?<=\w)_', '', heading)
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text).strip().lower()
    return ''.join(c for c in text if c.isalnum() or c in '-_ ').replace(' ', '-')


def anchors(lines):
    seen, out = {}, set()
    in_block = False
    for line in lines:
        if FENCE.match(line):
            in_block = not in_block
            continue
        h = HEADING.match(line)
        if h and not in_block:
            s = slug(h.group(2))
            k = seen.get(s, 0)
            seen[s] = k + 1
            out.add(s if k == 0 else '{}-{}'.format(s, k))
    return out


def check_same_as(path, lines, root):
    """(markers, failures) of one file."""
    markers, failed = 0, 0
    for i, line in enumerate(lines):
        m = MARKER.match(line)
        if not m:
            continue
        markers += 1
        source_path = m.group(1)
        where = '{}:{}'.format(path, i + 1)
        try:
            shown = first_block(lines, i + 1, where, adjacent=True)
            with open(os.path.join(root, source_path), encoding='utf-8') as f:
                source = f.read().splitlines()
            if source_path.endswith('.md'):
                source = first_block(source, 0, source_path)
        except (OSError, ValueError) as e:
            print('FAIL: {}'.format(e))
            failed += 1
            continue
        if shown == source:
            print('OK: {} shows {} ({} lines)'.format(where, source_path, len(source)))
            continue
        k = next((k for k, (a, b) in enumerate(zip(shown, source)) if a != b),
                 min(len(shown), len(source)))
        print('FAIL: {}: the block differs from {} at its line {}:\n  shown: {!r}\n  file:  {!r}'
              .format(where, source_path, k + 1, shown[k] if k < len(shown) else '(end)',
                      source[k] if k < len(source) else '(end)'))
        failed += 1
    return markers, failed


def check_unmarked(path, lines):
    """Failures: blocks in a tested language without a marker before them."""
    failed = 0
    for start, _, language, _ in blocks(lines):
        if language not in TESTED_LANGUAGES:
            continue
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k < 0 or not ANY_MARKER.match(lines[k]):
            print('FAIL: {}:{}: a ```{} block with no marker before it: no test runs it. '
                  'Put <!-- same-as: PATH -->, <!-- readme-example --> (C) or '
                  '<!-- python-example --> (Python) on the line before it.'
                  .format(path, start + 1, language))
            failed += 1
    return failed


def check_links(path, lines, page_anchors):
    """(links checked, failures) of one file."""
    checked, failed = 0, 0
    in_block = False
    base = os.path.dirname(os.path.abspath(path))
    for i, line in enumerate(lines):
        if FENCE.match(line):
            in_block = not in_block
            continue
        if in_block:
            continue
        for m in LINK.finditer(re.sub(r'`[^`]*`', '', line)):
            target = m.group(1)
            if re.match(r'^[a-zA-Z][a-zA-Z0-9+.-]*:', target):
                continue  # http:, https:, mailto:
            checked += 1
            file_part, _, fragment = target.partition('#')
            where = '{}:{}'.format(path, i + 1)
            full = os.path.normpath(os.path.join(base, file_part)) if file_part \
                else os.path.abspath(path)
            if not os.path.exists(full):
                print('FAIL: {}: the link {} points to {}, which does not exist'
                      .format(where, target, os.path.relpath(full)))
                failed += 1
                continue
            if fragment and full.endswith('.md'):
                if full not in page_anchors:
                    with open(full, encoding='utf-8') as f:
                        page_anchors[full] = anchors(f.read().splitlines())
                if fragment.lower() not in page_anchors[full]:
                    print('FAIL: {}: the link {} names no heading of {}'
                          .format(where, target, os.path.relpath(full)))
                    failed += 1
    return checked, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    docpages.add_arguments(ap)
    ap.add_argument('--root', required=True, help='the source root')
    ap.add_argument('--min-same-as', type=int, default=1,
                    help='fail when fewer same-as markers are found in all')
    ap.add_argument('--max-readme-bytes', type=int, default=0,
                    help='fail when README.md is larger (0: no limit)')
    args = ap.parse_args()

    readme, docs = docpages.readme_and_docs(args)
    files = [readme]
    if docs:
        pages = docpages.pages(docs)
        if pages is None:
            return 1
        files += pages

    failed, markers, links = 0, 0, 0
    page_anchors = {}
    for path in files:
        try:
            with open(path, encoding='utf-8') as f:
                lines = f.read().splitlines()
        except OSError as e:
            print('FAIL: {}'.format(e))
            failed += 1
            continue
        page_anchors[os.path.abspath(path)] = anchors(lines)
        same, bad = check_same_as(path, lines, args.root)
        markers += same
        failed += bad
        failed += check_unmarked(path, lines)
        n, bad = check_links(path, lines, page_anchors)
        links += n
        failed += bad
        print('{}: {} same-as block(s), {} relative link(s)'.format(path, same, n))

    if markers < args.min_same_as:
        print('FAIL: {} "<!-- same-as: PATH -->" marker(s) in all, expected at least {}'
              .format(markers, args.min_same_as))
        failed += 1
    if args.max_readme_bytes and os.path.isfile(readme):
        size = os.path.getsize(readme)
        if size > args.max_readme_bytes:
            print('FAIL: {} is {} bytes, more than {}: move the detail into docs/'
                  .format(readme, size, args.max_readme_bytes))
            failed += 1
        else:
            print('OK: {} is {} bytes (at most {})'.format(readme, size, args.max_readme_bytes))
    print('{} same-as block(s), {} relative link(s) in {} file(s); {} failure(s)'
          .format(markers, links, len(files), failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
