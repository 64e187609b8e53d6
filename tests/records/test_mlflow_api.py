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

from tests.fixtures.mlflow_server import free_port, start_mlflow_server, stop_mlflow_server

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


def test_metrics_logged_in_one_batch(api):
    experiment_id = _project(api, f"m{uuid.uuid4().hex[:6]}")
    run_id = api.create_run(experiment_id, "train", {})["info"]["run_id"]
    api.log_metrics(run_id, {"f1": 0.91, "accuracy": 0.875})
    api.log_metrics(run_id, {})  # nothing to log: no request
    metrics = {m["key"]: m["value"] for m in api.run(run_id)["data"]["metrics"]}
    assert metrics == {"f1": 0.91, "accuracy": 0.875}


def _artifact_files(api: MlflowApi, run_id: str, path: str) -> list[str]:
    return [f["path"] for f in api.get("artifacts/list", run_id=run_id, path=path).get("files", [])]


def test_an_artifact_goes_over_rest_to_a_proxying_server_and_through_mlflows_client_otherwise(api, tmp_path):
    sample = tmp_path / "test.csv"
    sample.write_text("a,b\n1,2\n")
    # the fixture's server stores artifacts at a path of its own: MLflow's client writes there
    experiment_id = _project(api, f"a{uuid.uuid4().hex[:6]}")
    run = api.create_run(experiment_id, "train", {})
    assert not run["info"]["artifact_uri"].startswith("mlflow-artifacts:")
    api.log_artifact(run["info"]["run_id"], str(sample), "eval")
    assert _artifact_files(api, run["info"]["run_id"], "eval") == ["eval/test.csv"]
    # a proxying server (the embedded platform's and the clusters'): one PUT, no MLflow import needed
    server = start_mlflow_server(tmp_path / "proxied", proxied_artifacts=True)
    try:
        proxied = MlflowApi(server.url, timeout=30)
        experiment_id = _project(proxied, f"p{uuid.uuid4().hex[:6]}")
        run = proxied.create_run(experiment_id, "train", {})
        assert run["info"]["artifact_uri"].startswith("mlflow-artifacts:")
        proxied.log_artifact(run["info"]["run_id"], str(sample), "eval/data")
        assert _artifact_files(proxied, run["info"]["run_id"], "eval/data") == ["eval/data/test.csv"]
        stored = list((tmp_path / "proxied" / "artifacts").rglob("test.csv"))
        assert len(stored) == 1 and stored[0].read_text() == sample.read_text()
    finally:
        stop_mlflow_server(server)


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


def test_a_dropped_connection_is_retried_for_reads_only():
    """A server that drops the first connection of each request kind (as uvicorn does when it restarts a
    worker mid-request): a search is retried and answers, a write is not repeated."""
    import http.server
    import threading

    seen: list[str] = []

    class Flaky(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            seen.append(self.path)
            if seen.count(self.path) == 1:
                self.close_connection = True
                self.connection.shutdown(2)  # drop it without an answer
                return
            body = b'{"experiments": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = MlflowApi(f"http://127.0.0.1:{server.server_port}", timeout=5)
        assert api.search_experiments() == []
        with pytest.raises(ServiceUnavailable):
            api.create_experiment("x", {})
        assert seen.count("/api/2.0/mlflow/experiments/search") == 2
        assert seen.count("/api/2.0/mlflow/experiments/create") == 1
    finally:
        server.shutdown()
