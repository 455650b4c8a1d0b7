"""The Python examples of the documentation run: every ```python block of
this package's README.md, and in the project's README.md and docs/*.md
every ```python block that follows a `<!-- python-example -->` line.

VICREG_PROJECT_DOCS (set by bindings/python/meson.build) lists the
project's files to read, separated by os.pathsep: .md files, or
directories whose *.md files are read. Unset, it is this source tree's
README.md and docs/. When it is set, a missing entry fails; unset, the
project's tests are skipped if the tree is not there (the package alone).
A marker not followed by a ```python block fails, and so does a project
documentation with fewer than MIN_PROJECT_EXAMPLES marked blocks."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parents[1]
PACKAGE_README = HERE / "README.md"
PROJECT_ROOT = HERE.parents[1]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
MARKER = re.compile(r"^[ \t]*<!--\s*python-example\s*-->[ \t]*$", re.M)
MARKED = re.compile(r"<!--\s*python-example\s*-->[ \t]*\n\s*```python\n(.*?)```",
                    re.S)
# The project's README held two marked examples when it moved into docs/
# (the NumPy/PyTorch one and the torch.distributed one): no fewer.
MIN_PROJECT_EXAMPLES = 2


def project_files():
    """(files, explicit): the project's .md files to read."""
    listed = os.environ.get("VICREG_PROJECT_DOCS")
    entries = ([pathlib.Path(p) for p in listed.split(os.pathsep) if p]
               if listed else [PROJECT_ROOT / "README.md", PROJECT_ROOT / "docs"])
    files = []
    for entry in entries:
        if entry.is_dir():
            pages = sorted(entry.glob("*.md"))
            if listed and not pages:
                raise FileNotFoundError("%s holds no .md file" % entry)
            files += pages
        elif entry.is_file():
            files.append(entry)
        elif listed:
            raise FileNotFoundError("%s (from VICREG_PROJECT_DOCS) does not exist"
                                    % entry)
    return files, bool(listed)


def label(path):
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def project_blocks():
    files, _ = project_files()
    found = []
    for path in files:
        text = path.read_text()
        found += [("%s block %d" % (label(path), i), code)
                  for i, code in enumerate(MARKED.findall(text))]
    return found


def blocks():
    found = [("package README block %d" % i, code) for i, code in
             enumerate(BLOCK.findall(PACKAGE_README.read_text()))]
    try:
        found += project_blocks()
    except FileNotFoundError:
        pass  # test_the_project_docs_have_examples reports it
    return found


def test_the_package_readme_has_examples():
    assert len(BLOCK.findall(PACKAGE_README.read_text())) >= 2


def test_the_project_docs_have_examples():
    files, explicit = project_files()
    if not files and not explicit:
        pytest.skip("not in the libvicreg source tree: no project README")
    assert files, "no project documentation found"
    total = 0
    for path in files:
        text = path.read_text()
        markers, marked = len(MARKER.findall(text)), len(MARKED.findall(text))
        assert markers == marked, (
            "%s: %d python-example marker(s), but only %d followed by a ```python "
            "block" % (label(path), markers, marked))
        total += marked
    assert total >= MIN_PROJECT_EXAMPLES, (
        "%d marked Python example(s) in %s, expected at least %d"
        % (total, ", ".join(label(p) for p in files), MIN_PROJECT_EXAMPLES))


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
