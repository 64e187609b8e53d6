"""P1: the portal's Overview load against a big MLflow (200 projects, 2,000 model versions, 20,000 runs).

Seeds a fresh real MLflow server through its REST API (parallel threads, one ``runs/create`` with all
tags per run, ``log-batch`` for metrics), then measures in one run:

- cold: ``load_portfolio`` with empty caches (the five paged searches + health for every project);
- warm: the same call again (short-TTL cache);
- floor: the minimal paged REST calls that fetch the same data, raw ``requests`` + JSON decode, one
  after another (and, for reference, with the same concurrency the catalog uses);
- naive: a per-model loop (``MlflowClient``: registered model, its versions, each version's run).

Goal: cold <= 1.2 x floor and >= 10 x faster than naive. ``--keep DIR`` reuses a seeded server dir.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from _report import Figure, write  # noqa: E402
from shipyard import tags  # noqa: E402
from shipyard.catalog import clear_cache, load_portfolio  # noqa: E402
from shipyard.platform.endpoints import Endpoints  # noqa: E402
from shipyard.records import MlflowApi  # noqa: E402
from shipyard.records.filters import experiment_filter, name_filter, run_kind_filter  # noqa: E402
from shipyard.spec import parse_spec  # noqa: E402

from tests.fixtures.mlflow_server import start_mlflow_server, stop_mlflow_server  # noqa: E402

PROJECTS, VERSIONS_PER_MODEL, CI_PER_PROJECT, TRAIN_PER_PROJECT = 200, 10, 50, 50
PREFIX = "bench-"
TEAMS = ["alpha", "beta", "gamma", "delta"]
STEPS = "lint,test,data-checks,repro,push,train,gate"


class Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.rest = MlflowApi(url)

    def post(self, endpoint: str, body: dict) -> dict:
        resp = self.rest.session.post(f"{self.url}/api/2.0/mlflow/{endpoint}", json=body, timeout=120)
        resp.raise_for_status()
        return resp.json()


def kv(d: dict) -> list[dict]:
    return [{"key": k, "value": str(v)} for k, v in d.items()]


def seed_project(api: Api, i: int) -> int:
    name = f"{PREFIX}p{i:03d}"
    team, tier = TEAMS[i % 4], ("low", "medium", "high")[i % 3]
    exp = api.post(
        "experiments/create",
        {
            "name": name,
            "tags": kv(
                {
                    tags.PROJECT: name,
                    tags.TEAM: team,
                    tags.RISK_TIER: tier,
                    tags.OWNER: f"owner{i % 17}@example.com",
                }
            ),
        },
    )
    exp_id = exp["experiment_id"]
    now = int(time.time() * 1000) - 86_400_000
    calls = 1
    ci_ids = []
    for j in range(CI_PER_PROJECT):
        status = "failed" if (i + j) % 7 == 0 else "passed"
        run = api.post(
            "runs/create",
            {
                "experiment_id": exp_id,
                "start_time": now + j * 60_000,
                "tags": kv(
                    {
                        tags.RUN_KIND: tags.RUN_KIND_CI,
                        tags.CI_STATUS: status,
                        tags.CI_COMMIT: f"{i:03d}{j:05d}abcdef",
                        tags.CI_BRANCH: "main",
                        tags.CI_PROVIDER: "shipyard",
                        tags.CI_STEPS: STEPS,
                    }
                ),
            },
        )
        ci_ids.append(run["run"]["info"]["run_id"])
        calls += 1
    train = []
    for j in range(TRAIN_PER_PROJECT):
        run = api.post(
            "runs/create",
            {
                "experiment_id": exp_id,
                "start_time": now + j * 60_000 + 30_000,
                "tags": kv(
                    {
                        tags.RUN_KIND: tags.RUN_KIND_TRAIN,
                        tags.CI_RUN_ID: ci_ids[j],
                        tags.GIT_COMMIT: f"{i:03d}{j:05d}abcdef",
                        tags.DATA_HASH: f"md5{i:03d}{j // 10:02d}",
                        tags.INSTANCE_TYPE: "m6i.large",
                        tags.GPU_COUNT: 0,
                        tags.GATE_RESULT: "passed" if j % 5 else "failed",
                    }
                ),
            },
        )
        info = run["run"]["info"]
        api.post(
            "runs/log-batch",
            {
                "run_id": info["run_id"],
                "metrics": [
                    {"key": "accuracy", "value": 0.7 + (j % 10) / 40, "timestamp": now, "step": 0},
                    {"key": "f1", "value": 0.65 + (j % 10) / 40, "timestamp": now, "step": 0},
                ],
                "params": kv({"lr": 0.1 / (j + 1)}),
            },
        )
        train.append((info["run_id"], info["artifact_uri"], j))
        calls += 2
    api.post("registered-models/create", {"name": name, "tags": kv({tags.PROJECT: name})})
    calls += 1
    for run_id, artifact_uri, j in train[-VERSIONS_PER_MODEL:]:
        api.post(
            "model-versions/create",
            {
                "name": name,
                "source": f"{artifact_uri}/model",
                "run_id": run_id,
                "tags": kv(
                    {
                        tags.MODEL_RUN_ID: run_id,
                        tags.GATE_RESULT: "passed",
                        tags.DATA_HASH: f"md5{i:03d}",
                        tags.GIT_COMMIT: f"{i:03d}{j:05d}abcdef",
                    }
                ),
            },
        )
        calls += 1
    for alias, version in ((tags.CHAMPION, VERSIONS_PER_MODEL - 1), (tags.CHALLENGER, VERSIONS_PER_MODEL)):
        api.post("registered-models/alias", {"name": name, "alias": alias, "version": str(version)})
        calls += 1
    return calls


def seed(url: str, threads: int) -> None:
    api = Api(url)
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        calls = sum(pool.map(lambda i: seed_project(api, i), range(PROJECTS)))
    took = time.perf_counter() - start
    print(
        f"seeded {PROJECTS} projects, {PROJECTS * (CI_PER_PROJECT + TRAIN_PER_PROJECT)} runs, "
        f"{PROJECTS * VERSIONS_PER_MODEL} model versions with {calls} API calls in {took:.0f} s "
        f"({calls / took:.0f} calls/s, {threads} threads)",
        flush=True,
    )


def floor(url: str, concurrent: bool = False) -> int:
    """The minimal paged REST calls for the Overview's data: raw requests + JSON decode, nothing else."""
    rest = MlflowApi(url)
    exps = rest.search_experiments(experiment_filter(PREFIX))
    ids = [e["experiment_id"] for e in exps]
    calls = [
        lambda: rest.search_runs(ids, run_kind_filter(tags.RUN_KIND_CI)),
        lambda: rest.search_runs(ids, run_kind_filter(tags.RUN_KIND_TRAIN)),
        lambda: rest.search_registered_models(name_filter(PREFIX)),
        lambda: rest.search_model_versions(name_filter(PREFIX)),
    ]
    if concurrent:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda f: f(), calls))
    else:
        results = [f() for f in calls]
    return len(exps) + sum(len(r) for r in results)


