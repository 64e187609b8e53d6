"""P3: cold `shipyard up` -> all healthy, against the services' own start times.

Starts the embedded platform cold (fresh data dir: new MLflow database, Label Studio migrations)
on free ports and reports:
  - wall: `up` from call to every service healthy,
  - each service's own start time (spawn -> healthy) measured in that same run, their sum and max,
  - with --standalone (default), each service group started alone in its own fresh data dir, i.e.
    without the other services competing for the CPU, and the sum of those (a sequential `up`).
Goal: wall <= 1.3 x the slowest service's own start. The Label Studio venv is prebuilt and shared
($SHIPYARD_LABEL_STUDIO_VENV, default .shipyard-tools/label-studio); creating it is not timed.

    .venv/bin/python benchmarks/platform_up.py [--no-standalone]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
GOAL = 1.3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spec_file(root: Path, services: dict | None = None, **local) -> Path:
    data = yaml.safe_load((REPO / "platform.yaml").read_text())
    section = data.setdefault("local", {})
    section["ports"] = {
        n: free_port()
        for n in ("mlflow", "label_studio", "prometheus", "pushgateway", "portal", "package_index")
    }
    section["portal"] = False  # the portal is not part of P3's service set
    section.update(local)
    if services:
        data["services"] = services
    path = root / "platform.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def cold_up(root: Path, **spec_kwargs) -> dict:
    from shipyard.local import runtime

    root.mkdir(parents=True, exist_ok=True)
    spec = spec_file(root, **spec_kwargs)
    try:
        result = runtime.up(spec, root / "data", echo=lambda line: None)
    finally:
        runtime.down(root / "data")
    return {"wall": result.wall_seconds, "start": result.start_seconds, "prepare": result.prepare_seconds}


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
    report["goal"] = f"wall <= {GOAL} x max own start"
    report["met"] = report["wall_over_max"] <= GOAL
    report["cpus"] = os.cpu_count()
    report["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    report["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = REPO / "benchmarks" / "results" / "platform_up.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    r = report
    verdict = "met" if r["met"] else "NOT met"
    print(f"P3: cold up {r['wall_s']:.1f}s; slowest own start {r['slowest']} {r['max_s']:.1f}s")
    print(
        f"    -> {r['wall_over_max']:.2f}x (goal <= {GOAL}x: {verdict}); sum of own starts {r['sum_s']:.1f}s"
    )
    return 0  # a report, not a gate: ./dev bench runs every benchmark


if __name__ == "__main__":
    sys.exit(main())
