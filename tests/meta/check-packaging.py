#!/usr/bin/python3
"""The packaging metadata agrees with meson.build, where it is defined.

meson.build holds the project version (and so the soname's major part),
src/mpi/meson.build libvicreg-mpi's; the build tree holds what `meson
install` installs. Checked against them:

1. debian/changelog: the newest entry's version is the project version
   (a native package: no Debian revision).
2. debian/control: the binary packages are libvicreg<soversion>,
   libvicreg-dev, libvicreg-mpi<mpi soversion>, libvicreg-mpi-dev and
   python3-vicreg; each -dev package depends on its library package at
   ${binary:Version}; debhelper compat 13 and the meson build system.
3. debian/<package>.install: one per binary package; the library packages
   name their soname (usr/lib/*/libvicreg.so.<soversion> and the file
   usr/lib/*/libvicreg.so.<soversion>.*). Every file this build installs
   (meson-info/intro-installed.json, relative to the prefix; `usr/` in
   Debian) is claimed by exactly one package, and every line of an .install
   file claims something (python3-vicreg's only with -Dpython=enabled, the
   MPI packages' only where libvicreg-mpi is built, and only in builds that
   make both libraries, as Debian's does): the file lists follow
   meson.build, and dh_missing --fail-missing would stop the package build
   on anything left out.
4. debian/libvicreg<soversion>.symbols and debian/libvicreg-mpi<...>.symbols
   are what debian/gen-symbols.py makes of the version scripts, and name
   the packages of debian/control.
5. pyproject.toml (the wheel): backend mesonpy, version dynamic (taken from
   meson.build by meson-python, not written there), -Dwheel=true;
   bindings/python/pyproject.toml and vicreg.__version__ (which cannot read
   meson.build when the package is used from the source tree) equal the
   project version; bindings/python/vicreg/meson.build installs every
   module of the package.
6. The CMake package made by this build: vicregConfigVersion.cmake has the
   project version and its major part, vicregConfig.cmake the shared
   library's file name and soname (and vicreg-mpiTargets.cmake libvicreg-mpi's,
   where it is built).
"""

import argparse
import fnmatch
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib

sys.dont_write_bytecode = True

errors = []


def fail(msg):
    errors.append(msg)
    print('FAIL: ' + msg)


def ok(msg):
    print('ok: ' + msg)


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def control_paragraphs(text):
    """[{field: value}] of a deb822 file (continuation lines joined)."""
    paragraphs, current, key = [], {}, None
    for line in text.splitlines():
        if not line.strip():
            if current:
                paragraphs.append(current)
            current, key = {}, None
        elif line[0] in ' \t' and key:
            current[key] += '\n' + line.strip()
        elif ':' in line and not line.startswith('#'):
            key, _, value = line.partition(':')
            key = key.strip()
            current[key] = value.strip()
    if current:
        paragraphs.append(current)
    return paragraphs


def check_changelog(root, version):
    first = read(os.path.join(root, 'debian', 'changelog')).splitlines()[0]
    match = re.match(r'^(\S+) \(([^)]+)\) ', first)
    if not match:
        fail('debian/changelog: cannot read the first line {!r}'.format(first))
        return
    source, deb_version = match.groups()
    if source != 'vicreg':
        fail('debian/changelog: source package {}, expected vicreg'.format(source))
    if deb_version != version:
        fail('debian/changelog: version {}, but meson.build says {} (add an entry: '
             'dch -v {})'.format(deb_version, version, version))
    else:
        ok('debian/changelog is at {}'.format(version))


