"""The ``post-receive`` hook of an embedded bare repo: queue one CI run per pushed branch head.

Git runs ``python -m shipyard.ci.hook --data-dir D --project P`` with ``old new ref`` lines on stdin.
The MLflow run is created here (status ``queued``) when MLflow answers; else the runner creates it.
Importing MLflow would make every push wait seconds: the record layer talks REST.
A push never fails because of the platform: the commit is in the repo and the run is queued.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from shipyard.ci.queue import CiQueue

ZERO = "0" * 40


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipyard-post-receive")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--repo", required=True)
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    queue = CiQueue(data_dir / "ci")
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 3:
            continue
        _old, new, ref = parts
        if new == ZERO or not ref.startswith("refs/heads/"):
            continue  # a deleted branch or a tag: nothing to build
        branch = ref.removeprefix("refs/heads/")
        run_id = _queued_run(data_dir, args.project, new, branch)
        queue.put(args.project, args.repo, new, branch, run_id)
        shown = run_id or "(id assigned when the runner starts it)"
        print(f"shipyard: CI run {shown} queued for {args.project} {branch}@{new[:8]}")
        print(f"shipyard: follow it with `shipyard ci list --project {args.project}`")
    return 0


def _queued_run(data_dir: Path, project: str, commit: str, branch: str) -> str | None:
    """Create the MLflow CI run (status queued), with a short timeout: a push must not wait."""
    from shipyard.ci.runs import start_ci_run
    from shipyard.errors import UserError
    from shipyard.resolver import platform_from_data_dir

    try:
        os.environ.update(_runner_auth(data_dir))  # the runner's account records CI runs
        api = platform_from_data_dir(data_dir).mlflow(timeout=5)
        return start_ci_run(api, project, commit, branch, "shipyard", status="queued")
    except UserError as exc:  # the push must succeed even when the platform is down
        print(f"shipyard: MLflow not reachable ({type(exc).__name__}); the runner records the run later")
        return None


def _runner_auth(data_dir: Path) -> dict[str, str]:
    """The CI runner's account (its password file in the data dir): it records CI runs."""
    from shipyard.identity import RUNNER
    from shipyard.identity.mlflow_users import credentials

    creds = credentials(data_dir, RUNNER)
    return creds.env() if creds else {}


if __name__ == "__main__":
    sys.exit(main())
