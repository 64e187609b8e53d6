"""`shipyard.local.mlflow_server`: MLflow's own `mlflow server`, with its single uvicorn worker run in the
same process instead of a child that imports MLflow again. The real server is started this way by every
embedded platform in tests/local (health, basic auth, stop); these check which commands are taken in."""

from __future__ import annotations

import sys

import pytest
from shipyard.local.mlflow_server import InProcessServer, in_process_uvicorn


def _spawned(calls):
    def original(cmd, *args, **kwargs):
        calls.append(cmd)
        return "spawned"

    return original


def uvicorn_cmd(workers: str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "5000", "--workers", workers,
            "--factory", "mlflow.server.auth:create_app"]  # fmt: skip


def test_a_single_worker_uvicorn_runs_in_this_process_with_mlflows_environment():
    calls: list = []
    exec_cmd = in_process_uvicorn(_spawned(calls))
    env = {"_MLFLOW_SERVER_FILE_STORE": "sqlite:///x.db"}
    server = exec_cmd(uvicorn_cmd("1"), extra_env=env, synchronous=False)
    assert isinstance(server, InProcessServer) and calls == []
    assert server.args == uvicorn_cmd("1")[3:]
    assert server.env == env
    assert server.poll() is None


def test_anything_else_is_spawned_as_mlflow_meant_it():
    calls: list = []
    exec_cmd = in_process_uvicorn(_spawned(calls))
    assert exec_cmd(uvicorn_cmd("4"), synchronous=False) == "spawned"  # workers need uvicorn's supervisor
    assert exec_cmd(uvicorn_cmd("1"), synchronous=True) == "spawned"
    gunicorn = [sys.executable, "-m", "gunicorn", "-b", "127.0.0.1:5000", "-w", "1", "app"]
    assert exec_cmd(gunicorn, synchronous=False) == "spawned"
    assert calls == [uvicorn_cmd("4"), uvicorn_cmd("1"), gunicorn]


def test_a_server_that_cannot_start_ends_the_process_with_its_failure():
    # MLflow's CLI ignores its server's exit code: a taken port would otherwise end `mlflow server` with 0
    server = InProcessServer(["no_such_module_for_the_test:app"], {"SHIPYARD_TEST_MARK": "1"})
    with pytest.raises(SystemExit) as failed:
        server.wait()
    assert failed.value.code not in (0, None) and server.returncode == failed.value.code