def naive(url: str) -> int:
    """What per-model code does: for each project, its runs; for each model, its versions and their runs."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=url, registry_uri=url)
    n = 0
    for exp in client.search_experiments(filter_string=f"name LIKE '{PREFIX}%'", max_results=1000):
        runs = client.search_runs([exp.experiment_id], max_results=1000)
        model = client.get_registered_model(exp.name)
        for mv in client.search_model_versions(f"name = '{exp.name}'"):
            client.get_run(mv.run_id)
            n += 1
        n += len(runs) + len(model.aliases)
    return n


def timed(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", type=Path, help="server dir to reuse (seeded once) instead of a temp dir")
    ap.add_argument("--threads", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="portal-bench-"))
    seeded_before = (root / "mlflow" / "mlflow.db").exists()
    server = start_mlflow_server(root / "mlflow", timeout=300)
    try:
        if not seeded_before:
            seed(server.url, args.threads)
        spec = parse_spec(
            "platform: {name: bench}\nteams:\n"
            + "".join(f"  - {{name: {t}, owners: [x@example.com], monthly_budget: 1000}}\n" for t in TEAMS)
        )
        endpoints = Endpoints(platform="local", mlflow=server.url)
        floor(server.url)  # warm the server's page cache so no measurement pays for the first read

        def cold():
            clear_cache()
            p = load_portfolio(spec, endpoints, PREFIX, with_costs=False, refresh=True)
            assert len(p.rows) == PROJECTS and len(p.snapshot.versions) == PROJECTS * VERSIONS_PER_MODEL
            assert len(p.snapshot.ci_runs) + len(p.snapshot.train_runs) == PROJECTS * (
                CI_PER_PROJECT + TRAIN_PER_PROJECT
            )
            assert sum(1 for r in p.rows if r.champion_version == VERSIONS_PER_MODEL - 1) == PROJECTS

        t_floor = timed(lambda: floor(server.url), args.repeat)
        t_floor_par = timed(lambda: floor(server.url, concurrent=True), args.repeat)
        t_cold = timed(cold, args.repeat)
        load_portfolio(spec, endpoints, PREFIX, with_costs=False)
        t_warm = timed(lambda: load_portfolio(spec, endpoints, PREFIX, with_costs=False), 5)
        start = time.perf_counter()
        naive(server.url)
        t_naive = time.perf_counter() - start
    finally:
        stop_mlflow_server(server)
    print(f"floor (5 paged REST searches, sequential)  {t_floor:8.3f} s")
    print(f"floor (same searches, concurrent as catalog) {t_floor_par:8.3f} s")
    print(
        f"Overview data load, cold                   {t_cold:8.3f} s  = {t_cold / t_floor:.2f} x floor "
        f"({t_cold / t_floor_par:.2f} x concurrent floor)"
    )
    print(f"Overview data load, warm (cached)          {t_warm * 1000:8.3f} ms")
    print(
        f"naive per-model loop                       {t_naive:8.3f} s  = {t_naive / t_cold:.1f} x cold, "
        f"{t_naive / t_floor:.1f} x floor"
    )
    write(
        "portal_load",
        [
            Figure("portal_load", "Overview cold load", t_cold, "s", "-", None),
            Figure("portal_load", "Overview cold / floor (sequential)", t_cold / t_floor, "x", "<= 1.2 x",
                   t_cold <= 1.2 * t_floor),
            Figure("portal_load", "naive per-model loop / cold", t_naive / t_cold, "x", ">= 10 x",
                   t_naive >= 10 * t_cold),
            Figure("portal_load", "Overview warm (cached)", t_warm * 1000, "ms", "-", None),
        ],
    )  # fmt: skip
    return 0  # a report: ./dev bench runs every benchmark and prints the verdicts


if __name__ == "__main__":
    sys.exit(main())
