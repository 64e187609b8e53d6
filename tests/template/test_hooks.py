"""Bad answers stop in the template's pre_gen hook with a message naming the field; nothing is generated."""

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
    "unknown tier": (["risk_tier=extreme"], "risk_tier 'extreme' is not one of low, medium, high"),
    "unknown task": (["task=clustering"], "task 'clustering' is not one of classification, regression"),
    "unknown ci": (["ci_provider=jenkins"], "ci_provider 'jenkins' is not one of github, gitlab, both"),
    "bad python": (["python_version=2.7"], "python_version '2.7' is not one of"),
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
    assert "Traceback" not in result.stderr
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
            "task=x",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "owner_email is empty" in result.stderr and "task 'x' is not one of" in result.stderr
    assert list(tmp_path.iterdir()) == []
