"""The Project page's view model: which project to show, its records as rows."""

from __future__ import annotations

import datetime as dt

from shipyard.catalog.labeling import LabelingProgress
from shipyard.catalog.views import project as view
from shipyard.health.ml_test_score import Scorecard
from shipyard.health.ml_test_score import TestResult as Result
from shipyard.records import CiRun, ModelVersion, Project, Snapshot, TrainingRun

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def train(run_id: str, project: str, data_hash: str, **metrics: float) -> TrainingRun:
    return TrainingRun(run_id, project, "", "abcdef123", data_hash, "data/x.csv", "", "local", 0, "", "", T0,
                       metrics=metrics)  # fmt: skip


def version(n: int, project: str, run_id: str, data_hash: str) -> ModelVersion:
    return ModelVersion(
        project, n, project, run_id, data_hash, "abc", "passed", "", (), (), (), "", T0, "READY", ""
    )


SNAP = Snapshot(
    projects=[Project("p", "1", "fraud", "high", "ann@x"), Project("q", "2", "fraud", "low", "bob@x")],
    ci_runs=[
        CiRun(
            "c1",
            "p",
            "passed",
            "0123456789",
            "main",
            "local",
            ("train", "gate"),
            "",
            T0,
            T0 + dt.timedelta(seconds=30),
        ),
        CiRun("c2", "q", "failed", "abc", "main", "local", ("train",), "train", T0, None),
    ],  # fmt: skip
    train_runs=[train("r1", "p", "md5-a", accuracy=0.912345), train("r9", "q", "md5-z")],
    models=[],
    versions=[
        version(1, "p", "r1", "md5-a"),
        version(2, "p", "gone", "md5-b"),
        version(1, "q", "r9", "md5-z"),
    ],
    loaded_at=T0,
)


def test_project_names_for_an_owner_and_the_first_pick():
    assert view.project_names(SNAP, False, None) == ["p", "q"]
    assert view.project_names(SNAP, True, "bob@x") == ["q"]
    assert view.project_names(SNAP, True, "nobody@x") == ["p", "q"]  # an owner with none sees all
    assert view.first_pick(["p", "q"], "q", "p") is None  # the earlier pick stands
    assert view.first_pick(["p", "q"], None, "q") == "q"  # the link's ?project=
    assert view.first_pick(["p", "q"], "gone", "nope") == "p"


def test_a_projects_records_as_rows():
    found = view.records(SNAP, "p")
    assert [r.run_id for r in found.ci] == ["c1"] and set(found.runs) == {"r1"}
    assert [v.version for v in found.versions] == [1, 2]
    (ci,) = view.ci_rows(found.ci)
    assert ci["commit"] == "01234567" and ci["steps"] == "train → gate" and ci["duration (s)"] == 30
    # version 2's run is not recorded: it has no point in the trend
    assert view.metric_trend(found) == [{"version": 1, "metric": "accuracy", "value": 0.912345}]
    (run,) = view.training_rows(found)
    assert run["accuracy"] == 0.9123 and run["gate"] == "-" and run["commit"] == "abcdef12"
    (data,) = view.data_version_rows(found)
    assert data["data hash (DVC md5)"] == "md5-a" and data["model versions"] == "v1"


def test_evidence_rows_and_labeling_fraction():
    card = Scorecard("p", [Result("data-1", "data", "Schema", 1.0, "automated", "seen")], {}, 1.0, True)
    assert view.evidence_rows(card) == [
        {"test": "data-1", "title": "Schema", "points": 1.0, "how": "automated", "evidence": "seen"}
    ]
    assert view.labeled_fraction(LabelingProgress("p", 1, 4, 1, 1)) == 0.25
    assert view.labeled_fraction(LabelingProgress("p", 1, 2, 5, 5)) == 1.0  # more labeled than tasks
