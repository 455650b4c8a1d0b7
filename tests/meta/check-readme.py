#!/usr/bin/python3
"""Compile and run the C examples of README.md and docs/*.md.

An example is the first ```c fenced block after a line
`<!-- readme-example -->` (every such marker gives one example), in
README.md and in every .md file of the docs directory. Each is compiled
with $CC -Wall -Wextra -Werror against include/ and the built libvicreg.so
(-L<builddir> -lvicreg -lm), run with LD_LIBRARY_PATH=<builddir>, and must
exit with status 0.

Failures: a missing README.md or docs directory, a docs directory without
any .md file, a README.md without a marker (the front page's example is
the one a reader copies first), a marker without a following ```c block,
and fewer examples in all than --min-examples.

The environment variables VICREG_README and VICREG_DOCS name another
README and another docs directory to check (a copy, for instance).
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import docpages  # noqa: E402  (tests/meta, beside this script)

MARKER = re.compile(r'^\s*<!--\s*readme-example\s*-->\s*$')
OPEN_C = re.compile(r'^\s*(`{3,}|~{3,})\s*[cC]\s*$')


def extract(path, required):
    """[(marker line, first code line, code)] or raises ValueError."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    examples = []
    markers = [i for i, line in enumerate(lines) if MARKER.match(line)]
    if not markers and required:
        raise ValueError('{} has no line "<!-- readme-example -->"; put it just before '
                         'the ```c block of the example that must build and run'
                         .format(path))
    for m in markers:
        start = None
        for i in range(m + 1, len(lines)):
            o = OPEN_C.match(lines[i])
            if o:
                start, fence = i, o.group(1)
                break
            if lines[i].strip():
                break
        if start is None:
            raise ValueError('{}:{}: no ```c fenced block follows the readme-example '
                             'marker'.format(path, m + 1))
        end = None
        for i in range(start + 1, len(lines)):
            if lines[i].strip().startswith(fence[0] * len(fence)) and \
                    not lines[i].strip().strip(fence[0]):
                end = i
                break
        if end is None:
            raise ValueError('{}:{}: the ```c block is not closed'.format(path, start + 1))
        code = '\n'.join(lines[start + 1:end]) + '\n'
        if not code.strip():
            raise ValueError('{}:{}: the ```c block is empty'.format(path, start + 1))
        examples.append((m + 1, start + 2, code))
    return examples


def numbered(code, first):
    return '\n'.join('  {:4d} | {}'.format(first + i, line)
                     for i, line in enumerate(code.splitlines()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    docpages.add_arguments(ap)
    ap.add_argument('--min-examples', type=int, default=1,
                    help='fail when fewer examples are found in all')
    ap.add_argument('--include', required=True, help='the include/ directory')
    ap.add_argument('--library', required=True, help='the built libvicreg.so')
    args = ap.parse_args()

    readme, docs = docpages.readme_and_docs(args)
    if not os.path.isfile(readme):
        print('FAIL: {} does not exist; the README must hold a C example after a line '
              '"<!-- readme-example -->"'.format(readme))
        return 1
    files = [(readme, True)]
    if docs:
        pages = docpages.pages(docs)
        if pages is None:
            return 1
        files += [(p, False) for p in pages]

    examples = []
    for path, required in files:
        try:
            found = extract(path, required)
        except ValueError as e:
            print('FAIL: {}'.format(e))
            return 1
        print('{}: {} example(s)'.format(path, len(found)))
        examples += [(path,) + ex for ex in found]
    if len(examples) < args.min_examples:
        print('FAIL: {} C example(s) in all, expected at least {}'.format(
            len(examples), args.min_examples))
        return 1

    cc = shlex.split(os.environ.get('CC') or 'cc')
    libdir = os.path.dirname(os.path.abspath(args.library))
    tmp = tempfile.mkdtemp(prefix='vicreg-meta-readme-')
    failed = 0
    for n, (path, marker, first, code) in enumerate(examples):
        what = '{}:{} (example {})'.format(path, first, n + 1)
        src = os.path.join(tmp, 'example{}.c'.format(n))
        exe = os.path.join(tmp, 'example{}'.format(n))
        with open(src, 'w', encoding='utf-8') as f:
            f.write('#line {} "{}"\n'.format(first, path.replace('\\', '/')))
            f.write(code)
        cmd = cc + ['-Wall', '-Wextra', '-Werror', '-I', args.include, src, '-o', exe,
                    '-L' + libdir, '-lvicreg', '-lm']
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True)
        if res.returncode != 0:
            print('FAIL: {} does not compile:\n$ {}\n{}\n{}'.format(
                what, ' '.join(shlex.quote(c) for c in cmd), res.stdout.rstrip(),
                numbered(code, first)))
            failed += 1
            continue
        env = dict(os.environ)
        env['LD_LIBRARY_PATH'] = os.pathsep.join(
            [libdir] + ([env['LD_LIBRARY_PATH']] if env.get('LD_LIBRARY_PATH') else []))
        try:
            res = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 universal_newlines=True, env=env, cwd=tmp, timeout=60)
        except subprocess.TimeoutExpired:
            print('FAIL: {} did not finish within 60 s'.format(what))
            failed += 1
            continue
        if res.returncode != 0:
            print('FAIL: {} exited with status {}; its output:\n{}\nThe example:\n{}'
                  .format(what, res.returncode, res.stdout.rstrip() or '(no output)',
                          numbered(code, first)))
            failed += 1
            continue
        print('OK: {} compiles, runs and exits with 0; its output:'.format(what))
        for line in res.stdout.rstrip().splitlines():
            print('  | ' + line)
    shutil.rmtree(tmp, ignore_errors=True)
    print('{} of {} C example(s) passed'.format(len(examples) - failed, len(examples)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
