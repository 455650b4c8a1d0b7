"""`pip install` of the package works offline with the system's Python: a
virtual environment that sees the system packages (NumPy, PyTorch), the
package installed into it from a copy of its source with no index and no
build isolation, then imported from outside the source tree."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import vicreg

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[1]

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
print(vicreg.__file__, result.loss)
"""


@pytest.mark.slow
def test_pip_install_into_a_venv(tmp_path):
    # pip builds in the source directory; build from a copy so that the
    # source tree gets no build/ or *.egg-info.
    source = tmp_path / "src"
    shutil.copytree(PACKAGE_ROOT, source, ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "build", "*.egg-info", "meson.build"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                    str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    install = subprocess.run(
        [python, "-m", "pip", "install", "--no-index", "--no-build-isolation",
         "--no-cache-dir", str(source)],
        env=env, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    env["VICREG_LIBRARY"] = vicreg.library_path()
    use = subprocess.run([python, "-c", USE], env=env, cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=120)
    assert use.returncode == 0, use.stdout + use.stderr
    assert str(venv) in use.stdout
