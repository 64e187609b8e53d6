"""Bad answers stop in the template's pre_gen hook with a message naming the field; nothing is generated.

Menu answers (risk tier, task, ...) are cookiecutter choice lists: a prompt cannot take a wrong one, and a
wrong one passed as ``key=value`` on plain cookiecutter's command line is refused by cookiecutter itself
(its own ValueError, before any hook runs); ``shipyard new`` checks them first (test_new_answers.py)."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import TEMPLATE, VENV_BIN

BAD = {
    "slug with capitals": (["project_slug=My Project"], "project_slug 'My Project' is not a valid slug"),
    "slug with underscore": (["project_slug=my_project"], "project_slug 'my_project' is not a valid slug"),
    "package not an identifier": (
        ["package_name=1model"],
        "package_name '1model' is not a valid Python package",
    ),
    "package is a keyword": (["package_name=class"], "package_name 'class' is not a valid Python package"),
    "empty owner": (["owner_email="], "owner_email is empty"),
    "owner not an email": (["owner_email=alice"], "owner_email 'alice' is not an email address"),
    "package shadows a dependency": (["package_name=mlflow"], "package_name 'mlflow' would shadow"),
    "300-character name": (["project_name=" + "n" * 300], "project_name is 300 characters long"),
    "line break in description": (["description=a\nb"], "description contains a control character"),
    "bad team": (["team=Data Science"], "team 'Data Science' is not a valid team name"),
    "gpu without torch": (["gpu_training=yes"], "gpu_training=yes needs model_flavour=pytorch"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_answer_is_rejected_by_the_hook_and_nothing_is_generated(tmp_path, case):
    args, message = BAD[case]
    result = subprocess.run(
        [str(VENV_BIN / "cookiecutter"), "--no-input", "-o", str(tmp_path), str(TEMPLATE), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "fix:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout  # local_extensions.py drops cookiecutter's
    assert list(tmp_path.iterdir()) == []


def test_every_problem_is_reported_at_once(tmp_path):
    result = subprocess.run(
        [
            str(VENV_BIN / "cookiecutter"),
            "--no-input",
            "-o",
            str(tmp_path),
            str(TEMPLATE),
            "owner_email=",
            "package_name=1x",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "owner_email is empty" in result.stderr and "package_name '1x'" in result.stderr
    assert list(tmp_path.iterdir()) == []
