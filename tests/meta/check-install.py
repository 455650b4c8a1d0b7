#!/usr/bin/python3
"""Install libvicreg into a temporary tree and use it as a pkg-config user.

1. `meson install --no-rebuild --destdir <tmp>` on the build directory.
2. The staged tree holds <includedir>/vicreg.h (the same bytes as
   include/vicreg.h), <libdir>/libvicreg.so.<version> with the links
   libvicreg.so.<soversion> and libvicreg.so (relative, resolving inside the
   tree), libvicreg.a and <libdir>/pkgconfig/vicreg.pc, whose
   Requires.private names the BLAS package (-Dblas). The installed shared
   library has SONAME libvicreg.so.<soversion> and no run path into the
   build directory.
3. With PKG_CONFIG_PATH=<tmp><libdir>/pkgconfig and PKG_CONFIG_SYSROOT_DIR=<tmp>
   (so that vicreg's -I and -L point into the staged tree),
   `$CC installed-prog.c $(pkg-config --cflags --libs vicreg)` builds a
   program that runs with LD_LIBRARY_PATH=<tmp><libdir>, prints the
   version and a finite loss.
4. `$CC installed-prog.c $(pkg-config --static --cflags --libs vicreg)`, with
   -lvicreg wrapped in -Wl,-Bstatic ... -Wl,-Bdynamic, links libvicreg.a; the
   BLAS library must come in through Requires.private, and the program must
   not need libvicreg.so at run time.

The sysroot applies to every package, so the BLAS package's own -I/-L paths
come out prefixed with <tmp> too; a prefixed path that does not exist in the
staged tree but exists on the host is mapped back to the host path (logged).
A library that only the BLAS package's Libs.private names and that the linker
cannot find (Debian's openblas.pc lists -lgfortran, whose libgfortran.so is in
libgfortran-12-dev, which libopenblas-dev does not pull in) is left out of the
static link, with a note: libopenblas.so records its own dependencies.
"""

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

log = []
errors = []


def note(msg):
    log.append(msg)
    print(msg)


def fail(msg):
    errors.append(msg)
    print('FAIL: ' + msg)


def run(cmd, env=None, cwd=None):
    """Runs cmd, logs it, returns (returncode, stdout+stderr)."""
    shown = ' '.join(shlex.quote(str(c)) for c in cmd)
    res = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True,
                         env=env, cwd=cwd)
    note('$ ' + shown)
    if res.stdout.strip():
        for line in res.stdout.rstrip().splitlines():
            note('  | ' + line)
    if res.returncode != 0:
        note('  (exit status {})'.format(res.returncode))
    return res.returncode, res.stdout


def staged(root, path):
    """The place of an absolute install path inside the destdir."""
    return os.path.join(root, path.lstrip(os.sep))


def dynamic_section(objdump, path):
    """{tag: [values]} of the dynamic section (objdump -p), or None."""
    res = subprocess.run([objdump, '-p', path], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True)
    if res.returncode != 0:
        note('$ {} -p {}\n{}'.format(objdump, path, res.stdout))
        return None
    tags = {}
    in_dynamic = False
    for line in res.stdout.splitlines():
        if line.startswith('Dynamic Section'):
            in_dynamic = True
            continue
        if in_dynamic:
            fields = line.split()
            if not fields:
                break
            if len(fields) >= 2 and fields[0].isupper():
                tags.setdefault(fields[0], []).append(fields[1])
    note('objdump -p {}: {}'.format(path, '; '.join(
        '{} {}'.format(tag, ' '.join(tags[tag]))
        for tag in ('SONAME', 'NEEDED', 'RPATH', 'RUNPATH') if tag in tags)))
    return tags


def pc_fields(path):
    fields = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if ':' in line and not line.startswith('#'):
                key, _, value = line.partition(':')
                if '=' not in key:
                    fields[key.strip()] = value.strip()
    return fields


