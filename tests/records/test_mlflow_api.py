"""The one MLflow client against a real MLflow server: listings page to the end, writes land, and
every failure is one of the error family (never a traceback, never minutes of retries)."""

from __future__ import annotations

import time
import uuid

import pytest
from shipyard import tags
from shipyard.errors import BadInput, NotFound, ServiceUnavailable
from shipyard.records import MlflowApi, read, write
from shipyard.records.filters import experiment_filter

from tests.fixtures.mlflow_server import free_port

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def api(mlflow_server) -> MlflowApi:
    return MlflowApi(mlflow_server.url, timeout=30)


def _project(api: MlflowApi, name: str, team: str = "risk") -> str:
    values = write.project_tags(name, team, "low", "o@example.com", labeling=False)
    return api.create_experiment(name, values)


def test_every_listing_pages_to_the_end(api):
    prefix = f"pg{uuid.uuid4().hex[:6]}-"
    ids = [_project(api, f"{prefix}{i}") for i in range(7)]
    found = api.search_experiments(experiment_filter(prefix), max_results=3)  # 3 pages
    assert sorted(e["experiment_id"] for e in found) == sorted(ids)
    project = read.find_project(api, f"{prefix}0")
    for i in range(5):
        write.create_ci_run(api, project, f"c{i:07d}", "main", "shipyard", "queued")
        time.sleep(0.01)
    runs = api.search_runs([project.experiment_id], max_results=2)
    assert len(runs) == 5
    assert len(read.list_ci_runs(api, [project])) == 5  # nothing caps


def test_ci_run_written_and_read_back(api):
    name = f"ci{uuid.uuid4().hex[:6]}"
    _project(api, name, team="fraud")
    project = read.find_project(api, name)
    assert project.team == "fraud" and project.risk_tier == "low"
    run_id = write.create_ci_run(api, project, "abcdef1234", "main", "github", "running")
    write.set_ci_progress(api, run_id, "running", ["lint"])
    write.end_ci_run(api, run_id, "failed", failed_step="test", steps=["lint", "test"])
    run = read.get_ci_run(api, run_id)
    assert (run.project, run.status, run.steps, run.failed_step) == (name, "failed", ("lint", "test"), "test")
    assert run.finished and run.ended_at is not None and run.duration_s is not None
    raw = api.run(run_id)
    assert raw["info"]["status"] == "FAILED"
    assert {t["key"]: t["value"] for t in raw["data"]["tags"]}[tags.TEAM] == "fraud"


def test_not_found_and_bad_input(api):
    with pytest.raises(NotFound):
        api.run("0" * 32)
    assert api.experiment_by_name(f"nothing-{uuid.uuid4().hex}") is None
    assert read.find_project(api, f"nothing-{uuid.uuid4().hex}") is None
    with pytest.raises(BadInput):
        api.search_experiments("this is not a filter ===")


def test_a_dead_server_is_service_unavailable_at_once():
    api = MlflowApi(f"http://127.0.0.1:{free_port()}", timeout=5)
    start = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        api.search_experiments()
    assert caught.value.service == "MLflow" and time.monotonic() - start < 5
    assert not api.healthy()


def test_no_url_is_service_unavailable():
    with pytest.raises(ServiceUnavailable, match="no tracking URL"):
        MlflowApi(None)


def test_credentials_go_with_every_request(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
    assert MlflowApi("http://127.0.0.1:1").session.auth == ("alice", "s3cret")
    assert MlflowApi("http://127.0.0.1:1", username="bob", password="pw").session.auth == ("bob", "pw")
