"""CI throughput: 20 pushes across 5 projects on the embedded platform, time to drain the queue, with
1 runner worker (the runner before issue 35) and with N (``local.ci_workers``, default from the cores).

Starts an embedded platform in a temp dir (MLflow, the git remotes, the CI runner; Label Studio,
Prometheus and the portal stay off), provisions 5 projects, and for each worker count: stops the
runner, pushes 4 commits to each project (20 runs queued, interleaved p0 p1 ... p4 p0 ...), starts the
runner with that many workers (`shipyard up` after changing the spec), and measures from the runner
being ready until all 20 runs are finished in MLflow. Each run is the tests' small CI project (lint,
test, a training run logged to MLflow: tests/local/ci_project.py). Goal (issue 35): the N-worker
drain <= 0.6x the 1-worker drain. Each phase stops after PHASE_TIMEOUT_S whatever happens.

    python benchmarks/ci_throughput.py [--workers N] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO))
from _report import Figure, goal_le, write  # noqa: E402

PROJECTS = 5
PUSHES_PER_PROJECT = 4
GOAL_RATIO = 0.6
PHASE_TIMEOUT_S = 900.0


def main() -> int:
    from shipyard.local.runner_pool import default_workers

    from tests.fixtures.embedded_platform import start_platform

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=default_workers(), help="N (default: from the cores)")
    parser.add_argument("--keep", action="store_true", help="leave the platform running")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="shipyard-ci-throughput-"))
    platform = start_platform(root, label_studio=False, prometheus=False, portal=False, ci_workers=1)
    try:
        repos = _projects(platform, root)
        drains = {}
        for workers in (1, args.workers):
            drains[workers] = _phase(platform, repos, workers)
            print(f"{workers} worker(s): drained {len(repos) * PUSHES_PER_PROJECT} runs in {drains[workers]}")
    finally:
        if not args.keep:
            platform.down()
    one, many = drains[1]["drain_s"], drains[args.workers]["drain_s"]
    ratio = many / one if one and many else None
    report = {"workers": args.workers, "cpus": os.cpu_count(), "load": os.getloadavg(), "phases": drains}
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "ci_throughput.json").write_text(json.dumps(report, indent=2))
    n = len(repos) * PUSHES_PER_PROJECT
    write(
        "ci_throughput",
        [
            Figure("ci_throughput", f"{n} pushes, 5 projects: drain, 1 worker", one, "s", "-", None),
            Figure("ci_throughput", f"{n} pushes: drain, {args.workers} workers", many, "s", "-", None),
            Figure(
                "ci_throughput",
                f"{args.workers} workers / 1 worker drain time",
                ratio,
                "x",
                f"<= {GOAL_RATIO:g}x",
                goal_le(ratio, GOAL_RATIO),
            ),  # fmt: skip
            Figure(
                "ci_throughput",
                "runs in push order per project (all phases)",
                float(all(d["in_order"] for d in drains.values())),
                "",
                "= 1",
                all(d["in_order"] for d in drains.values()),
            ),  # fmt: skip
        ],
    )
    return 0 if one and many else 1


def _projects(platform, root: Path) -> dict[str, Path]:
    from shipyard.projects import provision_project

    from tests.local.ci_project import new_project

    repos = {}
    for i in range(PROJECTS):
        name = f"thru-{i}"
        info = provision_project(platform.spec, platform.endpoints, platform.data_dir, name, "demo")
        repos[name] = new_project(root / "work" / name, name, info.repo_path)
    return repos


def _set_workers(platform, workers: int) -> None:
    spec = yaml.safe_load(platform.spec_path.read_text())
    spec["local"]["ci_workers"] = workers
    platform.spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))


def _stop_runner(platform) -> None:
    from shipyard.local import process

    rec = json.loads((platform.data_dir / "state.json").read_text())["services"]["ci-runner"]
    if rec.get("pid"):
        process.stop(rec["pid"], rec["proc_start"], timeout=30)


def _phase(platform, repos: dict[str, Path], workers: int) -> dict:
    from shipyard.ci import list_ci_runs
    from shipyard.records import MlflowApi

    from tests.local.ci_project import commit_and_push, makefile

    _stop_runner(platform)
    pushed: dict[str, list[str]] = {name: [] for name in repos}
    for round_ in range(PUSHES_PER_PROJECT):
        for name, repo in repos.items():
            content = makefile(name) + f"# {workers} worker(s), push {round_}\n"
            sha, _ = commit_and_push(repo, content, f"push {round_} ({workers} worker(s))")
            pushed[name].append(sha)
    _set_workers(platform, workers)
    platform.up()  # starts the runner (only it was stopped) with `workers` workers
    t0 = time.monotonic()
    api = MlflowApi(platform.endpoints.mlflow)
    want = {sha for shas in pushed.values() for sha in shas}
    finished: dict[str, object] = {}
    while time.monotonic() - t0 < PHASE_TIMEOUT_S:
        for name in repos:
            for run in list_ci_runs(api, name):
                if run.commit in want and run.finished:
                    finished[run.commit] = run
        if len(finished) == len(want):
            break
        time.sleep(1)
    drain = time.monotonic() - t0 if len(finished) == len(want) else None
    in_order = all(
        [finished[s].ended_at for s in shas if s in finished]
        == sorted(finished[s].ended_at for s in shas if s in finished)
        for shas in pushed.values()
    )
    statuses = [getattr(r, "status", "?") for r in finished.values()]
    return {
        "drain_s": round(drain, 1) if drain else None,
        "finished": len(finished),
        "passed": statuses.count("passed"),
        "in_order": in_order,
    }


if __name__ == "__main__":
    sys.exit(main())
