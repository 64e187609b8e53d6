"""The ``post-receive`` hook of an embedded bare repo: queue one CI run per pushed branch head.

Git runs ``python -m shipyard.ci.hook --data-dir D --project P`` with ``old new ref`` lines on stdin.
The MLflow run is created here (status ``queued``) when MLflow answers; else the runner creates it.
A push never fails because of the platform: the commit is in the repo and the run is queued.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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
    """Create the MLflow CI run (status queued) over MLflow's REST API: importing MLflow would make
    every push wait seconds. The tags are the ones ``records.start_ci_run`` sets."""
    try:
        import requests

        from shipyard import tags

        state = json.loads((data_dir / "state.json").read_text())
        api = f"{state['endpoints']['mlflow']}/api/2.0/mlflow"
        auth = _runner_auth(data_dir)
        exp = requests.get(
            f"{api}/experiments/get-by-name", params={"experiment_name": project}, timeout=5, auth=auth
        )
        exp.raise_for_status()
        experiment = exp.json()["experiment"]
        exp_tags = {t["key"]: t["value"] for t in experiment.get("tags", [])}
        run_tags = {
            tags.RUN_KIND: tags.RUN_KIND_CI,
            tags.PROJECT: project,
            tags.TEAM: exp_tags.get(tags.TEAM, ""),
            tags.CI_COMMIT: commit,
            tags.CI_BRANCH: branch,
            tags.CI_PROVIDER: "shipyard",
            tags.CI_STATUS: "queued",
            tags.CI_STEPS: "",
            tags.GIT_COMMIT: commit,
        }
        body = {
            "experiment_id": experiment["experiment_id"],
            "run_name": f"ci-{commit[:8]}",
            "start_time": int(time.time() * 1000),
            "tags": [{"key": k, "value": v} for k, v in run_tags.items()],
        }
        run = requests.post(f"{api}/runs/create", json=body, timeout=5, auth=auth)
        run.raise_for_status()
        return run.json()["run"]["info"]["run_id"]
    except Exception as exc:  # the push must succeed even when the platform is down
        print(f"shipyard: MLflow not reachable ({type(exc).__name__}); the runner records the run later")
        return None


def _runner_auth(data_dir: Path) -> tuple[str, str] | None:
    """The CI runner's account (its password file in the data dir): it records CI runs."""
    from shipyard.identity import RUNNER
    from shipyard.identity.secrets import password

    pw = password(data_dir, RUNNER)
    return (RUNNER, pw) if pw else None


if __name__ == "__main__":
    sys.exit(main())
