#!/usr/bin/python3
"""Prints the README's first C example (the ```c block after the first
`<!-- readme-example -->` marker) to standard output, or to the file given
with -o: the program the packaging checks build against an installed
libvicreg (tests/cmake/run.sh with CMake, scripts/test.sh against the
Debian packages with pkg-config). The extraction is tests/meta/
check-readme.py's, which builds and runs the same block in the test suite."""

import argparse
import importlib.util
import os
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
META = os.path.join(ROOT, 'tests', 'meta')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--readme', default=os.path.join(ROOT, 'README.md'))
    ap.add_argument('-o', '--output')
    args = ap.parse_args()
    sys.path.insert(0, META)
    spec = importlib.util.spec_from_file_location(
        'check_readme', os.path.join(META, 'check-readme.py'))
    check_readme = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_readme)
    _, _, code = check_readme.extract(args.readme, required=True)[0]
    if args.output:
        with open(args.output, 'w', encoding='utf-8') as f:
            f.write(code)
    else:
        sys.stdout.write(code)
    return 0


if __name__ == '__main__':
    sys.exit(main())
