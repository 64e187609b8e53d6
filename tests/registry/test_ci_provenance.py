"""Issue #32, attack 1: evidence of a CI run that the judged can write. A member of the team
(analyst@example.com) holds EDIT on the project's experiment, so every tag of an MLflow CI run is
theirs to write. The registry believes the CI runner's own job record, the platform's git remote and
the team's DVC remote, and scores on the held-out split it re-derives from that data. Real MLflow with
basic-auth, the real registry service and git; the runner's job is played as the runner writes it
(conftest.py)."""

from __future__ import annotations

import json
import os

import pytest
from mlflow import MlflowClient
from shipyard import tags
from shipyard.ci.runs import finish_ci_run, start_ci_run
from shipyard.identity import ADMIN, RUNNER
from shipyard.identity.session import acting_as
from shipyard.records import MlflowApi
from shipyard.registry.client import RegistryRefused
from shipyard.registry.provenance import SplitRule, split

from .conftest import _dataset, new_project, push_commit, push_data

pytestmark = [pytest.mark.services, pytest.mark.slow]
MEMBER = "analyst@example.com"


def _refused(fn) -> RegistryRefused:
    with pytest.raises(RegistryRefused) as info:
        fn()
    return info.value


def _always_positive(train):
    """The attack's model: it predicts 1 whatever it is shown."""
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=1).fit(train.drop(columns=["target"]), train["target"] * 0 + 1)


def _versions(platform, name: str) -> list[str]:
    with acting_as(platform.credentials(ADMIN)):
        return [
            v.version
            for v in MlflowClient(platform.endpoints.mlflow).search_model_versions(f"name = '{name}'")
        ]


def _cherry_picked(p, tmp_path):
    """The real data pushed, its real split, and only its positives as the run's evaluation data."""
    dataset = _dataset()
    data_hash = push_data(p.platform.data_dir, p.team, p.name, dataset, tmp_path)
    train, test = split(dataset, SplitRule("classification", 0.25, 42, {}))
    return data_hash, train, test, test[test["target"] == 1]


def test_a_ci_run_a_member_created_is_refused(light_platform, tmp_path):
    p = new_project(light_platform)
    member = light_platform.credentials(MEMBER)
    commit = push_commit(light_platform.data_dir, p.name, "main", tmp_path)  # a real commit, even
    with acting_as(member):  # what the runner writes, written by the member
        ci_run_id = start_ci_run(
            MlflowApi(light_platform.endpoints.mlflow), p.name, commit, "main", "shipyard"
        )
    data_hash, train, _test, positives = _cherry_picked(p, tmp_path)
    job = p.training_run(
        tmp_path, ci_run_id, commit, data_hash, _always_positive(train), positives, creds=member
    )
    refused = _refused(lambda: p.submit(job, creds=member))
    assert refused.status == 422 and "\n" not in refused.reason
    assert f"CI run {ci_run_id} was not started by the platform's CI runner" in refused.reason, refused.reason
    # the same with the commit `not-a-commit` (which the old registry took as well)
    with acting_as(member):
        fake_ci = start_ci_run(
            MlflowApi(light_platform.endpoints.mlflow), p.name, "not-a-commit", "main", "shipyard"
        )
    fake = p.training_run(tmp_path, fake_ci, "not-a-commit", data_hash, _always_positive(train), positives,
                          creds=member)  # fmt: skip
    refused = _refused(lambda: p.submit(fake, creds=member))
    assert refused.status == 422 and "was not started by the platform's CI runner" in refused.reason
    assert _versions(light_platform, p.name) == []


def test_the_held_out_split_is_re_derived_not_taken_from_the_run(light_platform, tmp_path):
    p = new_project(light_platform)
    commit, ci_run_id = p.ci_job(tmp_path)  # a genuine job of the runner
    data_hash, train, test, positives = _cherry_picked(p, tmp_path)
    job = p.training_run(tmp_path, ci_run_id, commit, data_hash, _always_positive(train), positives)
    result = p.submit(job)
    verdict = result["verdict"]
    assert result["outcome"] == "refused" and not result["passed"], result
    assert verdict["eval_rows"] == len(test) != len(positives)  # scored on the platform's split
    assert verdict["candidate"]["accuracy"] == pytest.approx((test["target"] == 1).mean(), abs=1e-6)
    assert any("below the platform minimum" in r for r in verdict["reasons"])
    assert _versions(light_platform, p.name) == []


def test_a_made_up_data_hash_is_refused(light_platform, tmp_path):
    p = new_project(light_platform)
    commit, ci_run_id = p.ci_job(tmp_path)
    _data_hash, train, test, _positives = _cherry_picked(p, tmp_path)
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier(max_depth=6, random_state=0).fit(
        train.drop(columns=["target"]), train["target"]
    )
    job = p.training_run(tmp_path, ci_run_id, commit, "0123456789abcdef0123456789abcdef", model, test)
    refused = _refused(lambda: p.submit(job))
    assert refused.status == 422 and "\n" not in refused.reason
    assert (
        "data hash 0123456789abcdef0123456789abcdef names no data in the team's DVC remote" in refused.reason
    )
    assert _versions(light_platform, p.name) == []


def test_a_finished_ci_run_tagged_running_again_is_refused(light_platform, tmp_path):
    p = new_project(light_platform)
    job = p.job(tmp_path, depth=6)
    data_dir = light_platform.data_dir
    # the runner ends the job: its record moves to done/ with its result, the MLflow run says passed
    (record,) = [f for f in (data_dir / "ci" / "running").glob("*.json")
                 if json.loads(f.read_text())["run_id"] == job.ci_run_id]  # fmt: skip
    data = json.loads(record.read_text()) | {"result": {"status": "passed"}}
    (data_dir / "ci" / "done" / record.name).write_text(json.dumps(data))
    os.remove(record)
    with acting_as(light_platform.credentials(RUNNER)):
        finish_ci_run(MlflowApi(light_platform.endpoints.mlflow), job.ci_run_id, "passed")
    with acting_as(light_platform.credentials(MEMBER)):  # the member re-tags it running
        MlflowClient(light_platform.endpoints.mlflow).set_tag(job.ci_run_id, tags.CI_STATUS, "running")
    refused = _refused(lambda: p.submit(job))
    assert refused.status == 422 and "\n" not in refused.reason
    assert f"CI run {job.ci_run_id} has finished" in refused.reason, refused.reason
    assert _versions(light_platform, p.name) == []
