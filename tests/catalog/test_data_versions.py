"""Data versions of a project: grouped by DVC hash, in first-use order, with their model versions."""

from __future__ import annotations

import datetime as dt

from shipyard.catalog.data_versions import data_versions
from shipyard.records import ModelVersion, TrainingRun

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def run(run_id: str, data_hash: str, hours: int) -> TrainingRun:
    return TrainingRun(run_id, "p", "", "abc", data_hash, "data/x.csv", "", "local", 0, "passed", "",
                       T0 + dt.timedelta(hours=hours))  # fmt: skip


def version(n: int, data_hash: str) -> ModelVersion:
    return ModelVersion("p", n, "p", f"r{n}", data_hash, "abc", "passed", "", (), (), (), "", T0, "READY", "")


def test_grouped_by_hash_in_first_use_order():
    runs = [run("r3", "md5-b", 3), run("r1", "md5-a", 1), run("r2", "md5-a", 2), run("r4", "", 4)]
    got = data_versions(
        runs, [version(1, "md5-a"), version(2, "md5-b"), version(3, "md5-a"), version(4, "zzz")]
    )
    assert [(d.data_hash, d.runs, d.model_versions) for d in got] == [("md5-a", 2, [1, 3]), ("md5-b", 1, [2])]
    assert got[0].first_used == T0 + dt.timedelta(hours=1) and got[0].path == "data/x.csv"


def test_nothing_without_hashes():
    assert data_versions([run("r1", "", 1)], []) == []
