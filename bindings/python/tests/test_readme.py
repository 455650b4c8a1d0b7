"""The Python examples of the documentation run: every ```python block of
this package's README.md, and in the project's README.md every ```python
block that follows a `<!-- python-example -->` line."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parents[1]
PACKAGE_README = HERE / "README.md"
PROJECT_README = HERE.parents[1] / "README.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
MARKED = re.compile(r"<!-- python-example -->\s*```python\n(.*?)```", re.S)


def blocks():
    found = [("package README block %d" % i, code) for i, code in
             enumerate(BLOCK.findall(PACKAGE_README.read_text()))]
    if PROJECT_README.is_file():
        found += [("project README block %d" % i, code) for i, code in
                  enumerate(MARKED.findall(PROJECT_README.read_text()))]
    return found


def test_the_package_readme_has_examples():
    assert len(BLOCK.findall(PACKAGE_README.read_text())) >= 2


@pytest.mark.parametrize("name,code", blocks(), ids=[n for n, _ in blocks()])
def test_example_runs(name, code, tmp_path):
    # A fresh interpreter outside the source tree, as a user would run it,
    # with this source tree's package; the library as for these tests.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                       if p])
    done = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, "%s failed:\n%s%s" % (name, done.stdout,
                                                      done.stderr)
