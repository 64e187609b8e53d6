"""The job of a reproduction: a clean checkout of the version's commit, exactly its recorded data, the
project's locks checked against the environment, and the training stages run again.

It runs where and as whom a CI job runs (:mod:`shipyard.ci.sandbox`): the job user, its own folder
outside the data dir, the platform's Python first on PATH (the environment CI jobs get, checked here
against the commit's ``requirements.lock``). It holds no platform password: MLflow is a SQLite file in
the job's folder, so the training it runs again records nothing on the platform. Every failure raises
:class:`NotReproduced` naming its cause.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from shipyard.ci import sandbox
from shipyard.errors import NotReproduced
from shipyard.platform import env as contract
from shipyard.platform.env import ENV_REPRODUCE_TIMEOUT as TIMEOUT_ENV
from shipyard.records.artifact_files import md5_of

LOCKS = ("requirements.lock", "platform.lock")  # the project's own locks, at its commit
TORCH_CPU_LOCK = "requirements-torch-cpu.lock"  # the PyTorch flavour's CPU build (what this runner has)
# inherited variables the job must not see (as for a CI job: local/runner.py)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


@dataclass
class JobResult:
    metrics: dict[str, float]
    locks: dict[str, str]  # lock file -> sha256 of its bytes at the commit
    stages: list[str]  # the stages run again, in order
    model_files: dict[str, str]  # file under the training stage's outputs -> md5 (DVC's hash)
    runner: str  # who ran it: the job user and the Python
    seconds: float
    notes: list[str] = field(default_factory=list)


def job_dir(data_dir: Path, model: str, version: str) -> Path:
    return sandbox.job_dir(data_dir, f"reproduce-{model}-v{version}-{secrets.token_hex(3)}")


def checkout(repo: Path, commit: str, dest: Path, log) -> None:
    for cmd in (
        ["git", "clone", "--quiet", "--no-checkout", str(repo), str(dest)],
        ["git", "-C", str(dest), "-c", "advice.detachedHead=false", "checkout", "--quiet", commit],
    ):
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=sandbox.clean_env(), timeout=300)
        if proc.returncode != 0:
            raise NotReproduced(
                "commit",
                f"commit {commit[:12]} cannot be checked out from the platform's git remote ({repo})",
                "the commit was removed from the remote (force-push, gc): the version cannot be rebuilt",
            )


def check_locks(src: Path, flavour_torch: bool) -> tuple[dict[str, str], list[str]]:
    """sha256 of each lock file; the pins of ``requirements.lock`` (and the CPU torch lock) that the
    runner's environment does not have at exactly that version raise ``lock``. Returns the hashes and
    notes (``platform.lock`` naming another shipyard than the runner's: the platform moved on)."""
    hashes, notes = {}, []
    files = [*LOCKS, *([TORCH_CPU_LOCK] if flavour_torch else [])]
    for name in files:
        path = src / name
        if not path.is_file():
            raise NotReproduced(
                "lock",
                f"{name} is missing at this commit: the environment cannot be rebuilt",
                "commit the project's locks (make lock); a version without them cannot be reproduced",
            )
        hashes[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    wrong = []
    for name in [n for n in files if n != "platform.lock"]:
        for pkg, want in _pins(src / name):
            have = _installed(pkg)
            if have is None or have.split("+")[0] != want.split("+")[0]:
                wrong.append(f"{pkg}=={want} ({'not installed' if have is None else f'runner has {have}'})")
    if wrong:
        raise NotReproduced(
            "lock",
            f"the lock is no longer installable on this runner: {len(wrong)} pin(s) differ: "
            + ", ".join(wrong[:5]),
            "rebuild the runner's environment from the lock, or re-lock the project and register again",
        )
    for pkg, want in _pins(src / "platform.lock"):
        have = _installed(pkg)
        if have != want:
            notes.append(f"platform.lock pins {pkg}=={want}; the runner has {have or 'none'}")
    return hashes, notes


def _pins(path: Path) -> list[tuple[str, str]]:
    found = []
    for line in path.read_text(errors="replace").splitlines():
        m = _PIN.match(line.strip())
        if m:
            found.append((m.group(1), m.group(2)))
    return found


def _installed(pkg: str) -> str | None:
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return None


def stages_after(src: Path, data_path: str) -> tuple[list[str], dict]:
    """The stages of ``dvc.yaml`` after the one that writes ``data_path`` (all when none writes it)."""
    try:
        stages = (yaml.safe_load((src / "dvc.yaml").read_text()) or {}).get("stages") or {}
    except (OSError, yaml.YAMLError) as exc:
        raise NotReproduced("stage", f"dvc.yaml cannot be read at this commit: {exc}") from None
    names = list(stages)
    producer = next((n for n in names if data_path in _outs(stages[n])), None)
    return (names[names.index(producer) + 1 :] if producer else names), stages


def _outs(stage: dict) -> list[str]:
    found = []
    for out in (stage.get("outs") or []) + (stage.get("metrics") or []):
        found.append(next(iter(out)) if isinstance(out, dict) else str(out))
    return found


def run_stages(work: Path, src: Path, stages: list[str], instance_type: str, log) -> str:
    """``dvc repro --force --single-item`` of each stage in turn, as the CI job user; returns who ran it."""
    user = sandbox.job_user()
    sandbox.hand_over(work, user)
    env = sandbox.clean_env()
    venv_bin = Path(sys.executable).parent
    env.update(sandbox.env(work))
    env.update(
        {
            contract.ENV_MLFLOW: f"sqlite:///{work / 'mlflow.db'}",  # nothing reaches the platform's MLflow
            contract.ENV_MLFLOW_TELEMETRY_OFF: "true",
            "DVC_NO_ANALYTICS": "true",
            contract.ENV_INSTANCE_TYPE: instance_type,
            contract.ENV_GPU_COUNT: "0",
            "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
            "VIRTUAL_ENV": str(venv_bin.parent),
            "PYTHONPATH": "src",
            "PYTHONUNBUFFERED": "1",
            "CUBLAS_WORKSPACE_CONFIG": ":4096:8",  # deterministic cuBLAS, should a GPU be there
        }
    )
    tools = [Path(sys.executable).resolve(), Path(sys.prefix), Path(sys.base_prefix)]
    deadline = time.monotonic() + float(os.environ.get(TIMEOUT_ENV, "1800"))
    for stage in stages:
        cmd = [sys.executable, "-m", "dvc", "repro", "--force", "--single-item", stage]
        argv, as_user = sandbox.command(user, cmd, tools)
        log.write(f"==> {stage}\n$ {' '.join(cmd[1:])}\n")
        log.flush()
        try:
            proc = subprocess.run(
                argv,
                cwd=src,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=max(1.0, deadline - time.monotonic()),
                **as_user,
            )
        except subprocess.TimeoutExpired:
            raise NotReproduced(
                "stage", f"stage {stage!r} did not finish within ${TIMEOUT_ENV} seconds"
            ) from None
        if proc.returncode != 0:
            raise NotReproduced(
                "stage",
                f"stage {stage!r} failed (exit {proc.returncode}) when run again",
                "see the reproduction's log: the stage's own error is there",
                stage=stage,
            )
    how = "isolated CI job user" if user.isolated else "the platform's own user"
    return f"{user.name} ({how}), Python {sys.version.split()[0]}"


def read_metrics(src: Path, stages: dict) -> dict[str, float]:
    found: dict[str, float] = {}
    for stage in stages.values():
        for out in stage.get("metrics") or []:
            path = src / (next(iter(out)) if isinstance(out, dict) else str(out))
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            found.update({k: float(v) for k, v in data.items() if isinstance(v, int | float)})
    return found


METADATA_SUFFIXES = (".json", ".yaml", ".yml", ".txt", ".md", ".log")  # the run's record, not the model


def model_files(src: Path, stages: dict) -> dict[str, str]:
    """md5 of every model file the ``train`` stage (else the last stage with outputs) writes; records
    of the run beside it (``models/run.json``: its MLflow run id) differ on every run and are left out."""
    stage = stages.get("train") or next((s for s in reversed(stages.values()) if s.get("outs")), {})
    found = {}
    for out in _outs(stage):
        root = src / out
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        files = [p for p in files if not p.name.endswith(METADATA_SUFFIXES)]
        for path in files:
            found[str(path.relative_to(src))] = md5_of(path)
    return found


def place_data(obj: Path, src: Path, data_path: str) -> None:
    """The data object where the pipeline's data stage writes it. ``data_path`` is the training run's
    tag (a claim) and the checkout is the project's: it must stay inside the checkout, links resolved."""
    dest = src / data_path
    root = src.resolve()
    if Path(data_path).is_absolute() or not dest.parent.resolve().is_relative_to(root) or dest.is_symlink():
        raise NotReproduced("data", f"the run's data path {data_path!r} is not a file inside the checkout")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.parent.resolve().is_relative_to(root):
        raise NotReproduced("data", f"the run's data path {data_path!r} leads outside the checkout")
    shutil.copyfile(obj, dest)