def check_control(root, names):
    paragraphs = control_paragraphs(read(os.path.join(root, 'debian', 'control')))
    source, binaries = paragraphs[0], {p['Package']: p for p in paragraphs[1:] if 'Package' in p}
    if 'debhelper-compat (= 13)' not in source.get('Build-Depends', ''):
        fail('debian/control: Build-Depends lacks debhelper-compat (= 13)')
    if '--buildsystem=meson' not in read(os.path.join(root, 'debian', 'rules')):
        fail('debian/rules does not use the meson build system')
    want = set(names.values())
    if set(binaries) != want:
        fail('debian/control has the packages {}, expected {} (from the versions in '
             'meson.build)'.format(sorted(binaries), sorted(want)))
        return binaries
    for dev, lib in (('dev', 'lib'), ('mpi_dev', 'mpi_lib')):
        depends = binaries[names[dev]].get('Depends', '')
        if '{} (= ${{binary:Version}})'.format(names[lib]) not in depends:
            fail('debian/control: {} does not depend on {} (= ${{binary:Version}})'.format(
                names[dev], names[lib]))
    ok('debian/control: {}'.format(', '.join(sorted(binaries))))
    return binaries


def install_lines(root, package):
    path = os.path.join(root, 'debian', package + '.install')
    if not os.path.isfile(path):
        return None
    return [line.strip() for line in read(path).splitlines()
            if line.strip() and not line.startswith('#')]


def check_install_files(root, build_root, prefix, names, soversion, mpi_soversion):
    lines = {}
    for package in names.values():
        found = install_lines(root, package)
        if found is None:
            fail('debian/{}.install is missing'.format(package))
        else:
            lines[package] = found
    for key, stem, sov in (('lib', 'libvicreg', soversion),
                           ('mpi_lib', 'libvicreg-mpi', mpi_soversion)):
        package = names[key]
        for want in ('usr/lib/*/{}.so.{}'.format(stem, sov),
                     'usr/lib/*/{}.so.{}.*'.format(stem, sov)):
            if want not in lines.get(package, []):
                fail('debian/{}.install lacks the line {}'.format(package, want))

    installed_json = os.path.join(build_root, 'meson-info', 'intro-installed.json')
    try:
        installed = json.loads(read(installed_json))
    except OSError as exc:
        fail('cannot read {}: {}'.format(installed_json, exc))
        return
    relative = sorted(os.path.relpath(dest, prefix) for dest in installed.values())
    outside = [r for r in relative if r.startswith('..')]
    if outside:
        fail('installed outside the prefix {}: {}'.format(prefix, outside))

    def claims(pattern, path):
        pattern = pattern[len('usr/'):] if pattern.startswith('usr/') else pattern
        return fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern.rstrip('/') + '/')

    failures = len(errors)
    used = set()
    for path in relative:
        owners = [(package, pattern) for package, patterns in lines.items()
                  for pattern in patterns if claims(pattern, path)]
        if len({p for p, _ in owners}) != 1:
            fail('{} (installed by meson) is claimed by {} of the .install files{}'.format(
                path, len({p for p, _ in owners}),
                ': ' + ', '.join(sorted({p for p, _ in owners})) if owners else ''))
        used.update(owners)
    has_python = any(p.startswith('lib/python3/') or '/site-packages/' in p or
                     '/dist-packages/' in p for p in relative)
    has_mpi = any(os.path.basename(p).startswith('libvicreg-mpi.so') for p in relative)
    names_installed = {os.path.basename(p) for p in relative}
    if not {'libvicreg.a', 'libvicreg.so.' + soversion} <= names_installed:
        print('note: this build does not make both the shared and the static library '
              '(default_library=both, as Debian builds): the .install files are not '
              'checked for lines that claim nothing')
        lines_to_check = {}
    else:
        lines_to_check = lines
    for package, patterns in lines_to_check.items():
        if package == names['python'] and not has_python:
            print('note: this build does not install the Python package (-Dpython=enabled '
                  'does): debian/{}.install not checked against it'.format(package))
            continue
        if package in (names['mpi_lib'], names['mpi_dev']) and not has_mpi:
            print('note: this build has no libvicreg-mpi: debian/{}.install not checked '
                  'against it'.format(package))
            continue
        for pattern in patterns:
            if (package, pattern) not in used:
                fail('debian/{}.install: {} matches nothing this build installs'.format(
                    package, pattern))
    if len(errors) > failures:
        return
    ok('{} installed files, each in one package: {}'.format(len(relative), ', '.join(
        '{} {}'.format(package, sum(1 for path in relative
                                    if any(claims(p, path) for p in patterns)))
        for package, patterns in sorted(lines.items()))))


