"""A tiny git project with its own Makefile for exercising the embedded CI runner.

Its ``ci`` target prints ``==> STEP`` before each step like the real template, checks that the
runner injected the platform's environment, and logs a training run to MLflow through
``MLFLOW_TRACKING_URI`` pointing back at the CI run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

TRAIN = (
    "import mlflow, os; mlflow.set_experiment(os.environ['PROJECT']); "
    "r = mlflow.start_run(tags={'shipyard.run_kind': 'train', "
    "'shipyard.ci.run_id': os.environ['SHIPYARD_CI_RUN_ID']}); "
    "mlflow.log_metric('accuracy', 0.91); mlflow.end_run(); print('train run', r.info.run_id)"
)


def makefile(project: str, fail_in: str | None = None, sleep: int = 0) -> str:
    steps = ["lint", "test", "train"]
    lines = [
        f"PROJECT := {project}",
        "export PROJECT",
        ".PHONY: ci " + " ".join(steps),
        "ci: " + " ".join(steps),
    ]
    lines += ["lint:", '\t@echo "==> lint"']
    if sleep:  # silent, so a dead runner's closed pipe cannot end it: recovery must stop it
        lines.append(f"\t@sleep {sleep}")
    # the runner's Python has the tools (found, not imported: importing them is ~3 s of CPU per run, and
    # the template's own CI, run on this runner by the journey, imports them for real)
    lines.append(
        "\t@python -c 'import importlib.util as u; "
        'assert all(u.find_spec(m) for m in ("mlflow", "dvc", "sklearn")); print("tools ok")\''
    )
    lines += [
        "test:",
        '\t@echo "==> test"',
        '\t@echo "env: tracking=$$MLFLOW_TRACKING_URI run=$$SHIPYARD_CI_RUN_ID '
        "provider=$$SHIPYARD_CI_PROVIDER instance=$$SHIPYARD_INSTANCE_TYPE "
        'dvc=$$SHIPYARD_DVC_REMOTE pythonpath=$$PYTHONPATH"',
        '\t@test -n "$$MLFLOW_TRACKING_URI" && test -n "$$SHIPYARD_CI_RUN_ID" && command -v shipyard',
    ]
    if fail_in == "test":
        lines.append('\t@echo "a test failed"; exit 3')
    lines += ["train:", '\t@echo "==> train"', f'\t@python -c "{TRAIN}"']
    return "\n".join(lines) + "\n"


def git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=CI Test", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout + proc.stderr


def new_project(path: Path, project: str, remote: str) -> Path:
    path.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=path)
    git("remote", "add", "shipyard", remote, cwd=path)
    return path


def commit_and_push(path: Path, content: str, message: str) -> tuple[str, str]:
    """Write the Makefile, commit, push; return (commit sha, push output)."""
    (path / "Makefile").write_text(content)
    git("add", "Makefile", cwd=path)
    git("commit", "-q", "-m", message, cwd=path)
    sha = git("rev-parse", "HEAD", cwd=path).strip()
    return sha, git("push", "shipyard", "main", cwd=path)
