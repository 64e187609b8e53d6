"""P4: roll 100,000 runs up to team/project/model/month; goal <= 1.0x a plain pandas groupby.

Both sides get the same frame (as usage.read_runs builds it) and do the same work: price each run
(instance price x hours) and sum cost and GPU hours per team/project/model/month. Shipyard's side
also applies the GPU-price fallback and counts runs and unpriced runs. Best of several repeats.

    .venv/bin/python benchmarks/cost_rollup.py [--runs 100000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from shipyard.costs.rollup import price_runs, rollup
from shipyard.spec.pricing import Pricing

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import Figure, write  # noqa: E402

GOAL = 1.0  # issue #16: keep the roll-up at or under plain pandas


def make_runs(n: int, seed: int = 0) -> pd.DataFrame:
    """Runs of 12 teams x 10 projects x 4 models over 12 months, on a mix of instance types."""
    rng = np.random.default_rng(seed)
    pricing = Pricing()
    team = rng.integers(0, 12, n)
    project = team * 10 + rng.integers(0, 10, n)
    model = project * 4 + rng.integers(0, 4, n)
    types = np.array(
        [*list(pricing.instance_hour)[:12], "g5.xlarge", "local", "unknown.type", None], dtype=object
    )
    instance = types[rng.integers(0, len(types), n)]
    gpu = np.where(instance == "unknown.type", "nvidia-a10g", None)
    month = rng.integers(1, 13, n)
    start = pd.to_datetime({"year": 2026, "month": month, "day": 1}, utc=True)
    return pd.DataFrame(
        {
            "run_id": [f"{i:032x}" for i in range(n)],
            "team": np.array([f"team-{t}" for t in range(12)], dtype=object)[team],
            "project": np.array([f"project-{p}" for p in range(120)], dtype=object)[project],
            "model": np.array([f"model-{m}" for m in range(480)], dtype=object)[model],
            "kind": np.where(rng.random(n) < 0.5, "ci", "train"),
            "start": start,
            "month": start.dt.strftime("%Y-%m"),
            "hours": rng.gamma(2.0, 0.75, n),
            "instance_type": instance,
            "gpu_type": gpu,
            "gpu_count": np.where(gpu == None, 0.0, 1.0),  # noqa: E711 - elementwise
        }
    )


def shipyard_side(runs: pd.DataFrame, pricing: Pricing) -> pd.DataFrame:
    return rollup(price_runs(runs, pricing, local_instance_type="m6i.large"), "model")


def pandas_side(runs: pd.DataFrame, pricing: Pricing) -> pd.DataFrame:
    instance = runs["instance_type"].where(runs["instance_type"] != "local", "m6i.large")
    frame = runs.assign(
        cost=runs["hours"] * instance.map(pricing.instance_hour).fillna(0.0),
        gpu_hours=runs["hours"] * runs["gpu_count"],
    )
    return frame.groupby(["team", "project", "model", "month"], sort=False)[["cost", "gpu_hours"]].sum()


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    pricing = Pricing()
    runs = make_runs(args.runs)
    ours = shipyard_side(runs, pricing)
    base = pandas_side(runs, pricing)
    # same answer first: identical groups; costs equal where the GPU fallback does not apply
    merged = base.join(ours.set_index(["team", "project", "model", "month"]).add_suffix("_ours"))
    assert len(ours) == len(base), (len(ours), len(base))
    assert np.allclose(merged["gpu_hours"], merged["gpu_hours_ours"])
    assert (merged["cost_ours"] >= merged["cost"] - 1e-9).all()  # ours adds GPU-priced runs
    t_ours = best(lambda: shipyard_side(runs, pricing), args.repeat)
    t_base = best(lambda: pandas_side(runs, pricing), args.repeat)
    ratio = t_ours / t_base
    priced = price_runs(runs, pricing, local_instance_type="m6i.large")
    keys = ["team", "project", "model", "month"]
    t_agg = best(lambda: rollup(priced, "model"), args.repeat)
    t_gb = best(lambda: priced.groupby(keys, sort=False)[["cost", "gpu_hours"]].sum(), args.repeat)
    verdict = "PASS" if ratio <= GOAL else "FAIL"
    print(f"cost_rollup: {args.runs:,} runs -> {len(ours):,} team/project/model/month groups")
    print(f"  shipyard price_runs+rollup: {t_ours * 1000:8.1f} ms (best of {args.repeat})")
    print(f"  plain pandas map+groupby:   {t_base * 1000:8.1f} ms (best of {args.repeat})")
    print(f"  ratio {ratio:.2f}x (goal <= {GOAL}x): {verdict}")
    print(
        f"  aggregation alone on the priced frame: rollup {t_agg * 1000:.1f} ms (4 sums) vs "
        f"groupby {t_gb * 1000:.1f} ms (2 sums) = {t_agg / t_gb:.2f}x"
    )
    write(
        "cost_rollup",
        [
            Figure("cost_rollup", f"roll-up of {args.runs:,} runs", t_ours * 1000, "ms", "-", None),
            Figure(
                "cost_rollup", "roll-up / plain pandas groupby", ratio, "x", f"<= {GOAL} x", ratio <= GOAL
            ),
        ],
    )
    return 0  # a report: ./dev bench runs every benchmark and prints the verdicts


if __name__ == "__main__":
    sys.exit(main())
