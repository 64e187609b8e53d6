"""MLflow REST JSON -> the typed records: one CiRun, one ModelVersion for every reader."""

from __future__ import annotations

import datetime as dt

from shipyard import tags
from shipyard.records.parse import (
    parse_ci_run,
    parse_model_version,
    parse_project,
    parse_registered_model,
    parse_training_run,
)


def kv(d: dict) -> list[dict]:
    return [{"key": k, "value": v} for k, v in d.items()]


def test_ci_run_fields_and_defaults():
    info = {
        "run_id": "r1",
        "experiment_id": "7",
        "start_time": 1_700_000_000_000,
        "end_time": 1_700_000_060_000,
    }
    run_tags = {tags.CI_STATUS: "failed", tags.CI_STEPS: "lint, test,", tags.CI_FAILED_STEP: "test"}
    run = {"info": info, "data": {"tags": kv({**run_tags, tags.PROJECT: "p", tags.CI_COMMIT: "abc"})}}
    ci = parse_ci_run(run)
    assert (ci.project, ci.status, ci.steps, ci.failed_step) == ("p", "failed", ("lint", "test"), "test")
    assert ci.duration_s == 60.0 and ci.finished and ci.experiment_id == "7"
    assert ci.as_dict()["steps"] == ["lint", "test"]
    bare = parse_ci_run({"info": {"run_id": "r2", "start_time": 1}, "data": {}}, project="q")
    assert (bare.project, bare.status, bare.steps, bare.failed_step) == ("q", "unknown", (), "")
    assert bare.as_dict()["failed_step"] is None


def test_a_running_ci_run_counts_its_duration_up_to_now():
    start = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).timestamp() * 1000)
    ci = parse_ci_run(
        {"info": {"run_id": "r", "start_time": start}, "data": {"tags": kv({tags.CI_STATUS: "running"})}}
    )
    assert not ci.finished and 110 < ci.duration_s < 600


def test_project_and_training_run():
    exp_tags = kv({tags.PROJECT: "fraud", tags.TEAM: "risk", tags.LABELING: "True"})
    p = parse_project(
        {"experiment_id": "3", "name": "exp", "artifact_location": "mlflow-artifacts:/3", "tags": exp_tags}
    )
    assert (p.name, p.team, p.labeling, p.artifact_location, p.risk_tier) == (
        "fraud",
        "risk",
        True,
        "mlflow-artifacts:/3",
        "",
    )
    r = parse_training_run({"info": {"run_id": "t"}, "data": {"tags": kv({tags.GPU_COUNT: "2.0"}),
                            "metrics": [{"key": "acc", "value": 0.9}]}}, "fraud")  # fmt: skip
    assert r.gpu_count == 2 and r.metrics == {"acc": 0.9} and r.started_at is None


def test_model_version_takes_aliases_from_its_registered_model():
    rm = parse_registered_model({"name": "m", "aliases": [{"alias": "champion", "version": "2"}]}, {"m"})
    assert rm.project == "m"
    mv = parse_model_version(
        {
            "name": "m",
            "version": "2",
            "run_id": "r0",
            "tags": kv({tags.MODEL_RUN_ID: "r9", tags.APPROVED_BY: "a,b"}),
        },
        rm,
    )
    assert (
        mv.aliases == ("champion",) and mv.is_champion and mv.run_id == "r9" and mv.approved_by == ("a", "b")
    )
    assert parse_model_version({"name": "m", "version": "1", "run_id": "r0"}, rm).aliases == ()
