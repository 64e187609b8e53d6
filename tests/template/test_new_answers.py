"""`shipyard new` answers are data: any name makes a slug, a refused answer is one line with a fix, no
traceback, and nothing on disk; template syntax in an answer is never executed."""

from __future__ import annotations

import json
import tomllib

import pytest
import yaml

from .conftest import REPO

COMMON = ("--no-input", "--no-provision", "--spec", str(REPO / "platform.yaml"))

NAMES = {
    "Détection de fraude 信用": "detection-de-fraude-xin-yong",
    "Credit  Risk": "credit-risk",
    "Bob's v2.0 model": "bob-s-v2-0-model",
    '2024 churn: "quoted" #1': "model-2024-churn-quoted-1",
    "Class": "class",  # a keyword as package name gets a suffix
}


@pytest.mark.parametrize("name", NAMES)
def test_any_name_makes_a_valid_project(cli, tmp_path, name):
    home = str(tmp_path / "h")
    result = cli("new", name, "--team", "demo", "-o", str(tmp_path), *COMMON, "--data-dir", home)
    assert result.returncode == 0, result.stderr
    project = tmp_path / NAMES[name]
    catalog = yaml.safe_load((project / "shipyard.yaml").read_text())
    assert catalog["name"] == name and catalog["project"] == NAMES[name]
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"] == NAMES[name]
    package = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]["package_name"]
    assert package == ("class_model" if name == "Class" else NAMES[name].replace("-", "_"))
    init = project / "src" / package / "__init__.py"
    assert compile(init.read_text(), str(init), "exec")  # the docstring holds the name verbatim
    assert name in eval(init.read_text())  # noqa: S307  (a string literal we just generated)


OK = ("new", "Ok", "--team", "demo")


def bad_cases(tmp_path):
    marker = tmp_path / "pwned"
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    return {
        "jinja in name": (
            ["new", f'x{{{{ cycler.__init__.__globals__.os.system("touch {marker}") }}}}', "--team", "demo"],
            "project_name contains template syntax",
        ),
        "jinja in description": (
            [*OK, "--description", "{% for x in range(9) %}x{% endfor %}"],
            "description contains template syntax",
        ),
        "jinja in slug": ([*OK, "--slug", "{{ 7 * 7 }}"], "contains template syntax"),
        "300 characters": (["new", "n" * 300, "--team", "demo"], "project_name is 300 characters long"),
        "line break": (["new", "two\nlines", "--team", "demo"], "project_name contains a control character"),
        "slug with slash": ([*OK, "--slug", "a/b"], "project_slug 'a/b' is not"),
        "slug escaping": ([*OK, "--slug", "../x"], "project_slug '../x' is not"),
        "explicit bad slug": ([*OK, "--slug", "Credit Risk"], "is not a valid slug"),
        "menu answer": ([*OK, "--risk-tier", "extreme"], "risk_tier 'extreme' is not"),
        "old python": ([*OK, "--python", "3.10"], "python_version '3.10' is not one"),
        "output dir is a file": ([*OK, "-o", str(a_file)], "is a file"),
        "missing stack outputs": (
            [*OK, "--stack-outputs", str(tmp_path / "none.json")],
            "--stack-outputs",
        ),
        "hook refusal": ([*OK, "--owner", "x"], "owner_email 'x' is not an email"),
    }


CASES = [
    "jinja in name",
    "jinja in description",
    "jinja in slug",
    "300 characters",
    "line break",
    "slug with slash",
    "slug escaping",
    "explicit bad slug",
    "menu answer",
    "old python",
    "output dir is a file",
    "missing stack outputs",
    "hook refusal",
]


@pytest.mark.parametrize("case", CASES)
def test_refused_answer_is_one_line_with_a_fix_and_leaves_nothing(cli, tmp_path, case):
    args, message = bad_cases(tmp_path)[case]
    out = tmp_path / "out" / "nested"
    if "-o" not in args:
        args = [*args, "-o", str(out)]
    result = cli(*args, *COMMON, "--data-dir", str(tmp_path / "home"), timeout=120)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "fix:" in result.stderr and "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "out").exists()  # not even the --output-dir it would have made
    assert not (tmp_path / "home").exists()
