"""A submission that would train the same model again: its data, parameters and code equal those of a
version already registered (e.g. a template update that touches nothing the model is made from).
The registry records it as such (``submit.unchanged``, naming that version) and registers nothing.

The fingerprint is what the platform can vouch for: the run's DVC data hash, its logged parameters,
the code the model is made from at the commit, read from the platform's own git remote (the tree of
``src/`` and the blobs of ``dvc.yaml`` and ``schema.yaml``), and the candidate's metrics on the
held-out data the platform scored: a model that scores otherwise is another model, whatever the rest
says. Without that remote (a hosted CI run) the commit itself stands for the code, so nothing of
another commit is ever taken as equal.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

CODE_PATHS = ("src", "dvc.yaml", "schema.yaml")
FINGERPRINT = "fingerprint"  # the detail of submit.registered / submit.unchanged events


def _object_id(repo: Path, commit: str, path: str) -> str:
    proc = subprocess.run(["git", "--git-dir", str(repo), "rev-parse", f"{commit}:{path}"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    return proc.stdout.strip() if proc.returncode == 0 else ""


def fingerprint(data_hash: str, params: dict[str, str], commit: str, repo: Path | None,
                scored: dict[str, float] | None = None) -> str:  # fmt: skip
    """One sha256 of data hash, parameters, code and scores (see the module's docstring)."""
    code = {p: _object_id(repo, commit, p) for p in CODE_PATHS} if repo is not None else {"commit": commit}
    payload = {"data": data_hash, "params": dict(sorted(params.items())), "code": code,
               "scored": dict(sorted((scored or {}).items()))}  # fmt: skip
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def registered_with(events, print_: str) -> str | None:
    """The version of the registered events (newest first) with fingerprint ``print_``, if any."""
    for event in reversed(events):
        if (event.details or {}).get(FINGERPRINT) == print_:
            return str(event.version)
    return None
