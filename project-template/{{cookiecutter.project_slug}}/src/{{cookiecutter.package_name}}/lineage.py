"""Lineage and cost facts a training run records: code commit, DVC data hash, where it ran."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from . import config


def git_commit(root: Path | None = None) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root or config.ROOT, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# What the pipeline itself writes while it runs: not a change to the code or data that was committed.
PIPELINE_OUTPUTS = ("dvc.lock", "metrics/")


def git_dirty(root: Path | None = None) -> bool | None:
    """Whether the working tree differs from HEAD (tracked changes or new files not ignored);
    None when it is not a git checkout. The run's commit alone would claim code it did not run."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=root or config.ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    changed = [line[3:].strip('"') for line in out.stdout.splitlines()]
    return any(not path.startswith(PIPELINE_OUTPUTS) for path in changed)


def dvc_md5(path: Path) -> str:
    """The md5 DVC 3 records for a file output (in dvc.lock): the md5 of its bytes."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def label_export() -> str | None:
    """The Label Studio export the labels came from (data/labels/export.json), if the project labels."""
    path = config.LABELS / "export.json"
    if not path.exists():
        return None
    return str(json.loads(path.read_text()).get("export") or "none")


def compute(device: dict[str, str] | None = None) -> dict[str, str]:
    """What this job runs on: SHIPYARD_INSTANCE_TYPE / SHIPYARD_GPU_COUNT from the platform, else local."""
    device = device or {}
    instance = (
        os.environ.get("SHIPYARD_INSTANCE_TYPE")
        or config.project()["platform"].get("instance_type")
        or "local"
    )
    return {
        "instance_type": instance,
        "gpu_count": os.environ.get("SHIPYARD_GPU_COUNT") or device.get("gpu_count") or "0",
        "gpu_type": device.get("gpu_type") or "",
    }
