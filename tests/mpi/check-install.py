#!/usr/bin/python3
"""libvicreg-mpi as an installed package: install the build into a staging
tree (meson install --destdir), check that the header, the library with its
soname link and vicreg-mpi.pc are there, then build example.c with nothing
but `pkg-config --cflags --libs vicreg-mpi` and run it on two processes.

PKG_CONFIG_SYSROOT_DIR points vicreg-mpi's and vicreg's flags into the
staging tree; it prefixes MPI's own flags too, so a prefixed path that
exists only on the host is mapped back to the host path.
"""

import argparse
import math
import os
import shlex
import subprocess
import sys
import tempfile


def run(cmd, env=None):
    print('$ ' + ' '.join(shlex.quote(c) for c in cmd))
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, env=env)
    if res.stdout.strip():
        print(res.stdout.rstrip())
    return res.returncode, res.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for opt in ('--meson', '--pkg-config', '--mpirun', '--build-root', '--prefix', '--libdir',
                '--includedir', '--version', '--soversion', '--program'):
        ap.add_argument(opt, required=True)
    ap.add_argument('--mpirun-arg', action='append', default=[])
    a = ap.parse_args()
    cc = shlex.split(os.environ.get('CC') or 'cc')
    failures = []

    with tempfile.TemporaryDirectory() as tmp:
        dest = os.path.join(tmp, 'dest')
        code, _ = run([a.meson, 'install', '-C', a.build_root, '--no-rebuild', '--quiet',
                       '--destdir', dest])
        if code != 0:
            print('FAIL: meson install failed')
            return 1
        staged = lambda path: os.path.join(dest, path.lstrip(os.sep))
        libdir = staged(os.path.join(a.prefix, a.libdir))
        includedir = staged(os.path.join(a.prefix, a.includedir))
        for path in (os.path.join(includedir, 'vicreg_mpi.h'),
                     os.path.join(libdir, 'libvicreg-mpi.so.' + a.version),
                     os.path.join(libdir, 'pkgconfig', 'vicreg-mpi.pc')):
            if not os.path.isfile(path):
                failures.append('{} was not installed'.format(path))
        link = os.path.join(libdir, 'libvicreg-mpi.so.' + a.soversion)
        if os.path.realpath(link) != os.path.realpath(
                os.path.join(libdir, 'libvicreg-mpi.so.' + a.version)):
            failures.append('{} does not lead to the versioned library'.format(link))

        env = dict(os.environ)
        env['PKG_CONFIG_PATH'] = os.path.join(libdir, 'pkgconfig')
        env['PKG_CONFIG_SYSROOT_DIR'] = dest
        code, version = run([a.pkg_config, '--modversion', 'vicreg-mpi'], env=env)
        if code != 0 or version.strip() != a.version:
            failures.append('pkg-config --modversion vicreg-mpi: {!r}'.format(version.strip()))
        code, out = run([a.pkg_config, '--cflags', '--libs', 'vicreg-mpi'], env=env)
        if code != 0:
            failures.append('pkg-config --cflags --libs vicreg-mpi failed')
        else:
            flags = []
            for flag in shlex.split(out):
                path = flag[2:]
                if flag[:2] in ('-I', '-L') and path.startswith(dest + os.sep) \
                        and not os.path.exists(path):
                    flag = flag[:2] + path[len(dest):]  # MPI's, on the host
                flags.append(flag)
            exe = os.path.join(tmp, 'example')
            code, _ = run(cc + [a.program, '-o', exe] + flags)
            if code != 0:
                failures.append('the example does not build with the pkg-config flags')
            else:
                # Only the staged libraries: none from the build tree.
                env = dict(os.environ)
                env['LD_LIBRARY_PATH'] = libdir
                code, out = run([a.mpirun] + a.mpirun_arg + ['-n', '2', exe], env=env)
                words = out.split()
                loss = float(words[1]) if len(words) > 1 and words[0] == 'loss' else math.nan
                if code != 0 or not math.isfinite(loss) or '128 rows' not in out:
                    failures.append('the example failed on two processes (status {})'
                                    .format(code))
    for f in failures:
        print('FAIL: ' + f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
