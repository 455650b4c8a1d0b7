#!/usr/bin/python3
"""Check the soname and file name of the built libvicreg.so.

The soname is libvicreg.so.<major> (meson.build's soversion, which moves with
the major version only on an incompatible ABI change) and the file is
libvicreg.so.<project version>, reached from libvicreg.so.<major> and
libvicreg.so by symbolic links, as the install does it.
"""

import argparse
import os
import re
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--objdump', required=True)
    ap.add_argument('--library', required=True)
    ap.add_argument('--soname', required=True, help='expected SONAME')
    ap.add_argument('--filename', required=True, help='expected file name')
    args = ap.parse_args()

    errors = []
    cmd = [args.objdump, '-p', args.library]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)
    if res.returncode != 0:
        print('FAIL: {} exited with {}:\n{}'.format(' '.join(cmd), res.returncode,
                                                   res.stderr))
        return 1
    sonames = re.findall(r'^\s*SONAME\s+(\S+)\s*$', res.stdout, re.MULTILINE)
    if sonames != [args.soname]:
        errors.append('SONAME is {}, expected {}'.format(
            ' '.join(sonames) if sonames else 'missing', args.soname))

    base = os.path.basename(args.library)
    if base != args.filename:
        errors.append('the library file is {}, expected {}'.format(base, args.filename))
    if os.path.islink(args.library):
        errors.append('{} is a symbolic link, expected the real file'.format(args.library))

    # The links the dynamic linker (soname) and the link editor (-lvicreg) use.
    libdir = os.path.dirname(os.path.abspath(args.library))
    real = os.path.realpath(args.library)
    for link in (args.soname, 'libvicreg.so'):
        path = os.path.join(libdir, link)
        if not os.path.islink(path):
            errors.append('{} is missing or not a symbolic link'.format(path))
        elif os.path.realpath(path) != real:
            errors.append('{} resolves to {}, expected {}'.format(
                path, os.path.realpath(path), real))

    if errors:
        print('FAIL: soname check of {}'.format(args.library))
        for e in errors:
            print('  - ' + e)
        print('\n  objdump -p {}, dynamic section:'.format(args.library))
        dynamic = res.stdout.partition('Dynamic Section:')[2]
        for line in dynamic.strip('\n').split('\n\n')[0].splitlines():
            print('    ' + line.strip())
        return 1
    print('OK: {} has SONAME {}'.format(base, args.soname))
    return 0


if __name__ == '__main__':
    sys.exit(main())
