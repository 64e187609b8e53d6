"""Bounded service calls: MLflow's own client against a stopped server ends in seconds, not minutes,
and the CLI names the service and its URL."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from shipyard import service_calls
from shipyard.errors import UserError

# with MLflow's defaults (7 retries, backoff factor 2) the same call takes about four minutes
CALL = (
    "import mlflow\n"
    "try:\n"
    "    mlflow.MlflowClient('http://127.0.0.1:9').search_experiments()\n"
    "except Exception as exc:\n"
    "    print(type(exc).__name__)\n"
)


def test_mlflow_client_is_bounded_by_the_shipyard_settings(monkeypatch):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_HTTP_REQUEST")}
    env.update(service_calls.mlflow_client_env())
    env["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] = "0"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", CALL], env=env, capture_output=True, text=True, timeout=120)
    assert "MlflowException" in proc.stdout, proc.stderr
    # 2 retries with backoff factor 1: about 3 s of waiting; a generous hang guard for a loaded machine
    assert time.monotonic() - start < 100


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(service_calls.TIMEOUT_ENV, "3")
    monkeypatch.setenv(service_calls.RETRIES_ENV, "0")
    assert service_calls.mlflow_client_env()["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "3"
    assert service_calls.mlflow_client_env()["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "0"
    environ = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}
    service_calls.bound_mlflow_calls(environ)
    assert environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "60"  # a user's own setting wins
    assert environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "0"
    monkeypatch.setenv(service_calls.RETRIES_ENV, "100")
    with pytest.raises(UserError, match="outside 0..10"):
        service_calls.retries()


def test_an_unreachable_service_is_found_in_an_exception_chain():
    import requests

    try:
        requests.get("http://127.0.0.1:9/api", timeout=2)
    except requests.RequestException as exc:
        try:
            raise RuntimeError("wrapped") from exc
        except RuntimeError as wrapped:
            found = service_calls.unreachable_from(wrapped)
    assert found is not None and found.url == "http://127.0.0.1:9"
    assert service_calls.unreachable_from(ValueError("a bug")) is None


def test_the_record_layer_follows_the_service_timeout_against_a_server_that_never_answers(monkeypatch):
    import socket

    from shipyard.errors import ServiceUnavailable
    from shipyard.records import MlflowApi
    from shipyard.records.mlflow_api import DEFAULT_TIMEOUT

    monkeypatch.delenv(service_calls.TIMEOUT_ENV, raising=False)
    assert MlflowApi("http://127.0.0.1:9").timeout == DEFAULT_TIMEOUT  # whole-platform reads: long
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setenv(service_calls.TIMEOUT_ENV, "0.5")
        api = MlflowApi(url)
        assert api.timeout == 0.5
        start = time.monotonic()
        with pytest.raises(ServiceUnavailable) as caught:
            api.call("GET", "experiments/search", {"max_results": 1})
        assert time.monotonic() - start < 30  # 0.5 s, not the 60 s default (a hang guard, not a timing)
        assert caught.value.url == url


# --- one timeout policy, from the spec (issue 35, item 4) -----------------------------------------


@pytest.fixture
def silent_url():
    """A socket that accepts connections (the backlog) and never answers."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        yield f"http://127.0.0.1:{silent.getsockname()[1]}"


@pytest.fixture
def healthy_mlflow():
    """Answers /health only: what `model promote` asks before it calls the registry."""
    import http.server
    import threading

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _spec_with_bound(tmp_path, seconds: float) -> str:
    """A cluster platform's spec (no embedded platform to start) with the service timeout ``seconds``."""
    import yaml

    repo = __import__("pathlib").Path(__file__).resolve().parents[1]
    data = yaml.safe_load((repo / "examples" / "platform.kubernetes.yaml").read_text())
    data["services"]["calls"] = {"timeout_seconds": seconds, "retries": 0}
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _clean_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SHIPYARD_"))}
    return {**env, "SHIPYARD_HOME": str(tmp_path / "home"), "MLFLOW_DISABLE_TELEMETRY": "true", **extra}


