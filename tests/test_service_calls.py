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
