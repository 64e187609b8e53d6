"""P3: cold `shipyard up` -> ready for push, and -> all healthy, against the services' own start times.

Starts the embedded platform cold (fresh data dir: new MLflow database, Label Studio migrations)
on free ports and reports:
  - wall: `up` from call to every service healthy,
  - each service's own start time (spawn -> healthy) measured in that same run, their sum and max,
  - with --standalone (default), each service group started alone in its own fresh data dir, i.e.
    without the other services competing for the CPU, and the sum of those (a sequential `up`).
Goals (issue #16): ready for push (MLflow, the CI runner, the registry and the package index healthy:
what `git push` needs) <= 20 s, and all healthy <= 1.1 x Label Studio's own start in the same run.
The Label Studio venv is prebuilt and shared ($SHIPYARD_LABEL_STUDIO_VENV, default
.shipyard-tools/label-studio); creating it is not timed.

    .venv/bin/python benchmarks/platform_up.py [--no-standalone]
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
from _report import Figure, goal_le, write  # noqa: E402

READY_GOAL_S = 20.0
ALL_GOAL = 1.1  # all healthy / Label Studio's own start


def spec_file(root: Path, services: dict | None = None, **local) -> Path:
    data = yaml.safe_load((REPO / "platform.yaml").read_text())
    section = data.setdefault("local", {})
    from shipyard.local.process import free_ports
    from shipyard.spec.local import LocalPorts

    names = list(LocalPorts.model_fields)
    section["ports"] = dict(zip(names, free_ports(len(names)), strict=True))
    section["portal"] = False  # the portal is not part of P3's service set
    section.update(local)
    if services:
        data["services"] = services
    path = root / "platform.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def cold_up(root: Path, **spec_kwargs) -> dict:
    from shipyard.local import lifecycle

    root.mkdir(parents=True, exist_ok=True)
    spec = spec_file(root, **spec_kwargs)
    try:
        result = lifecycle.up(spec, root / "data", echo=lambda line: None)
    finally:
        lifecycle.down(root / "data")
    return {
        "wall": result.wall_seconds,
        "ready_for_push": result.ready_for_push_seconds,
        "start": result.start_seconds,
        "prepare": result.prepare_seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-standalone", dest="standalone", action="store_false")
    args = parser.parse_args()
    os.environ.setdefault("SHIPYARD_LABEL_STUDIO_VENV", str(REPO / ".shipyard-tools" / "label-studio"))
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        tmp_path = Path(tmp)
        run = cold_up(tmp_path / "all")
        own = run["start"]
        report: dict = {
            "wall_s": round(run["wall"], 2),
            "ready_for_push_s": round(run["ready_for_push"], 2) if run["ready_for_push"] else None,
            "own_start_s": own,
            "sum_s": round(sum(own.values()), 2),
            "max_s": round(max(own.values()), 2),
            "slowest": max(own, key=own.get),
            "prepare_s": {k: round(v, 2) for k, v in run["prepare"].items()},
        }
        report["wall_over_max"] = round(report["wall_s"] / report["max_s"], 3)
        report["wall_over_sum"] = round(report["wall_s"] / report["sum_s"], 3)
        if args.standalone:
            alone: dict[str, float] = {}
            groups = {
                "mlflow+ci-runner": {"label_studio": False, "prometheus": False},
                "label-studio": {"prometheus": False, "services": {"mlflow": {"enabled": False}}},
                "prometheus+pushgateway": {"label_studio": False, "services": {"mlflow": {"enabled": False}}},
            }
            for name, kwargs in groups.items():
                services = kwargs.pop("services", None)
                alone.update(cold_up(tmp_path / name, services=services, **kwargs)["start"])
            report["standalone_start_s"] = alone
            report["standalone_sum_s"] = round(sum(alone.values()), 2)
            report["standalone_max_s"] = round(max(alone.values()), 2)
            report["wall_over_standalone_max"] = round(report["wall_s"] / report["standalone_max_s"], 3)
    label_studio = own.get("label-studio")
    report["all_over_label_studio"] = round(report["wall_s"] / label_studio, 3) if label_studio else None
    report["cpus"] = os.cpu_count()
    report["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    report["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = REPO / "benchmarks" / "results" / "platform_up.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    ratio = report["all_over_label_studio"]
    write(
        "platform_up",
        [
            Figure("platform_up", "cold up -> ready for push", report["ready_for_push_s"], "s",
                   f"<= {READY_GOAL_S:g} s", goal_le(report["ready_for_push_s"], READY_GOAL_S)),
            Figure("platform_up", "cold up -> all healthy", report["wall_s"], "s", "-", None),
            Figure("platform_up", "Label Studio's own start (same run)", label_studio, "s", "-", None),
            Figure("platform_up", "all healthy / Label Studio's own start", ratio, "x", f"<= {ALL_GOAL} x",
                   goal_le(ratio, ALL_GOAL)),
        ],
    )  # fmt: skip
    return 0  # a report, not a gate: ./dev bench runs every benchmark


if __name__ == "__main__":
    sys.exit(main())
