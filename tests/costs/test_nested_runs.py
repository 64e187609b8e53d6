"""A training run inside its CI run, on the same machine, is not priced twice."""

import datetime as dt

import pandas as pd
from shipyard import tags
from shipyard.costs.usage import _not_twice

T0 = dt.datetime(2026, 11, 3, 8, tzinfo=dt.UTC)


def frame(rows):
    return pd.DataFrame(rows, columns=["run_id", "kind", "start", "hours", "instance_type", "ci_run_id"])


def test_training_inside_its_ci_run_costs_no_extra_hours():
    runs = frame(
        [
            ["ci1", tags.RUN_KIND_CI, T0, 1.0, "m6i.large", None],
            ["t1", tags.RUN_KIND_TRAIN, T0 + dt.timedelta(minutes=10), 0.5, "m6i.large", "ci1"],  # inside
            ["t2", tags.RUN_KIND_TRAIN, T0 + dt.timedelta(minutes=20), 0.5, "g5.xlarge", "ci1"],  # a GPU Job
            ["t3", tags.RUN_KIND_TRAIN, T0 + dt.timedelta(hours=1), 2.0, "m6i.large", "ci1"],  # after it
            ["t4", tags.RUN_KIND_TRAIN, T0, 0.25, "m6i.large", None],  # no CI run
        ]
    )
    _not_twice(runs)
    assert dict(zip(runs["run_id"], runs["hours"], strict=True)) == {
        "ci1": 1.0, "t1": 0.0, "t2": 0.5, "t3": 2.0, "t4": 0.25,
    }  # fmt: skip


def test_unpriced_ci_run_leaves_training_priced():
    runs = frame(
        [
            ["ci1", tags.RUN_KIND_CI, T0, 1.0, None, None],  # e.g. GitHub CI without an instance type
            ["t1", tags.RUN_KIND_TRAIN, T0 + dt.timedelta(minutes=10), 0.5, "m6i.large", "ci1"],
        ]
    )
    _not_twice(runs)
    assert list(runs["hours"]) == [1.0, 0.5]
