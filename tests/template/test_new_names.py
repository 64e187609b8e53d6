"""Names `shipyard new` must refuse before it touches anything (issue 35, items 5, 7 and 8): a package
that would hide a standard-library module or a dependency's import name (`src/logging` broke the first
CI run at lint), and a name without a letter or digit (every such name became the slug `model`). The
platform's template repository (`<data dir>/git/_template.git`) is not created or rewritten by a
refused `new`; plain cookiecutter refuses the same names in the template's pre_gen hook."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import REPO, TEMPLATE, VENV_BIN

COMMON = ("--no-input", "--no-provision", "--spec", str(REPO / "platform.yaml"))

SHADOWING = {
    "logging": "the standard library's module 'logging'",
    "json": "the standard library's module 'json'",
    "numpy": "the module 'numpy' of the dependency numpy",
    "requests": "the module 'requests' of the dependency requests",
    "Pydantic": "the module 'pydantic' of the dependency pydantic",
}
NO_LETTERS = ["🚀🔥", "!!!", ".", ".."]


def _tree(path):
    return (
        sorted((str(p.relative_to(path)), p.stat().st_mtime_ns) for p in path.rglob("*"))
        if path.exists()
        else []
    )


@pytest.mark.parametrize("name", SHADOWING)
def test_new_refuses_a_package_that_shadows_a_module(cli, tmp_path, name):
    home = tmp_path / "home"
    home.mkdir()  # an embedded platform's data dir: `new` would publish the template there first
    result = cli("new", name, "--team", "demo", "-o", str(tmp_path / "out"), *COMMON, "--data-dir", str(home))
    assert result.returncode == 2, result.stderr
    assert f"hides {SHADOWING[name]}" in result.stderr
    assert "fix:" in result.stderr and "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()
    assert list(home.iterdir()) == []  # the template repository was not even created


@pytest.mark.parametrize("name", NO_LETTERS)
def test_new_refuses_a_name_without_letters_or_digits(cli, tmp_path, name):
    result = cli(
        "new", name, "--team", "demo", "-o", str(tmp_path / "out"), *COMMON, "--data-dir", str(tmp_path / "h")
    )
    assert result.returncode == 2, result.stderr
    assert "has no letter or digit" in result.stderr and "fix:" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_refused_new_leaves_the_published_template_repository_as_it_was(cli, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    ok = cli("new", "First", "--team", "demo", "-o", str(tmp_path / "ok"), *COMMON, "--data-dir", str(home))
    assert ok.returncode == 0, ok.stderr
    repo = home / "git" / "_template.git"
    before = _tree(repo)
    assert before
    refused = cli("new", "Second", "--owner", "x", "--team", "demo", "-o", str(tmp_path / "out"), *COMMON,
                  "--data-dir", str(home))  # fmt: skip
    assert refused.returncode == 2 and "owner_email 'x' is not an email" in refused.stderr
    assert _tree(repo) == before
    again = cli(
        "new", "First", "--team", "demo", "-o", str(tmp_path / "ok"), *COMMON, "--data-dir", str(home)
    )
    assert again.returncode == 2 and "first already exists" in again.stderr
    assert _tree(repo) == before


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            "project_name=logging",
            "package_name 'logging' would shadow the standard library's module 'logging'",
        ),
        ("project_name=pandas", "package_name 'pandas_model'"),  # renamed by cookiecutter.json: no refusal
        (
            "package_name=numpy",
            "package_name 'numpy' would shadow the module 'numpy' of the dependency numpy",
        ),
        ("project_name=!!!", "project_name '!!!' has no letter or digit"),
    ],
)
def test_plain_cookiecutter_refuses_the_same_names_in_the_hook(tmp_path, answer, message):
    result = subprocess.run(
        [str(VENV_BIN / "cookiecutter"), "--no-input", "-o", str(tmp_path), str(TEMPLATE), answer],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if "pandas_model" in message:
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "pandas" / "src" / "pandas_model").is_dir()
        return
    assert result.returncode != 0
    assert message in result.stderr and "fix:" in result.stderr
    assert list(tmp_path.iterdir()) == []
