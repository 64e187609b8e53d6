"""Seed a real MLflow server with known runs for the cost tests (by hand: python -m tests.costs.seed URL)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from mlflow import MlflowClient
from shipyard import tags

UTC = dt.UTC


def ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


@dataclass
class Seeded:
    teams: tuple[str, str]
    projects: tuple[str, str]
    models: tuple[str, str]
    runs: dict[str, str]  # label -> run id


SPEC = """platform: {{name: costs-test, environment: local}}
teams:
  - {{name: {a}, owners: [a@x.example], monthly_budget: 40}}
  - {{name: {b}, owners: [b@x.example], monthly_budget: 1000}}
pricing:
  as_of: 2025-05-01
  source: test table
  instance_hour: {{cpu.small: 0.5, gpu.big: 3.0}}
  gpu_hour: {{nvidia-x: 2.0}}
  storage_gb_month: 0.02
local: {{instance_type: cpu.small}}
"""


def seed(tracking_uri: str, month: tuple[int, int] = (2023, 2), suffix: str | None = None) -> Seeded:
    """Two teams, a project each, known runs in ``month`` (2023-02 by default: no other suite uses it).

    team a / project pa:  r1 train 2 h cpu.small = 1.00 (model ma v1); r2 CI run 1 h cpu.small = 0.50
    (its training run r1 points at it -> model ma); r3 train 30 min gpu.big, 1 GPU = 1.50 (ma v2);
    r4 train 3 h odd.type with 2 x nvidia-x = 12.00 (no model); r5 train 1 h, no instance type: unpriced.
    team b / project pb:  r6 train 4 h "local" (-> cpu.small) = 2.00 (model mb); r7 train 1 h unknown.type:
    unpriced; r8 starts the next month (not counted).
    """
    sfx = suffix or uuid.uuid4().hex[:8]
    a, b = f"ca-{sfx}", f"cb-{sfx}"
    pa, pb = f"pa-{sfx}", f"pb-{sfx}"
    ma, mb = f"ma-{sfx}", f"mb-{sfx}"
    client = MlflowClient(tracking_uri)
    year, mon = month
    t0 = dt.datetime(year, mon, 3, 8, 0, tzinfo=UTC)
    runs: dict[str, str] = {}

    def exp(project, team):
        return client.create_experiment(
            project,
            tags={tags.PROJECT: project, tags.TEAM: team, tags.RISK_TIER: "low", tags.OWNER: "x@x.example"},
        )

    ea, eb = exp(pa, a), exp(pb, b)

    def run(label, experiment, start, hours, kind="train", **run_tags):
        r = client.create_run(experiment, start_time=ms(start), tags={tags.RUN_KIND: kind, **run_tags})
        client.set_terminated(r.info.run_id, end_time=ms(start + dt.timedelta(hours=hours)))
        runs[label] = r.info.run_id
        return r.info.run_id

    it, gt, gc = tags.INSTANCE_TYPE, tags.GPU_TYPE, tags.GPU_COUNT
    r2 = run("r2", ea, t0, 1, kind="ci", **{it: "cpu.small"})
    run("r1", ea, t0 + dt.timedelta(hours=1), 2, **{it: "cpu.small", tags.CI_RUN_ID: r2})
    run("r3", ea, t0 + dt.timedelta(days=1), 0.5, **{it: "gpu.big", gt: "nvidia-x", gc: "1"})
    run("r4", ea, t0 + dt.timedelta(days=2), 3, **{it: "odd.type", gt: "nvidia-x", gc: "2"})
    run("r5", ea, t0 + dt.timedelta(days=2), 1)
    run("r6", eb, t0 + dt.timedelta(days=5), 4, **{it: "local"})
    run("r7", eb, t0 + dt.timedelta(days=5), 1, **{it: "unknown.type"})
    nxt = dt.datetime(year + mon // 12, mon % 12 + 1, 1, 0, 30, tzinfo=UTC)
    run("r8", eb, nxt, 10, **{it: "cpu.small"})

    for name in (ma, mb):
        client.create_registered_model(name)
    client.create_model_version(
        ma, f"{client.get_run(runs['r1']).info.artifact_uri}/model", run_id=runs["r1"]
    )
    mv = client.create_model_version(
        ma, f"{client.get_run(runs['r3']).info.artifact_uri}/model", run_id=runs["r3"]
    )
    client.set_model_version_tag(ma, mv.version, tags.MODEL_RUN_ID, runs["r3"])
    client.create_model_version(
        mb, f"{client.get_run(runs['r6']).info.artifact_uri}/model", run_id=runs["r6"]
    )
    return Seeded((a, b), (pa, pb), (ma, mb), runs)


def write_spec(path: Path, seeded: Seeded) -> Path:
    path.write_text(SPEC.format(a=seeded.teams[0], b=seeded.teams[1]))
    return path


def sparse_file(path: Path, size: int) -> None:
    """A file of ``size`` bytes that takes no disk space (storage cost counts bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)


if __name__ == "__main__":  # seed a server by hand, e.g. to try `shipyard cost report`
    import sys

    uri = sys.argv[1] if len(sys.argv) > 1 else os.environ["MLFLOW_TRACKING_URI"]
    print(seed(uri))
