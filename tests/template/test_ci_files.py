"""The generated CI files hold no step that cannot run: where no runner can run them here (GitHub
Actions needs a container engine), every command a step names must resolve: each `make` target exists in
the project's Makefile (`make -n`), each `shipyard` subcommand exists in the CLI (`--help`), every other
command is a shell builtin or installed. Schemas are checked in test_matrix; GitLab also runs for real in
test_gitlab_pipeline. Plus the branch rules: only the default branch publishes."""

from __future__ import annotations

import functools
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import VENV_BIN, project_env

SHELL_WORDS = {"if", "then", "else", "elif", "fi", "!", "{", "}"}
BUILTINS = {"[", "test", "export", "echo", "cd", "exit", "set", "true", "false", "cat"}
PUBLISH = ["make push-data", "make gate", "make register", "make monitor"]


def simple_commands(script: str) -> list[list[str]]:
    """Every simple command of a shell script: ``$(...)`` substitutions, pipelines and lists split."""
    script = re.sub(r"\$\{\{.*?\}\}", "X", script)  # GitHub expressions are values, not commands
    found: list[list[str]] = []
    pending = [script]
    while pending:
        text = pending.pop()
        for inner in re.findall(r"\$\(([^()]*)\)", text):
            pending.append(inner)
        text = re.sub(r"\$\(([^()]*)\)", "X", text)
        for line in text.splitlines():
            line = line.split(" #", 1)[0]
            for part in re.split(r"&&|\|\||;|\|", line):
                words = shlex.split(part)
                while words and (words[0] in SHELL_WORDS or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0])):
                    words = words[1:]
                words = [w for w in words if not re.match(r"^\d*[<>]", w)]
                if words:
                    found.append(words)
    return found


def ci_scripts(project: Path) -> dict[str, str]:
    """Each step's script, named by file and step."""
    scripts: dict[str, str] = {}
    workflow = project / ".github" / "workflows" / "ci.yml"
    if workflow.exists():
        for job_name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            for i, step in enumerate(job["steps"]):
                if "run" in step:
                    scripts[f"ci.yml {job_name} step {i} ({step.get('name', step['run'][:30])})"] = step[
                        "run"
                    ]
    gitlab = project / ".gitlab-ci.yml"
    if gitlab.exists():
        for job_name, job in yaml.safe_load(gitlab.read_text()).items():
            if not isinstance(job, dict) or job_name in ("variables", "default", "workflow"):
                continue
            for key in ("before_script", "script", "after_script"):
                for i, line in enumerate(job.get(key, [])):
                    scripts[f".gitlab-ci.yml {job_name} {key}[{i}]"] = line
    return scripts


@functools.cache
def shipyard_help(path: tuple[str, ...]) -> str | None:
    helped = subprocess.run(
        [str(VENV_BIN / "shipyard"), *path, "--help"], capture_output=True, text=True, timeout=60
    )
    return None if helped.returncode == 0 else f"shipyard {' '.join(path)}: {helped.stderr[-300:]}"


