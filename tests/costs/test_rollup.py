"""Pricing and rollup of constructed runs: known durations x known prices -> known totals."""

from __future__ import annotations

import pandas as pd
import pytest
from shipyard.costs.rollup import NO_INSTANCE, NO_PRICE, price_runs, rollup
from shipyard.spec.pricing import Pricing

PRICING = Pricing(instance_hour={"cpu.small": 0.5, "gpu.big": 3.0}, gpu_hour={"nvidia-x": 2.0})


def frame(rows):
    cols = ["run_id", "team", "project", "model", "instance_type", "gpu_type", "gpu_count", "hours", "month"]
    df = pd.DataFrame(rows, columns=cols)
    df["kind"] = "train"
    df["start"] = pd.Timestamp("2026-01-01", tz="UTC")
    return df


RUNS = frame(
    [
        ("r1", "a", "pa", "ma", "cpu.small", None, 0, 2.0, "2026-01"),  # 1.00
        ("r2", "a", "pa", "ma", "gpu.big", "nvidia-x", 1, 0.5, "2026-01"),  # 1.50, instance price covers GPU
        ("r3", "a", "pa", "mz", "odd.type", "nvidia-x", 2, 3.0, "2026-01"),  # 3 h x 2 GPUs x 2.0 = 12.00
        ("r4", "a", "pb", "mb", None, None, 0, 1.0, "2026-01"),  # unpriced: no instance type
        ("r5", "b", "pc", "mc", "local", None, 0, 4.0, "2026-02"),  # local -> cpu.small: 2.00
        ("r6", "b", "pc", "mc", "odd.type", None, 0, 1.0, "2026-02"),  # unpriced: no price, no GPU
        ("r7", "b", "pc", "mc", "cpu.small", None, 0, 1.0, "2026-01"),  # 0.50
    ]
)


def test_price_runs():
    priced = price_runs(RUNS, PRICING, local_instance_type="cpu.small").set_index("run_id")
    assert priced["cost"].to_dict() == pytest.approx(
        {"r1": 1.0, "r2": 1.5, "r3": 12.0, "r4": 0.0, "r5": 2.0, "r6": 0.0, "r7": 0.5}
    )
    assert priced["gpu_hours"].to_dict() == pytest.approx(
        {"r1": 0, "r2": 0.5, "r3": 6.0, "r4": 0, "r5": 0, "r6": 0, "r7": 0}
    )
    assert priced.loc[priced["unpriced"], "unpriced_reason"].to_dict() == {"r4": NO_INSTANCE, "r6": NO_PRICE}


def test_rollup_views():
    priced = price_runs(RUNS, PRICING, local_instance_type="cpu.small")
    team = rollup(priced, "team", monthly=False).set_index("team")
    assert team["cost"].to_dict() == pytest.approx({"a": 14.5, "b": 2.5})
    assert team["unpriced_runs"].to_dict() == {"a": 1, "b": 1}
    assert team["runs"].to_dict() == {"a": 4, "b": 3}
    assert team["gpu_hours"].to_dict() == pytest.approx({"a": 6.5, "b": 0.0})
    project = rollup(priced, "project", monthly=False).set_index(["team", "project"])
    assert project["cost"].to_dict() == pytest.approx({("a", "pa"): 14.5, ("a", "pb"): 0.0, ("b", "pc"): 2.5})
    monthly = rollup(priced, "model").set_index(["team", "project", "model", "month"])["cost"].to_dict()
    assert monthly == pytest.approx(
        {
            ("a", "pa", "ma", "2026-01"): 2.5,
            ("a", "pa", "mz", "2026-01"): 12.0,
            ("a", "pb", "mb", "2026-01"): 0.0,
            ("b", "pc", "mc", "2026-02"): 2.0,
            ("b", "pc", "mc", "2026-01"): 0.5,
        }
    )


def test_rollup_matches_pandas_groupby_on_random_runs():
    import numpy as np

    rng = np.random.default_rng(7)
    n = 5000
    df = frame([])
    df = pd.DataFrame(
        {
            "run_id": [f"r{i}" for i in range(n)],
            "team": rng.choice(["a", "b", "c"], n),
            "project": rng.choice(["p1", "p2", "p3", "p4"], n),
            "model": rng.choice(["m1", "m2", None], n),
            "instance_type": rng.choice(["cpu.small", "gpu.big", "odd", None], n),
            "gpu_type": rng.choice(["nvidia-x", None], n),
            "gpu_count": rng.integers(0, 3, n),
            "hours": rng.random(n) * 10,
            "month": rng.choice(["2026-01", "2026-02"], n),
        }
    )
    priced = price_runs(df, PRICING)
    ours = rollup(priced, "model").fillna({"model": "-"}).set_index(["team", "project", "model", "month"])
    base = (
        priced.fillna({"model": "-"})
        .groupby(["team", "project", "model", "month"])[["cost", "gpu_hours"]]
        .sum()
    )
    joined = base.join(ours[["cost", "gpu_hours"]].add_suffix("_ours"))
    assert len(ours) == len(base)
    assert np.allclose(joined["cost"], joined["cost_ours"])
    assert np.allclose(joined["gpu_hours"], joined["gpu_hours_ours"])


def test_rollup_of_no_runs():
    assert rollup(price_runs(frame([]), PRICING), "team").empty
