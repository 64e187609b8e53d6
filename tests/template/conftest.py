"""Baking the real template with the real cookiecutter, shared across the template tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.model_card import write_words

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "project-template"
VENV_BIN = Path(sys.executable).parent

# At least 8 combinations: every CI provider, both flavours and tasks, GPU and labeling on and off.
MATRIX = {
    "default": {},
    "gitlab-regression": {"ci_provider": "gitlab", "task": "regression", "risk_tier": "high"},
    "both-labeling": {"ci_provider": "both", "labeling": "yes", "risk_tier": "medium"},
    "torch-gpu": {"model_flavour": "pytorch", "gpu_training": "yes"},
    "torch-regression-gitlab": {"model_flavour": "pytorch", "task": "regression", "ci_provider": "gitlab"},
    "torch-gpu-labeling-both": {
        "model_flavour": "pytorch",
        "gpu_training": "yes",
        "labeling": "yes",
        "ci_provider": "both",
    },
    "regression-labeling": {"task": "regression", "labeling": "yes", "python_version": "3.12"},
    "torch-gpu-regression-labeling": {
        "model_flavour": "pytorch",
        "gpu_training": "yes",
        "task": "regression",
        "labeling": "yes",
        "ci_provider": "github",
    },
}


def bake(output_dir: Path, **answers: str) -> Path:
    """``cookiecutter --no-input`` as a data scientist runs it (the Python API, same code path)."""
    from cookiecutter.main import cookiecutter

    answers.setdefault("project_name", f"Test {answers.get('task', 'classification')} model")
    project = Path(
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir), extra_context=answers)
    )
    write_words(project)  # the card's own words, as its data scientist writes them before the first push
    return project


def project_env(**extra: str) -> dict[str, str]:
    """What the platform's CI runner gives `make`: the Shipyard venv first on PATH, no inherited endpoints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPYARD_", "MLFLOW_", "GRAFANA_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}", MLFLOW_DISABLE_TELEMETRY="true"
    )
    env.update(extra)
    return env


def git_init(path: Path) -> None:
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "Start from the template"],
    ):
        subprocess.run(
            ["git", "-c", "user.name=Data Scientist", "-c", "user.email=ds@example.com", *args],
            cwd=path,
            check=True,
            capture_output=True,
        )


def hosted_ci_job(cli, project: Path, mlflow_url: str, tier: str) -> tuple[str, list[str]]:
    """A baked project as a hosted CI job sees it: provisioned on ``mlflow_url`` (team demo), committed,
    and its CI run on main started the way the workflow's first step does (`shipyard ci start`).
    Returns the CI run's id and the `ci start` arguments (a restarted job passes them again)."""
    from shipyard.platform.endpoints import Endpoints
    from shipyard.projects import provision_project
    from shipyard.spec import load_spec

    slug = project.name
    endpoints = Endpoints(platform="local", mlflow=mlflow_url)
    provision_project(load_spec(REPO / "platform.yaml"), endpoints, None, slug, "demo", tier)
    git_init(project)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True)
    args = ["--project", slug, "--commit", head.stdout.strip(), "--branch", "main", "--provider", "github"]
    started = cli("ci", "start", *args, env={"MLFLOW_TRACKING_URI": mlflow_url})
    assert started.returncode == 0, started.stderr
    return started.stdout.strip().splitlines()[-1], args


def make(path: Path, *targets: str, env: dict[str, str] | None = None, timeout: float = 900):
    return subprocess.run(
        ["make", "--no-print-directory", *targets],
        cwd=path,
        env=env or project_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def baked_matrix(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("template-matrix")
    return {name: bake(root / name, **answers) for name, answers in MATRIX.items()}
