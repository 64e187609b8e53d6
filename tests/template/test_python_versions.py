"""Each Python version the template offers is one Shipyard supports, and each one this machine has
(on PATH or under pyenv) compiles the generated project. Installing the project's full dependency
set per interpreter is not done here (minutes of downloads per version); 3.11 runs it in the matrix."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tomllib

import pytest
from packaging.specifiers import SpecifierSet

from .conftest import REPO, TEMPLATE, bake

OFFERED = json.loads((TEMPLATE / "cookiecutter.json").read_text())["python_version"]


def interpreter(version: str) -> str | None:
    """pyenv's installed version (its shims on PATH answer only for the selected one), else PATH."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"))
    if candidates:
        return candidates[-1]
    found = shutil.which(f"python{version}")
    return found if found and "/shims/" not in found else None


def test_offered_versions_are_the_ones_shipyard_supports():
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert OFFERED and all(v in SpecifierSet(requires) for v in OFFERED)
    assert "3.10" not in OFFERED  # labeling.py uses datetime.UTC; shipyard needs >= 3.11


@pytest.mark.parametrize("version", OFFERED)
def test_generated_project_compiles_under_each_offered_python(tmp_path, version):
    python = interpreter(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    project = bake(tmp_path, python_version=version, labeling="yes", model_flavour="pytorch")
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    assert meta["project"]["requires-python"] == f">={version}"
    assert meta["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
    )
    assert out.stdout.strip() == version
    compiled = subprocess.run(
        [python, "-m", "compileall", "-q", "src", "tests"], cwd=project, capture_output=True, text=True
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