def unresolved(project: Path, words: list[str]) -> str | None:
    """Why the command cannot run on a runner after `make install`, or None when it resolves."""
    command = words[0]
    if command == "make":
        targets = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        for target in targets:
            dry = subprocess.run(
                ["make", "-n", "--no-print-directory", target],
                cwd=project, env=project_env(SHIPYARD_INDEX_URL="http://index.invalid/simple/"),
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            if dry.returncode != 0:
                return f"make target {target!r}: {dry.stderr.strip()[-300:]}"
        return None
    if command == "shipyard":  # installed by `make install` from the platform's index: the same CLI
        return shipyard_help(tuple(w for w in words[1:] if not w.startswith("-") and w != "X")[:2])
    if command in BUILTINS or shutil.which(command):
        return None
    return f"{command!r} is neither a shell builtin nor installed"


def test_command_parser_finds_substitutions_and_lists():
    found = simple_commands('if [ -s x ]; then\n  A=1 make a b && echo "$(shipyard ci start --p X)" > f\nfi')
    assert ["make", "a", "b"] in found and ["shipyard", "ci", "start", "--p", "X"] in found
    assert ["[", "-s", "x", "]"] in found and all(w[0] not in SHELL_WORDS for w in found)


def test_the_resolution_check_really_rejects(baked_matrix):
    project = baked_matrix["default"]
    assert unresolved(project, ["make", "no-such-target"]) is not None
    assert unresolved(project, ["shipyard", "ci", "no-such-command"]) is not None
    assert unresolved(project, ["definitely-not-installed-tool"]) is not None


@pytest.mark.parametrize(
    "combo", ["default", "gitlab-regression", "both-labeling", "torch-gpu-labeling-both"]
)
def test_every_command_in_the_ci_files_resolves(baked_matrix, combo):
    project = baked_matrix[combo]
    scripts = ci_scripts(project)
    assert scripts
    problems = [
        f"{where}: {why}"
        for where, script in scripts.items()
        for words in simple_commands(script)
        if (why := unresolved(project, words))
    ]
    assert not problems, "\n".join(problems)
    makes = {
        w for script in scripts.values() for c in simple_commands(script) if c[0] == "make" for w in c[1:]
    }
    assert {"install", "lint", "test", "repro", "gate", "gate-dry-run", "register"} <= makes


def test_github_only_the_default_branch_publishes(baked_matrix):
    workflow = yaml.safe_load((baked_matrix["default"] / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"]["ci"]
    steps = {s["run"]: s for s in job["steps"] if "run" in s}
    on_default = "env.SHIPYARD_BRANCH != '' && env.SHIPYARD_BRANCH == env.SHIPYARD_DEFAULT_BRANCH"
    for run in PUBLISH:
        assert steps[run]["if"] == f"${{{{ {on_default} }}}}", run
    assert "!=" in steps["make gate-dry-run"]["if"] and "== ''" in steps["make gate-dry-run"]["if"]
    for run in ("make install", "make lint", "make test", "make data-check", "make repro"):
        assert "if" not in steps[run]
    # pull requests are never the default branch; the index only from a CI variable
    assert "github.event_name == 'push'" in job["env"]["SHIPYARD_BRANCH"]
    assert job["env"]["SHIPYARD_INDEX_URL"] == "${{ vars.SHIPYARD_INDEX_URL }}"
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip" and "requirements.lock" in setup["with"]["cache-dependency-path"]
    assert any(s.get("uses", "").startswith("actions/cache") for s in job["steps"])


def test_gitlab_only_the_default_branch_publishes(baked_matrix):
    gitlab = yaml.safe_load((baked_matrix["gitlab-regression"] / ".gitlab-ci.yml").read_text())
    job = gitlab[".ci"]
    assert job["script"][:5] == ["make pull-raw", "make lint", "make test", "make data-check", "make repro"]
    branch = job["script"][5]
    assert 'if [ -n "$SHIPYARD_BRANCH" ] && [ "$SHIPYARD_BRANCH" = "$SHIPYARD_DEFAULT_BRANCH" ]' in branch
    publish, dry = branch.split("else")
    assert "make push-data gate register monitor" in publish and "make gate-dry-run" in dry
    assert gitlab["variables"]["SHIPYARD_BRANCH"] == "$CI_COMMIT_BRANCH"
    assert gitlab["variables"]["SHIPYARD_DEFAULT_BRANCH"] == "$CI_DEFAULT_BRANCH"
    assert set(job["cache"]["paths"]) == {".cache/pip", ".cache/uv"}
    assert job["cache"]["key"]["files"] == ["requirements.lock", "platform.lock"]
    assert gitlab["ci"]["extends"] == gitlab["ci-shell"]["extends"] == ".ci"
    assert gitlab["ci"]["image"].startswith("python:") and "image" not in gitlab["ci-shell"]


def test_make_ci_publishes_only_on_the_default_branch(baked_matrix):
    project = baked_matrix["default"]

    def steps(**env: str) -> list[str]:
        dry = subprocess.run(
            ["make", "-n", "--no-print-directory", "ci"], cwd=project, env=project_env(**env),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert dry.returncode == 0, dry.stderr
        return re.findall(r'echo "==> ([a-z-]+)"', dry.stdout)

    common = ["lint", "test", "data-check", "repro"]
    assert steps(SHIPYARD_BRANCH="main") == [*common, "push-data", "gate", "register", "monitor"]
    assert steps(SHIPYARD_BRANCH="feature/x") == [*common, "gate-dry-run"]
    assert steps(SHIPYARD_BRANCH="trunk", SHIPYARD_DEFAULT_BRANCH="trunk")[-1] == "monitor"