def package_names(requires):
    """Package names of a Requires line ('a >= 1, b' -> ['a', 'b'])."""
    names = []
    tokens = requires.replace(',', ' ').split()
    skip = False
    for tok in tokens:
        if skip:
            skip = False
            continue
        if tok in ('=', '<', '>', '<=', '>=', '!='):
            skip = True
            continue
        names.append(tok)
    return names


class Checker:
    def __init__(self, args, tmp):
        self.a = args
        self.tmp = tmp
        self.cc = shlex.split(os.environ.get('CC') or 'cc')
        self.prefix = args.prefix
        self.libdir = os.path.join(args.prefix, args.libdir)
        self.includedir = os.path.join(args.prefix, args.includedir)
        self.destdir = os.path.join(tmp, 'destdir')
        self.s_libdir = staged(self.destdir, self.libdir)
        self.s_includedir = staged(self.destdir, self.includedir)
        self.s_pcdir = os.path.join(self.s_libdir, 'pkgconfig')

    # -- 1 ---------------------------------------------------------------
    def install(self):
        # `meson test` builds only what the tests depend on; say which
        # installable files are missing rather than letting the install fail.
        res = subprocess.run([self.a.meson, 'introspect', '--installed', self.a.build_root],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        if res.returncode == 0:
            # Symlinks (libvicreg.so.1 -> ...) are listed by bare name,
            # relative to the directory of the library they point to, which
            # need not be the build root: only real files are checked.
            missing = [src for src in json.loads(res.stdout)
                       if os.path.isabs(src) and not os.path.exists(src)]
            if missing:
                fail('not built yet, so not installable: {}; run `ninja -C {}` first'.format(
                    ' '.join(missing), self.a.build_root))
                return False
        code, _ = run([self.a.meson, 'install', '-C', self.a.build_root,
                       '--no-rebuild', '--destdir', self.destdir])
        if code != 0:
            fail('meson install --destdir failed (is everything built? run ninja first)')
            return False
        return True

    # -- 2 ---------------------------------------------------------------
    def check_tree(self):
        version, sov = self.a.version, self.a.soversion
        header = os.path.join(self.s_includedir, 'vicreg.h')
        if not os.path.isfile(header):
            fail('{} was not installed'.format(header))
        else:
            src = os.path.join(self.a.source_root, 'include', 'vicreg.h')
            with open(header, 'rb') as f1, open(src, 'rb') as f2:
                if f1.read() != f2.read():
                    fail('the installed {} differs from {}'.format(header, src))

        if self.a.expect_shared:
            real = os.path.join(self.s_libdir, 'libvicreg.so.' + version)
            if not os.path.isfile(real) or os.path.islink(real):
                fail('{} is missing or not a regular file'.format(real))
            for link in ('libvicreg.so.' + sov, 'libvicreg.so'):
                path = os.path.join(self.s_libdir, link)
                if not os.path.islink(path):
                    fail('{} is missing or not a symbolic link'.format(path))
                elif os.path.realpath(path) != os.path.realpath(real):
                    fail('{} -> {} resolves to {}, expected {}'.format(
                        path, os.readlink(path), os.path.realpath(path), real))
            if os.path.isfile(real):
                tags = dynamic_section(self.a.objdump, real)
                if tags is None:
                    fail('objdump -p {} failed'.format(real))
                else:
                    if tags.get('SONAME') != ['libvicreg.so.' + sov]:
                        fail('the installed library has SONAME {}, expected {}'.format(
                            tags.get('SONAME'), 'libvicreg.so.' + sov))
                    build_root = os.path.realpath(self.a.build_root)
                    for tag in ('RPATH', 'RUNPATH'):
                        for value in tags.get(tag, []):
                            for entry in value.split(':'):
                                if entry and (entry.startswith(build_root)
                                              or entry.startswith(self.a.build_root)):
                                    fail('the installed library keeps the build {} '
                                         'entry {}'.format(tag, entry))
        if self.a.expect_static:
            archive = os.path.join(self.s_libdir, 'libvicreg.a')
            if not os.path.isfile(archive):
                fail('{} was not installed'.format(archive))

        pc = os.path.join(self.s_pcdir, 'vicreg.pc')
        if not os.path.isfile(pc):
            fail('{} was not installed'.format(pc))
            return False
        fields = pc_fields(pc)
        if fields.get('Version') != version:
            fail('vicreg.pc says Version: {}, expected {}'.format(fields.get('Version'),
                                                                  version))
        requires_private = package_names(fields.get('Requires.private', ''))
        if self.a.blas not in requires_private:
            fail('vicreg.pc says Requires.private: {!r}; expected it to name {} (-Dblas)'
                 .format(fields.get('Requires.private', ''), self.a.blas))
        if self.a.blas in package_names(fields.get('Requires', '')):
            fail('vicreg.pc lists {} in Requires; it belongs in Requires.private (the '
                 'header does not include cblas.h)'.format(self.a.blas))
        return True

    # -- pkg-config --------------------------------------------------------
    def pc_env(self, sysroot=True):
        env = dict(os.environ)
        path = [self.s_pcdir]
        if env.get('PKG_CONFIG_PATH'):
            path.append(env['PKG_CONFIG_PATH'])
        env['PKG_CONFIG_PATH'] = os.pathsep.join(path)
        if sysroot:
            env['PKG_CONFIG_SYSROOT_DIR'] = self.destdir
        else:
            env.pop('PKG_CONFIG_SYSROOT_DIR', None)
        return env

    def pkg_config(self, *args, sysroot=True):
        code, out = run([self.a.pkg_config] + list(args), env=self.pc_env(sysroot))
        if code != 0:
            fail('pkg-config {} failed'.format(' '.join(args)))
            return None
        return out.strip()

    def check_pkg_config(self):
        pcfiledir = self.pkg_config('--variable=pcfiledir', 'vicreg')
        if pcfiledir is not None:
            # pkgconf prefixes the sysroot to pcfiledir; pkg-config does not.
            if os.path.realpath(pcfiledir) != os.path.realpath(self.s_pcdir):
                fail('pkg-config reads vicreg.pc from {}, not from the staged {}'.format(
                    pcfiledir, self.s_pcdir))
        modversion = self.pkg_config('--modversion', 'vicreg')
        if modversion is not None and modversion != self.a.version:
            fail('pkg-config --modversion vicreg is {}, expected {}'.format(
                modversion, self.a.version))
        reqs = self.pkg_config('--print-requires-private', 'vicreg')
        if reqs is not None and self.a.blas not in package_names(reqs):
            fail('pkg-config --print-requires-private vicreg gives {!r}, without {}'
                 .format(reqs, self.a.blas))

    def fix_dependency_paths(self, flags):
        """Maps sysroot-prefixed -I/-L paths that only exist on the host back."""
        out = []
        for flag in flags:
            if flag[:2] in ('-I', '-L') and len(flag) > 2:
                path = flag[2:]
                if path.startswith(self.destdir + os.sep) and not os.path.exists(path):
                    host = path[len(self.destdir):]
                    if os.path.exists(host):
                        note('note: {} is not in the staged tree; using the host path {} '
                             '(taken for a dependency of vicreg)'.format(flag, flag[:2] + host))
                        flag = flag[:2] + host
            out.append(flag)
        return out

    def check_flags_point_into_tree(self, flags, what):
        incs = [f[2:] for f in flags if f.startswith('-I')]
        libs = [f[2:] for f in flags if f.startswith('-L')]
        inside = self.destdir + os.sep
        if not any(d.startswith(inside) and os.path.isfile(os.path.join(d, 'vicreg.h'))
                   for d in incs):
            fail('{}: no -I flag points at the staged {}/vicreg.h (got {})'.format(
                what, self.s_includedir, ' '.join('-I' + d for d in incs) or 'none'))
        wanted = 'libvicreg.so' if self.a.expect_shared else 'libvicreg.a'
        if not any(d.startswith(inside) and os.path.exists(os.path.join(d, wanted))
                   for d in libs):
            fail('{}: no -L flag points at the staged {}/{} (got {})'.format(
                what, self.s_libdir, wanted, ' '.join('-L' + d for d in libs) or 'none'))

    def linkable(self, lib, libdirs):
        src = os.path.join(self.tmp, 'probe.c')
        with open(src, 'w') as f:
            f.write('int main(void) { return 0; }\n')
        cmd = self.cc + [src, '-o', os.path.join(self.tmp, 'probe')] + \
            ['-L' + d for d in libdirs] + [lib]
        return subprocess.run(cmd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0

    def build_and_run(self, flags, exe, ld_path, what):
        code, _ = run(self.cc + [self.a.program, '-o', exe] + flags, cwd=self.tmp)
        if code != 0:
            fail('{}: the program does not build with the pkg-config flags'.format(what))
            return None
        # Meson points LD_LIBRARY_PATH at the build directory; keep it out.
        env = dict(os.environ)
        build_root = os.path.realpath(self.a.build_root)
        inherited = [d for d in env.get('LD_LIBRARY_PATH', '').split(os.pathsep)
                     if d and not os.path.realpath(d).startswith(build_root)]
        env['LD_LIBRARY_PATH'] = os.pathsep.join(ld_path + inherited)
        note('LD_LIBRARY_PATH={}'.format(env['LD_LIBRARY_PATH']))
        code, out = run([exe], env=env)
        if code != 0:
            fail('{}: the program exited with status {}'.format(what, code))
        values = {}
        for line in out.splitlines():
            key, _, value = line.partition(' ')
            values[key] = value.strip()
        if values.get('version') != self.a.version:
            fail('{}: vicreg_version_string() is {!r}, expected {!r}'.format(
                what, values.get('version'), self.a.version))
        major, minor, patch = (int(x) for x in self.a.version.split('.'))
        if values.get('number') != str(major * 10000 + minor * 100 + patch):
            fail('{}: vicreg_version_number() is {!r}, expected {}'.format(
                what, values.get('number'), major * 10000 + minor * 100 + patch))
        try:
            loss = float(values.get('loss', 'nan'))
        except ValueError:
            loss = float('nan')
        if not math.isfinite(loss) or loss <= 0:
            fail('{}: the loss is {!r}, expected a positive finite number'.format(
                what, values.get('loss')))
        # The 1.1 symbols resolve in the installed library and agree.
        try:
            sharded = float(values.get('sharded', 'nan'))
        except ValueError:
            sharded = float('nan')
        if not abs(sharded - loss) <= 1e-5 * abs(loss):
            fail('{}: the sharded loss is {!r}, the loss {!r}'.format(
                what, values.get('sharded'), values.get('loss')))
        return exe

    # -- 3 ---------------------------------------------------------------
    def check_dynamic(self):
        out = self.pkg_config('--cflags', '--libs', 'vicreg')
        if out is None:
            return
        flags = shlex.split(out)
        self.check_flags_point_into_tree(flags, 'pkg-config --cflags --libs vicreg')
        flags = self.fix_dependency_paths(flags)
        exe = self.build_and_run(flags, os.path.join(self.tmp, 'prog-shared'),
                                 [self.s_libdir], 'dynamic link')
        if exe:
            tags = dynamic_section(self.a.objdump, exe) or {}
            want = 'libvicreg.so.' + self.a.soversion
            if want not in tags.get('NEEDED', []):
                fail('dynamic link: the program does not need {} (NEEDED: {})'.format(
                    want, ' '.join(tags.get('NEEDED', []))))

    # -- 4 ---------------------------------------------------------------
    def check_static(self):
        out = self.pkg_config('--static', '--cflags', '--libs', 'vicreg')
        if out is None:
            return
        flags = shlex.split(out)
        self.check_flags_point_into_tree(flags, 'pkg-config --static --cflags --libs vicreg')
        flags = self.fix_dependency_paths(flags)

        # The BLAS package must come in through Requires.private.
        blas_libs = self.pkg_config('--libs-only-l', self.a.blas, sysroot=False)
        blas_static = self.pkg_config('--static', '--libs-only-l', self.a.blas,
                                      sysroot=False)
        if blas_libs is None or blas_static is None:
            return
        blas_libs = shlex.split(blas_libs)
        missing = [lib for lib in blas_libs if lib not in flags]
        if missing:
            fail('pkg-config --static --libs vicreg lacks {} of {} (Requires.private); '
                 'linking libvicreg.a anyway to show what that does'
                 .format(' '.join(missing), self.a.blas))
        libdirs = [f[2:] for f in flags if f.startswith('-L')]
        optional = set(shlex.split(blas_static)) - set(blas_libs)
        kept = []
        for flag in flags:
            if flag in optional and not self.linkable(flag, libdirs):
                note('note: leaving out {} (named only by the Libs.private of {}; the '
                     'linker cannot find it here, and the shared BLAS library records '
                     'its own dependencies)'.format(flag, self.a.blas))
                continue
            kept.append(flag)
        if '-lvicreg' not in kept:
            fail('pkg-config --static --libs vicreg has no -lvicreg')
            return
        i = kept.index('-lvicreg')
        kept[i:i + 1] = ['-Wl,-Bstatic', '-lvicreg', '-Wl,-Bdynamic']
        exe = self.build_and_run(kept, os.path.join(self.tmp, 'prog-static'),
                                 [d for d in libdirs if not d.startswith(self.destdir)],
                                 'static link')
        if exe:
            tags = dynamic_section(self.a.objdump, exe) or {}
            needed = tags.get('NEEDED', [])
            if any(n.startswith('libvicreg.so') for n in needed):
                fail('static link: the program still needs libvicreg.so (NEEDED: {})'
                     .format(' '.join(needed)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for option in ('meson', 'pkg-config', 'objdump', 'build-root', 'source-root', 'prefix',
                   'libdir', 'includedir', 'version', 'soversion', 'blas', 'program'):
        ap.add_argument('--' + option, required=True)
    ap.add_argument('--expect-shared', action='store_true')
    ap.add_argument('--expect-static', action='store_true')
    ap.add_argument('--keep', action='store_true', help='keep the temporary tree')
    args = ap.parse_args()
    args.program = os.path.abspath(args.program)

    tmp = tempfile.mkdtemp(prefix='vicreg-meta-install-')
    checker = Checker(args, tmp)
    note('prefix {}, libdir {}, includedir {}; staging in {}'.format(
        args.prefix, checker.libdir, checker.includedir, checker.destdir))
    if checker.install() and checker.check_tree():
        checker.check_pkg_config()
        if args.expect_shared:
            checker.check_dynamic()
        if args.expect_static:
            checker.check_static()

    if errors:
        print('\n' + '=' * 70)
        print('FAIL: the installed library does not work for a pkg-config user:')
        for e in errors:
            print('  - ' + e)
        print('The staged tree is kept in {}'.format(tmp))
        for dirpath, _, files in os.walk(checker.destdir):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                extra = ' -> ' + os.readlink(path) if os.path.islink(path) else ''
                print('    ' + os.path.relpath(path, checker.destdir) + extra)
        return 1
    if args.keep:
        print('The staged tree is kept in {}'.format(tmp))
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print('OK: installed tree complete; the program builds with pkg-config ({})'.format(
        ', '.join(k for k, v in (('shared', args.expect_shared),
                                 ('static', args.expect_static)) if v)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
