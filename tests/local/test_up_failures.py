"""What `shipyard up` does when it cannot start: a clear message naming the service, the last lines of
its log when it ran, exit 2, and nothing half-started left behind. Real binaries throughout; the
"dies at start" case runs the real Prometheus with a flag it rejects."""

from __future__ import annotations

import json
import re
import socket
import stat

import pytest
from shipyard.local import process

from ..fixtures.embedded_platform import platform_env, shipyard, write_spec

pytestmark = pytest.mark.services


@pytest.fixture
def light(tmp_path):
    """A spec without Label Studio (failures happen before it would matter) and its CLI environment."""
    spec = write_spec(tmp_path / "platform.yaml", label_studio=False)
    data = tmp_path / "data"
    return spec, data, platform_env(data, spec)


def _started_pids(output: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"starting \(pid (\d+)\)", output)]


def _state_pids(data) -> list:
    state = json.loads((data / "state.json").read_text())
    return [rec["pid"] for rec in state["services"].values()]


def test_taken_port_names_the_service_and_starts_nothing(light):
    spec, data, env = light
    from shipyard.spec import load_spec

    port = load_spec(spec).local.ports.mlflow
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = shipyard("up", "--spec", str(spec), "--data-dir", str(data), env=env, timeout=120)
    assert result.returncode == 2
    assert f"mlflow: port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "local.ports.mlflow" in result.stderr and "nothing was started" in result.stderr
    assert "Traceback" not in result.stderr
    assert _started_pids(result.stdout) == []


def test_missing_binary_names_the_service_and_the_fix(light):
    spec, data, env = light
    env = {**env, "SHIPYARD_PROMETHEUS_BIN": "prometheus-not-installed"}
    result = shipyard("up", "--spec", str(spec), "--data-dir", str(data), env=env, timeout=120)
    assert result.returncode == 2
    assert "prometheus: the binary 'prometheus-not-installed' is not installed" in result.stderr
    assert "apt-get install" in result.stderr
    assert _started_pids(result.stdout) == []


def test_service_dying_at_start_shows_its_log_and_stops_the_others(light, tmp_path):
    spec, data, env = light
    wrapper = tmp_path / "broken-prometheus"
    wrapper.write_text('#!/bin/sh\nexec /usr/bin/prometheus --no-such-flag "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    result = shipyard("up", "--spec", str(spec), "--data-dir", str(data),
                      env={**env, "SHIPYARD_PROMETHEUS_BIN": str(wrapper)}, timeout=300)  # fmt: skip
    assert result.returncode == 2
    assert "prometheus failed to start: exited during start (exit code 1)" in result.stderr
    assert "no-such-flag" in result.stderr  # the last lines of prometheus' own log
    assert "stopped what this `up` started" in result.stderr
    started = _started_pids(result.stdout)
    assert len(started) >= 2
    assert not any(process.is_alive(pid) for pid in started), "a half-started service was left running"
    assert _state_pids(data) == [None] * len(_state_pids(data))
    status = json.loads(shipyard("status", "--json", "--data-dir", str(data), env=env).stdout)
    assert status["running"] is False


def test_project_create_with_an_unknown_team_lists_the_known_ones(light):
    spec, data, env = light
    result = shipyard("project", "create", "churn", "--team", "nobody", "--spec", str(spec), env=env)
    assert result.returncode == 2
    assert "--team 'nobody' is not a team" in result.stderr and "known teams: demo, risk" in result.stderr


def test_project_create_needs_a_running_platform(light):
    spec, data, env = light
    result = shipyard("project", "create", "churn", "--team", "demo", "--spec", str(spec), env=env)
    assert result.returncode == 2
    assert "shipyard up" in result.stderr and "Traceback" not in result.stderr
