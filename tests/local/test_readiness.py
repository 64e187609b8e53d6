"""A platform that is still starting (issue #16, P3): `status` says which services are starting, and a
command that needs MLflow waits for it, boundedly, or says so. No real services: a live `sleep` stands in
for a service's process and a small HTTP server for its health check."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import threading
import time

import pytest
from shipyard.errors import UserError
from shipyard.local import lifecycle, process, readiness
from shipyard.local import (
    status as runtime_status,  # the module (the package re-exports no function named status)
)
from shipyard.platform.layout import DataLayout
from shipyard.platform.resolver import platform_from_data_dir
from shipyard.platform.state import ServiceRecord, State, save_state

from ..fixtures.embedded_platform import write_spec
from ..fixtures.mlflow_server import free_port


@pytest.fixture
def live_process():
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


class Health:
    """``/health`` answers 503 until ``up`` is set, then 200."""

    def __init__(self) -> None:
        self.up = threading.Event()
        health = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200 if health.up.is_set() else 503)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def health():
    h = Health()
    yield h
    h.close()


def _platform(tmp_path, pid: int, url: str, start_seconds: float | None) -> DataLayout:
    spec = write_spec(tmp_path / "platform.yaml")
    layout = DataLayout(tmp_path / "data").ensure()
    rec = ServiceRecord(
        name="mlflow", pid=pid, proc_start=process.start_time(pid), url=url, start_seconds=start_seconds
    )
    state = State(data_dir=str(layout.root), spec_path=str(spec), services={"mlflow": rec})
    state.endpoints = {"platform": "local", "mlflow": url}
    save_state(layout.state_file, state)
    return layout


def test_status_says_starting_while_up_waits_for_the_health_check(tmp_path, live_process):
    layout = _platform(tmp_path, live_process.pid, "http://127.0.0.1:9", start_seconds=None)
    mlflow = runtime_status.status(layout.root).service("mlflow")
    assert (mlflow.state, mlflow.healthy) == ("starting", False)
    assert not runtime_status.status(layout.root).running


def test_a_started_service_that_stopped_answering_is_running_not_starting(tmp_path, live_process):
    layout = _platform(tmp_path, live_process.pid, "http://127.0.0.1:9", start_seconds=12.5)
    mlflow = runtime_status.status(layout.root).service("mlflow")
    assert (mlflow.state, mlflow.healthy) == ("running", False)


def test_a_command_waits_for_a_starting_mlflow(tmp_path, live_process, health):
    layout = _platform(tmp_path, live_process.pid, health.url, start_seconds=None)
    threading.Timer(1.0, health.up.set).start()
    t0 = time.monotonic()
    endpoints = readiness.running_endpoints(platform_from_data_dir(layout.root))
    assert endpoints.mlflow == health.url
    assert time.monotonic() - t0 >= 0.9  # it waited for the health check instead of failing


def test_a_command_says_mlflow_is_still_starting_after_a_bounded_wait(
    tmp_path, live_process, health, monkeypatch
):
    monkeypatch.setattr(readiness, "STARTING_WAIT", 1.0)
    layout = _platform(tmp_path, live_process.pid, health.url, start_seconds=None)
    with pytest.raises(UserError) as info:
        readiness.running_endpoints(platform_from_data_dir(layout.root))
    assert "still starting" in info.value.message
    assert "ready for push" in info.value.fix


def test_a_command_says_so_at_once_when_the_starting_mlflow_dies(tmp_path, live_process, health, monkeypatch):
    monkeypatch.setattr(readiness, "STARTING_WAIT", 30.0)
    layout = _platform(tmp_path, live_process.pid, health.url, start_seconds=None)

    def die() -> None:
        live_process.kill()
        live_process.wait()  # reaped: no zombie left for is_alive to see

    threading.Timer(0.5, die).start()
    t0 = time.monotonic()
    with pytest.raises(UserError) as info:
        readiness.running_endpoints(platform_from_data_dir(layout.root))
    assert "stopped while starting" in info.value.message and "shipyard up" in info.value.fix
    assert time.monotonic() - t0 < 10  # not the whole wait


def test_a_started_mlflow_is_not_waited_for(tmp_path, live_process, health, monkeypatch):
    monkeypatch.setattr(readiness, "STARTING_WAIT", 5.0)
    layout = _platform(tmp_path, live_process.pid, health.url, start_seconds=3.0)
    t0 = time.monotonic()
    readiness.running_endpoints(
        platform_from_data_dir(layout.root)
    )  # health answers 503, but `up` saw it healthy: no wait here
    assert time.monotonic() - t0 < 2.0


def test_a_background_service_is_spawned_at_lower_cpu_priority_and_its_children_inherit_it(tmp_path):
    # Label Studio's start must not take half the CPU from MLflow's (the push path) on a small machine
    assert "label-studio" not in lifecycle.PUSH_SERVICES and "mlflow" in lifecycle.PUSH_SERVICES
    script = "sleep 30 & echo $! > child.pid; wait"
    proc = process.spawn(["sh", "-c", script], tmp_path / "bg.log", {"PATH": "/usr/bin:/bin"}, tmp_path,
                         nice=lifecycle.BACKGROUND_NICE)  # fmt: skip
    normal = process.spawn(["sleep", "30"], tmp_path / "fg.log", {"PATH": "/usr/bin:/bin"}, tmp_path)
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "child.pid").exists() or not (tmp_path / "child.pid").read_text().strip():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child = int((tmp_path / "child.pid").read_text())
        base = os.getpriority(os.PRIO_PROCESS, os.getpid())
        assert os.getpriority(os.PRIO_PROCESS, proc.pid) == base + lifecycle.BACKGROUND_NICE
        assert os.getpriority(os.PRIO_PROCESS, child) == base + lifecycle.BACKGROUND_NICE
        assert os.getpriority(os.PRIO_PROCESS, normal.pid) == base
    finally:
        for p in (proc, normal):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
