"""`pip install` of the package works offline with the system's Python: a
virtual environment that sees the system packages (NumPy, PyTorch), the
package installed into it with no index and no build isolation, then
imported from outside the source tree. Both tests are marked slow (test
python-pip-install of suite 'bindings' runs them):

- test_pip_install_into_a_venv: this directory (bindings/python, the
  package without the library) from a copy of its source; the library is
  the one these tests use (VICREG_LIBRARY).
- test_wheel_into_a_venv: the wheel built from the repository root (`pip
  wheel .`, meson-python), which carries libvicreg.so.1. It runs when
  VICREG_WHEEL names that wheel (scripts/test.sh builds it and sets it) and
  is skipped otherwise. With no VICREG_LIBRARY, no PYTHONPATH and no
  LD_LIBRARY_PATH, the installed package must load its own copy, and this
  package's tests (a copy, outside the source tree) must pass against it.
"""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE_ROOT = PACKAGE_ROOT.parents[1]

USE = """
import sys, numpy as np, torch, vicreg, vicreg.torch
assert vicreg.__file__.startswith(sys.prefix), vicreg.__file__
z = np.random.default_rng(0).standard_normal((16, 8))
result = vicreg.loss(z, z + 0.1)
module = vicreg.torch.VICRegLoss()
t = torch.tensor(z, requires_grad=True)
loss = module(t, torch.tensor(z + 0.1))
loss.backward()
assert abs(loss.item() - result.loss) <= 1e-12 * result.loss
print(vicreg.__file__, vicreg.library_path(), result.loss)
"""


def _clean_env():
    """The environment without what would point Python or the loader back
    at the source or build tree."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VICREG_LIBRARY", "LD_LIBRARY_PATH")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _venv(tmp_path):
    """A fresh virtual environment that sees the system's packages; its
    python."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                    str(venv)], check=True, timeout=120)
    return venv, str(venv / "bin" / "python")


def _pip_install(python, what, env):
    install = subprocess.run(
        [python, "-m", "pip", "install", "--no-index", "--no-build-isolation",
         "--no-cache-dir", str(what)],
        env=env, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr


@pytest.mark.slow
def test_pip_install_into_a_venv(tmp_path):
    import vicreg  # the library these tests use, for the installed copy

    # pip builds in the source directory; build from a copy so that the
    # source tree gets no build/ or *.egg-info.
    source = tmp_path / "src"
    shutil.copytree(PACKAGE_ROOT, source, ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "build", "*.egg-info", "meson.build"))
    venv, python = _venv(tmp_path)
    env = _clean_env()
    _pip_install(python, source, env)
    env["VICREG_LIBRARY"] = vicreg.library_path()
    use = subprocess.run([python, "-c", USE], env=env, cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=120)
    assert use.returncode == 0, use.stdout + use.stderr
    assert str(venv) in use.stdout


@pytest.mark.slow
def test_wheel_into_a_venv(tmp_path):
    wheel = os.environ.get("VICREG_WHEEL")
    if not wheel:
        pytest.skip("set VICREG_WHEEL to a wheel built from the repository "
                    "root (scripts/test.sh does)")
    wheel = pathlib.Path(wheel).resolve()
    assert wheel.is_file(), wheel
    venv, python = _venv(tmp_path)
    env = _clean_env()
    _pip_install(python, wheel, env)

    # Imported from a directory that is not the source tree: the package of
    # the virtual environment, with the library inside it.
    use = subprocess.run([python, "-c", USE], env=env, cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=120)
    assert use.returncode == 0, use.stdout + use.stderr
    package_file, library, _ = use.stdout.split()
    package_dir = pathlib.Path(package_file).parent
    assert package_dir.is_relative_to(venv), package_file
    assert pathlib.Path(library) == package_dir / "libvicreg.so.1", library
    print("installed package %s loads %s" % (package_dir, library))

    # This package's tests, from a copy outside the source tree laid out as
    # they expect (bindings/python/{tests,README.md,pyproject.toml} and the
    # committed vectors in tests/vectors), so that `import vicreg` finds
    # the installed package. The test of this file is left out (-m 'not
    # slow'): it is what runs them. The project's pages are read from the
    # source tree (VICREG_PROJECT_DOCS), as in the meson test.
    outside = tmp_path / "outside"
    copy = outside / "bindings" / "python"
    shutil.copytree(PACKAGE_ROOT / "tests", copy / "tests",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("README.md", "pyproject.toml"):
        shutil.copy(PACKAGE_ROOT / name, copy / name)
    vectors = SOURCE_ROOT / "tests" / "vectors"
    if vectors.is_dir():
        shutil.copytree(vectors, outside / "tests" / "vectors")
    env["VICREG_PROJECT_DOCS"] = os.pathsep.join(
        [str(SOURCE_ROOT / "README.md"), str(SOURCE_ROOT / "docs")])
    tests = subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", "-m",
         "not slow", "--rootdir", str(copy), str(copy / "tests")],
        env=env, cwd=str(tmp_path), capture_output=True, text=True,
        timeout=600)
    print(tests.stdout[-2000:])
    assert tests.returncode == 0, tests.stdout + tests.stderr