def check_symbols(root, names):
    res = subprocess.run([sys.executable, os.path.join(root, 'debian', 'gen-symbols.py'),
                          '--check'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True)
    print(res.stdout.rstrip())
    if res.returncode != 0:
        fail('debian/*.symbols differ from the version scripts (debian/gen-symbols.py --write)')
    for key, stem in (('lib', 'libvicreg'), ('mpi_lib', 'libvicreg-mpi')):
        path = os.path.join(root, 'debian', names[key] + '.symbols')
        if not os.path.isfile(path):
            fail('{} is missing'.format(path))
            continue
        header = [line for line in read(path).splitlines()
                  if line and not line.startswith(('#', ' ', '*', '|'))]
        want = '{}.so.{} {} #MINVER#'.format(stem, names[key][len(stem):], names[key])
        if header != [want]:
            fail('{}: header {}, expected {!r}'.format(path, header, want))


def check_python(root, version):
    failures = len(errors)
    with open(os.path.join(root, 'pyproject.toml'), 'rb') as f:
        wheel = tomllib.load(f)
    if wheel.get('build-system', {}).get('build-backend') != 'mesonpy':
        fail('pyproject.toml: the build backend is not mesonpy')
    project = wheel.get('project', {})
    if 'version' in project or 'version' not in project.get('dynamic', []):
        fail('pyproject.toml: the version must be dynamic (meson-python takes '
             "meson.build's), not written there")
    setup = wheel.get('tool', {}).get('meson-python', {}).get('args', {}).get('setup', [])
    if '-Dwheel=true' not in setup:
        fail('pyproject.toml: [tool.meson-python.args] setup lacks -Dwheel=true')
    with open(os.path.join(root, 'bindings', 'python', 'pyproject.toml'), 'rb') as f:
        package_version = tomllib.load(f).get('project', {}).get('version')
    if package_version != version:
        fail('bindings/python/pyproject.toml: version {}, meson.build {}'.format(
            package_version, version))
    init = read(os.path.join(root, 'bindings', 'python', 'vicreg', '__init__.py'))
    match = re.search(r'^__version__ = "([^"]+)"', init, re.M)
    if not match or match.group(1) != version:
        fail('bindings/python/vicreg/__init__.py: __version__ {}, meson.build {}'.format(
            match.group(1) if match else None, version))
    package_dir = os.path.join(root, 'bindings', 'python', 'vicreg')
    listed = set(re.findall(r"'([^']+\.py)'", read(os.path.join(package_dir, 'meson.build'))))
    present = {name for name in os.listdir(package_dir) if name.endswith('.py')}
    if listed != present:
        fail('bindings/python/vicreg/meson.build installs {}, the package has {} '
             '(missing: {}; gone: {})'.format(sorted(listed), sorted(present),
                                             sorted(present - listed), sorted(listed - present)))
    if len(errors) == failures:
        ok('pyproject.toml (dynamic version), bindings/python {} and its {} modules'.format(
            version, len(present)))


def check_cmake(build_root, version, soversion, mpi_version):
    version_file = os.path.join(build_root, 'vicregConfigVersion.cmake')
    config_file = os.path.join(build_root, 'vicregConfig.cmake')
    if not os.path.isfile(version_file):
        print('note: no vicregConfigVersion.cmake in this build (a static-only build)')
        return
    text = read(version_file)
    for want in ('set(PACKAGE_VERSION "{}")'.format(version),
                 'set(_vicreg_major "{}")'.format(version.split('.')[0])):
        if want not in text:
            fail('{} lacks {}'.format(version_file, want))
    text = read(config_file)
    for want in ('set(vicreg_VERSION "{}")'.format(version),
                 '/libvicreg.so.{}"'.format(version),
                 'IMPORTED_SONAME "libvicreg.so.{}"'.format(soversion)):
        if want not in text:
            fail('{} lacks {}'.format(config_file, want))
    if mpi_version:
        mpi_file = os.path.join(build_root, 'vicreg-mpiTargets.cmake')
        text = read(mpi_file) if os.path.isfile(mpi_file) else ''
        for want in ('set(vicreg_mpi_VERSION "{}")'.format(mpi_version),
                     '/libvicreg-mpi.so.{}"'.format(mpi_version),
                     'IMPORTED_SONAME "libvicreg-mpi.so.{}"'.format(mpi_version.split('.')[0])):
            if want not in text:
                fail('{} lacks {}'.format(mpi_file, want))
    ok('the CMake package says {} and libvicreg.so.{}'.format(version, soversion))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--source-root', required=True)
    ap.add_argument('--build-root', required=True)
    ap.add_argument('--prefix', required=True)
    ap.add_argument('--version', required=True)
    ap.add_argument('--soversion', required=True)
    ap.add_argument('--mpi-version', help="libvicreg-mpi's version, where it is built")
    args = ap.parse_args()
    root = args.source_root

    # The generator's reading of the versions is the build's.
    spec = importlib.util.spec_from_file_location(
        'gen_symbols', os.path.join(root, 'debian', 'gen-symbols.py'))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    sonames = gen.package_names()
    mpi_version = args.mpi_version or gen.meson_version(*gen.LIBRARIES[1][5:7])
    mpi_soversion = mpi_version.split('.')[0]
    if sonames['libvicreg'][0] != 'libvicreg.so.' + args.soversion:
        fail('debian/gen-symbols.py reads the soname {} from meson.build; the build has '
             'libvicreg.so.{}'.format(sonames['libvicreg'][0], args.soversion))
    if sonames['libvicreg-mpi'][0] != 'libvicreg-mpi.so.' + mpi_soversion:
        fail('debian/gen-symbols.py reads the soname {} from src/mpi/meson.build; the build '
             'has libvicreg-mpi.so.{}'.format(sonames['libvicreg-mpi'][0], mpi_soversion))
    # A symbol's minimal version (its node's X.Y.0) is a version the source
    # package has had: not above the project version.
    project = tuple(int(x) for x in args.version.split('.'))
    for map_path, _stem, _pkg, _dev, prefix, _m, _p in gen.LIBRARIES:
        for name, node_version, _symbols in gen.nodes(map_path, prefix):
            if tuple(int(x) for x in (node_version + '.0').split('.')) > project:
                fail('{}: node {} is newer than the project version {}: its symbols '
                     'would need a Debian version the package never had'.format(
                         map_path, name, args.version))

    names = {
        'lib': 'libvicreg' + args.soversion,
        'dev': 'libvicreg-dev',
        'mpi_lib': 'libvicreg-mpi' + mpi_soversion,
        'mpi_dev': 'libvicreg-mpi-dev',
        'python': 'python3-vicreg',
    }
    check_changelog(root, args.version)
    check_control(root, names)
    check_install_files(root, args.build_root, args.prefix, names, args.soversion,
                        mpi_soversion)
    check_symbols(root, names)
    check_python(root, args.version)
    check_cmake(args.build_root, args.version, args.soversion, args.mpi_version)

    if errors:
        print('\n{} packaging check(s) failed'.format(len(errors)))
        return 1
    print('OK: the Debian, Python and CMake packaging agree with meson.build {}'.format(
        args.version))
    return 0


if __name__ == '__main__':
    sys.exit(main())