@pytest.mark.parametrize(
    "argv",
    [["project", "list"], ["cost", "report"], ["cost", "budgets"]],
    ids=["project-list", "cost-report", "cost-budgets"],
)
def test_a_silent_mlflow_is_named_within_the_specs_timeout(tmp_path, silent_url, argv):
    from tests.conftest import run_cli

    spec = _spec_with_bound(tmp_path, 1)
    # the hang guard: today these wait 60 s per call; the bound is 1 s (no timing asserted beyond it)
    proc = run_cli(
        *argv, "--spec", spec, env=_clean_env(tmp_path, MLFLOW_TRACKING_URI=silent_url), timeout=50
    )
    assert proc.returncode == 2, proc.stderr
    assert f"MLflow at {silent_url}" in proc.stderr
    assert "no answer within 1s (services.calls.timeout_seconds)" in proc.stderr
    assert "fix:" in proc.stderr and "Traceback" not in proc.stderr


def test_a_silent_registry_is_named_within_the_specs_timeout(tmp_path, silent_url, healthy_mlflow):
    from tests.conftest import run_cli

    env = _clean_env(
        tmp_path,
        MLFLOW_TRACKING_URI=healthy_mlflow,
        SHIPYARD_REGISTRY_URL=silent_url,
        MLFLOW_TRACKING_USERNAME="approver@example.com",
        MLFLOW_TRACKING_PASSWORD="pw",
    )
    spec = _spec_with_bound(tmp_path, 1)
    # today: 600 s (registry/client.py's own TIMEOUT); the hang guard is far below that
    proc = run_cli("model", "promote", "m", "1", "--reason", "a test", "--spec", spec, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"the registry service at {silent_url}" in proc.stderr
    assert "no answer within 1s (services.calls.timeout_seconds)" in proc.stderr


def test_the_environment_overrides_the_spec_and_is_named(tmp_path, silent_url):
    from tests.conftest import run_cli

    spec = _spec_with_bound(tmp_path, 30)
    env = _clean_env(tmp_path, MLFLOW_TRACKING_URI=silent_url, SHIPYARD_SERVICE_TIMEOUT="1")
    proc = run_cli("project", "list", "--spec", spec, env=env, timeout=50)
    assert proc.returncode == 2 and "no answer within 1s ($SHIPYARD_SERVICE_TIMEOUT)" in proc.stderr


def test_ci_jobs_get_the_specs_mlflow_bounds(tmp_path, monkeypatch):
    """A job's training calls MLflow with MLflow's own client: without these it retries for minutes."""
    from shipyard.local.runner import Runner
    from shipyard.local.runner_steps import Worker
    from shipyard.platform.endpoints import Endpoints
    from shipyard.spec import load_spec

    for key in [k for k in os.environ if k.startswith("MLFLOW_HTTP_REQUEST")]:
        monkeypatch.delenv(key)
    monkeypatch.delenv(service_calls.TIMEOUT_ENV, raising=False)
    monkeypatch.delenv(service_calls.RETRIES_ENV, raising=False)
    monkeypatch.setattr(service_calls, "_policy", None)
    service_calls.use_spec(load_spec(_spec_with_bound(tmp_path, 7)))
    env = Worker(Runner(tmp_path, "local"), 0)._env(Endpoints(platform="local"), "demo", "p", "r" * 32)
    assert env["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "7"
    assert env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "0"


def test_the_spec_has_one_policy_with_sane_defaults():
    from shipyard.spec.services import ServiceCalls

    calls = ServiceCalls()
    assert (
        calls.timeout_seconds == service_calls.DEFAULT_TIMEOUT
        and calls.retries == service_calls.DEFAULT_RETRIES
    )
    with pytest.raises(ValueError):
        ServiceCalls(timeout_seconds=0)


def test_the_portal_adopts_the_specs_policy(tmp_path, monkeypatch):
    from shipyard.platform.portal import portal_settings

    monkeypatch.setattr(service_calls, "_policy", None)
    monkeypatch.delenv(service_calls.TIMEOUT_ENV, raising=False)
    spec = _spec_with_bound(tmp_path, 4)
    portal_settings({"MLFLOW_TRACKING_URI": "http://127.0.0.1:9", "SHIPYARD_SPEC": spec})
    assert service_calls.timeout() == 4
