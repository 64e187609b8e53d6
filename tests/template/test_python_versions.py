"""Each Python version the template offers is one Shipyard supports, and each one this machine has
(on PATH or under pyenv) compiles the generated project. Installing the project's full dependency
set per interpreter is done once per offered version besides 3.11 (the matrix runs 3.11): a fresh venv,
the project's locked packages, `make lint test`."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tomllib

import pytest
from packaging.specifiers import SpecifierSet

from .conftest import REPO, TEMPLATE, VENV_BIN, bake, project_env

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


@pytest.mark.slow
@pytest.mark.parametrize("version", [v for v in OFFERED if v != "3.11"])  # 3.11: the matrix runs it
def test_generated_project_installs_lints_and_tests_under_each_offered_python(tmp_path, version):
    """The locked dependencies install (hashes checked) into a fresh venv of that Python, with Shipyard
    from this checkout in place of the platform's index, and the project's `make lint test` passes."""
    python = interpreter(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    project = bake(tmp_path / "p", python_version=version)
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
    py, uv = str(venv / "bin" / "python"), str(VENV_BIN / "uv")
    for args in (
        ["--require-hashes", "--no-deps", "-r", str(project / "requirements.lock")],
        ["--no-deps", "-e", str(REPO)],
        ["--no-deps", "--no-build-isolation", "-e", str(project)],
    ):
        done = subprocess.run([uv, "pip", "install", "-q", "--python", py, *args], capture_output=True,
                              text=True, timeout=900)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    check = subprocess.run([py, "-m", "pip", "check"], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout
    env = project_env(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}")
    made = subprocess.run(["make", "lint", "test", f"PYTHON={py}"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-2000:]
    assert "passed" in made.stdout
