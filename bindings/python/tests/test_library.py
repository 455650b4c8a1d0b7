"""How the package finds and declares the shared library."""

import ctypes
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import vicreg
from vicreg import _lib

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[1]


def exported_functions(path):
    nm = shutil.which("nm")
    assert nm, "nm (binutils) is needed to list the library's symbols"
    listing = subprocess.run([nm, "-D", "--defined-only", path], check=True,
                             capture_output=True, text=True).stdout
    names = set()
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "TtWi":
            names.add(fields[2].split("@")[0])
    return names


def test_every_exported_function_is_declared():
    path = vicreg.library_path()
    assert path and os.path.exists(path)
    exported = exported_functions(path)
    assert set(_lib.REQUIRED) <= exported
    undeclared = exported - set(_lib.SIGNATURES)
    assert not undeclared, "declare these in vicreg/_lib.py: %s" % undeclared
    for name in exported:
        function = getattr(vicreg.lib, name)
        restype, argtypes = _lib.SIGNATURES[name]
        assert function.argtypes == argtypes, name
        assert function.restype == restype, name


def test_version():
    number = vicreg.lib.vicreg_version_number()
    major, minor, patch = (int(x) for x in vicreg.library_version().split("."))
    assert number == major * 10000 + minor * 100 + patch
    assert major == 1


def test_explicit_path_that_fails_is_an_error(monkeypatch, tmp_path):
    missing = str(tmp_path / "libvicreg.so.1")
    monkeypatch.setenv("VICREG_LIBRARY", missing)
    with pytest.raises(vicreg.LibraryNotFoundError) as info:
        _lib.load()
    assert "VICREG_LIBRARY" in str(info.value) and missing in str(info.value)


def _without_system_library(monkeypatch, root):
    real_open = _lib._open

    def fake_open(path):
        if str(path) == _lib.SONAME:
            raise OSError("libvicreg.so.1: cannot open shared object file")
        return real_open(path)

    monkeypatch.delenv("VICREG_LIBRARY", raising=False)
    monkeypatch.setattr(_lib, "_open", fake_open)
    monkeypatch.setattr(_lib, "package_library", lambda: None)
    monkeypatch.setattr(_lib, "source_root", lambda: root)


def test_build_tree_fallback(monkeypatch, tmp_path):
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "vicreg.h").write_text("")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / _lib.SONAME).symlink_to(vicreg.library_path())
    _without_system_library(monkeypatch, tmp_path)
    lib, path = _lib.load()
    assert path == str(tmp_path / "build" / _lib.SONAME)
    assert lib.vicreg_version_number() == vicreg.lib.vicreg_version_number()


def test_not_found_says_what_to_set(monkeypatch, tmp_path):
    _without_system_library(monkeypatch, None)
    with pytest.raises(vicreg.LibraryNotFoundError) as info:
        _lib.load()
    message = str(info.value)
    assert "Set VICREG_LIBRARY" in message
    assert "system loader" in message and "build tree" in message


def test_source_root_is_this_checkout():
    root = _lib.source_root()
    # Inside the libvicreg source tree when run from it; None once installed.
    if root is not None:
        assert (root / "bindings" / "python" / "vicreg").is_dir()


def _run(code, env):
    return subprocess.run([sys.executable, "-c", code], env=env,
                          cwd=str(PACKAGE_ROOT), capture_output=True,
                          text=True, timeout=120)


def test_package_copy_comes_first(monkeypatch, tmp_path):
    # A wheel's copy beside _lib.py wins over the system loader and the
    # build tree; VICREG_LIBRARY still wins over it.
    copy = tmp_path / _lib.SONAME
    copy.symlink_to(vicreg.library_path())
    monkeypatch.setattr(_lib, "package_library", lambda: copy)
    monkeypatch.setattr(_lib, "_open", lambda path: (
        _fail("asked the system loader") if str(path) == _lib.SONAME
        else ctypes.CDLL(str(path))))
    monkeypatch.delenv("VICREG_LIBRARY", raising=False)
    lib, path = _lib.load()
    assert path == str(copy)
    other = tmp_path / "other" / _lib.SONAME
    other.parent.mkdir()
    other.symlink_to(vicreg.library_path())
    monkeypatch.setenv("VICREG_LIBRARY", str(other))
    lib, path = _lib.load()
    assert path == str(other)


def _fail(message):
    raise AssertionError(message)


def test_package_copy_that_fails_is_an_error(monkeypatch, tmp_path):
    broken = tmp_path / _lib.SONAME
    broken.write_text("not a shared object")
    monkeypatch.setattr(_lib, "package_library", lambda: broken)
    monkeypatch.delenv("VICREG_LIBRARY", raising=False)
    with pytest.raises(vicreg.LibraryNotFoundError) as info:
        _lib.load()
    message = str(info.value)
    assert str(broken) in message and "OpenBLAS" in message
    assert "VICREG_LIBRARY" in message


def test_installed_wheel_uses_its_own_copy():
    # Run from an installed wheel (scripts/test.sh: test_install.py's
    # test_wheel_into_a_venv runs these tests so): the package's copy, found
    # with no VICREG_LIBRARY.
    if _lib.package_library() is None:
        pytest.skip("this package carries no libvicreg.so.1 (not a wheel)")
    assert not os.environ.get("VICREG_LIBRARY")
    assert (os.path.realpath(vicreg.library_path())
            == os.path.realpath(_lib.package_library()))


def test_system_loader(tmp_path):
    # With VICREG_LIBRARY unset and no copy in the package, the dynamic
    # loader's search path wins.
    if _lib.package_library() is not None:
        pytest.skip("this package carries its own libvicreg.so.1 (a wheel), "
                    "which comes before the system loader")
    directory = tmp_path / "lib"
    directory.mkdir()
    shutil.copy(vicreg.library_path(), directory / _lib.SONAME)
    env = dict(os.environ, LD_LIBRARY_PATH=str(directory),
               PYTHONPATH=str(PACKAGE_ROOT))
    env.pop("VICREG_LIBRARY", None)
    done = _run("import vicreg; print(vicreg.library_path())", env)
    assert done.returncode == 0, done.stderr
    assert (os.path.realpath(done.stdout.strip())
            == os.path.realpath(directory / _lib.SONAME))


def test_a_library_that_is_not_libvicreg_is_refused():
    libm = None
    for line in open("/proc/self/maps"):
        if "/libm.so" in line:
            libm = line.split()[-1]
    assert libm
    env = dict(os.environ, VICREG_LIBRARY=libm, PYTHONPATH=str(PACKAGE_ROOT))
    done = _run("import vicreg", env)
    assert done.returncode != 0
    assert "LibraryNotFoundError" in done.stderr
    assert "vicreg_ctx_create" in done.stderr


def test_package_version_is_the_pyproject_version():
    import tomllib
    with open(PACKAGE_ROOT / "pyproject.toml", "rb") as f:
        assert vicreg.__version__ == tomllib.load(f)["project"]["version"]
