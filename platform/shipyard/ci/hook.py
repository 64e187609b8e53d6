"""The hooks of an embedded bare repo: queue one CI run per pushed branch head.

Git runs ``python -m shipyard.ci.hook --data-dir D --project P --repo R`` with ``old new ref`` lines
on stdin. As ``pre-receive`` (``--check``) it refuses the push when the CI queue cannot be written,
so no commit lands without its run. As ``post-receive`` it first writes the queue entry (durably),
then creates the MLflow run (status ``queued``) when MLflow answers, then hands the entry to the
runner; when MLflow is down the runner creates the run later. A run is never recorded without a job.
A pushed head whose commit message says ``[skip ci]`` or ``[ci skip]`` (as on GitHub and GitLab) queues
nothing: the push says so.
The record layer talks REST: importing MLflow would make every push wait seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from shipyard.ci.pusher import signed_in_pusher
from shipyard.ci.queue import CiQueue

ZERO = "0" * 40
SKIP_CI = re.compile(r"\[(skip ci|ci skip)\]", re.IGNORECASE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipyard-post-receive")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--check", action="store_true", help="pre-receive: refuse if CI cannot queue")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    ci_dir = data_dir / "ci"
    try:
        queue = CiQueue(ci_dir)
        if args.check:
            sys.stdin.read()  # git writes the refs to every hook
            queue.probe_writable()
            return 0
    except OSError as exc:
        print(f"shipyard: push refused: the CI queue in {ci_dir} cannot be written ({exc.strerror or exc})")
        print(f"shipyard: fix: make {ci_dir} writable (or free disk space), then push again")
        return 1
    rc = 0
    pusher = signed_in_pusher(data_dir)  # before _queued_run puts the runner's account in the environment
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 3:
            continue
        _old, new, ref = parts
        if new == ZERO or not ref.startswith("refs/heads/"):
            continue  # a deleted branch or a tag: nothing to build
        branch = ref.removeprefix("refs/heads/")
        if _skips_ci(new):
            print(f"shipyard: [skip ci] in its message: no CI run for {args.project} {branch}@{new[:8]}")
            continue
        try:
            job = queue.stage(args.project, args.repo, new, branch)  # durable first, then recorded
            job.pushed_by = pusher
        except OSError as exc:
            print(f"shipyard: CI run NOT queued for {branch}@{new[:8]}: {exc.strerror or exc}")
            print(f"shipyard: fix: make {ci_dir} writable, then push again (git push -f or a new commit)")
            rc = 1
            continue
        job.run_id = _queued_run(data_dir, args.project, new, branch)
        try:
            queue.publish(job)
        except OSError as exc:  # the staged entry stays: the runner queues it on its next start
            print(
                f"shipyard: CI run staged, not yet queued ({exc.strerror or exc}); the runner takes it later"
            )
        shown = job.run_id or "(id assigned when the runner starts it)"
        print(f"shipyard: CI run {shown} queued for {args.project} {branch}@{new[:8]}")
        print(f"shipyard: follow it with `shipyard ci list --project {args.project}`")
    return rc


def _skips_ci(commit: str) -> bool:
    """The head's message asks for no CI run. Git runs hooks in the bare repo with $GIT_DIR set."""
    try:
        message = subprocess.run(
            ["git", "log", "-1", "--format=%B", commit], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False  # unreadable: build it (a run too many is better than a push left untested)
    return bool(SKIP_CI.search(message))


def _queued_run(data_dir: Path, project: str, commit: str, branch: str) -> str | None:
    """Create the MLflow CI run (status queued), with a short timeout: a push must not wait."""
    from shipyard.ci.runs import start_ci_run
    from shipyard.platform.resolver import platform_from_data_dir
    from shipyard.records import MlflowApi

    try:
        os.environ.update(_runner_auth(data_dir))  # the runner's account records CI runs
        api = MlflowApi.of(platform_from_data_dir(data_dir).endpoints, 5)
        return start_ci_run(api, project, commit, branch, "shipyard", status="queued")
    except Exception as exc:  # the push must succeed even when the platform is down (job is staged)
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
