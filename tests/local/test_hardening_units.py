"""Process supervision, CI queue/hook/runner fault handling and local file modes, without services."""

from __future__ import annotations

import io
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shipyard.ci import hook
from shipyard.ci.queue import CiQueue, heartbeat_fresh, runner_serving
from shipyard.local import process
from shipyard.local.runner import RunLog, Runner
from shipyard.local.runner_steps import Worker
from shipyard.local.service import Context
from shipyard.local.services import label_studio, prometheus
from shipyard.platform.layout import DataLayout
from shipyard.platform.state import State, save_state
from shipyard.spec import load_spec

from ..fixtures.embedded_platform import write_spec


def _wait_until(predicate, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_group_that_outlived_its_parent_is_found_and_stopped(tmp_path):
    proc = process.spawn(["sh", "-c", "sleep 120 & sleep 120 & wait"], tmp_path / "svc.log", os.environ)
    started = process.start_time(proc.pid)
    assert _wait_until(lambda: len(process.group_members(proc.pid)) >= 3)
    os.kill(proc.pid, signal.SIGKILL)  # only the parent, as `kill -9 <pid>` does
    proc.wait()
    left = process.leftover_group(proc.pid, started)
    assert len(left) == 2 and not process.is_alive(proc.pid, started)
    assert process.stop(proc.pid, started, timeout=5) is True
    assert not any(process.is_alive(pid) for pid in left)
    assert process.stop(proc.pid, started, timeout=5) is False  # nothing left: nothing to stop


def test_a_reused_pid_is_never_taken_for_our_group():
    me = os.getpid()
    assert process.leftover_group(me, "1") == []  # alive, but started at another time: not ours


def test_the_owner_of_a_listening_port_is_found():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert process.port_owner(port) == os.getpid()
    assert process.port_owner(port) is None


def test_pre_receive_refuses_when_the_queue_cannot_be_written(tmp_path, monkeypatch, capsys):
    ci = tmp_path / "ci"
    ci.mkdir()
    (ci / "incoming").write_text("a file where the queue's folder belongs")
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{'0' * 40} {'a' * 40} refs/heads/main\n"))
    rc = hook.main(["--data-dir", str(tmp_path), "--project", "p", "--repo", "/r", "--check"])
    out = capsys.readouterr().out
    assert rc == 1 and "push refused: the CI queue" in out and "fix:" in out


def test_post_receive_records_nothing_when_the_job_cannot_be_written(tmp_path, monkeypatch, capsys):
    recorded = []
    monkeypatch.setattr(hook, "_queued_run", lambda *a: recorded.append(a) or "run-1")

    def full(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(CiQueue, "stage", full)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{'0' * 40} {'a' * 40} refs/heads/main\n"))
    rc = hook.main(["--data-dir", str(tmp_path), "--project", "p", "--repo", "/r"])
    out = capsys.readouterr().out
    assert rc == 1 and "NOT queued" in out and "No space left on device" in out
    assert recorded == []  # no MLflow run that no job would ever run


def test_post_receive_stages_before_it_records(tmp_path, monkeypatch, capsys):
    seen = []

    def record(data_dir, project, commit, branch):
        seen.append([p.name for p in (tmp_path / "ci" / "incoming").glob("*.json")])
        return "run-1"

    monkeypatch.setattr(hook, "_queued_run", record)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{'0' * 40} {'a' * 40} refs/heads/main\n"))
    assert hook.main(["--data-dir", str(tmp_path), "--project", "p", "--repo", "/r"]) == 0
    assert len(seen[0]) == 1  # the entry was on disk when the run was recorded
    jobs = CiQueue(tmp_path / "ci").pending()
    assert [(j.run_id, j.commit) for j in jobs] == [("run-1", "a" * 40)]
    assert list((tmp_path / "ci" / "incoming").glob("*.json")) == []


def test_a_staged_job_of_a_dead_hook_is_queued_later(tmp_path):
    queue = CiQueue(tmp_path)
    job = queue.stage("p", "/r", "b" * 40, "main")
    assert queue.publish_stale(max_age=3600) == [] and queue.pending() == []
    assert [j.id for j in queue.publish_stale(max_age=0)] == [job.id]
    assert [j.id for j in queue.pending()] == [job.id]


def test_a_log_that_cannot_be_written_is_reported_not_raised():
    log = RunLog(Path("/dev/full"))
    log.write("a line\n")  # line-buffered: the write reaches the device and fails (ENOSPC)
    log.write("another\n")
    log.close()
    assert log.error is not None and log.error.errno == 28


def test_stopping_a_run_stops_its_whole_process_group(tmp_path):
    worker = Worker(Runner(tmp_path, "local"), 0)
    worker.child = subprocess.Popen(["sh", "-c", "sleep 120 & sleep 120"], start_new_session=True)
    assert _wait_until(lambda: len(process.group_members(worker.child.pid)) >= 2)
    members = process.group_members(worker.child.pid)
    worker.stop_child()
    assert _wait_until(lambda: not any(process.is_alive(pid) for pid in members), 5)


def test_the_runner_is_healthy_only_once_its_recovery_ran(tmp_path, monkeypatch):
    # a run started right after `up` said "ready" must not be taken for a crashed runner's leftover
    # (it was: the runner beat while waiting, `up` called it healthy, then recovery interrupted it)
    import threading

    recovering, release = threading.Event(), threading.Event()
    runner = Runner(tmp_path, "local")
    monkeypatch.setattr(runner, "wait_for_mlflow", lambda: object())
    monkeypatch.setattr(runner, "recover", lambda api: (recovering.set(), release.wait(10)))
    monkeypatch.setattr(runner.queue, "claim", lambda _owner: runner.stopping.set())
    runner.beat()
    serve = threading.Thread(target=runner.serve, daemon=True)
    serve.start()
    assert recovering.wait(10)
    assert heartbeat_fresh(runner.queue.root) and not runner_serving(runner.queue.root)
    release.set()
    serve.join(10)
    assert runner_serving(runner.queue.root)


def test_state_file_and_data_dir_modes(tmp_path):
    layout = DataLayout(tmp_path / "data").ensure()
    assert stat.S_IMODE(layout.root.stat().st_mode) == 0o700
    save_state(layout.state_file, State(data_dir=str(layout.root)))
    assert stat.S_IMODE(layout.state_file.stat().st_mode) == 0o600
    (layout.mlflow / "mlflow.db").write_text("")
    (layout.mlflow / "mlflow.db").chmod(0o644)  # as an older Shipyard left it
    layout.secure()
    assert stat.S_IMODE((layout.mlflow / "mlflow.db").stat().st_mode) == 0o600


def test_services_start_with_a_private_umask(tmp_path):
    proc = process.spawn(["sh", "-c", "umask"], tmp_path / "u.log", os.environ)
    proc.wait()
    assert (tmp_path / "u.log").read_text().strip().endswith("0077")


def test_prometheus_lifecycle_api_off_and_label_studio_signup_off(tmp_path):
    spec = load_spec(write_spec(tmp_path / "platform.yaml"))
    ctx = Context(spec=spec, spec_path=None, layout=DataLayout(tmp_path / "data"))
    prom = next(s for s in prometheus.services(ctx) if s.name == "prometheus")
    assert not any("enable-lifecycle" in arg for arg in prom.command())
    (ls,) = label_studio.services(ctx)
    assert ls.env["LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK"] == "true"


@pytest.mark.parametrize("value", ["http://x\nEVIL=1", "a\rb", "tab\there", "bell\x07"])
def test_env_lines_refuse_control_characters(value):
    from shipyard.errors import UserError
    from shipyard.platform.stack_outputs import env_lines

    with pytest.raises(UserError, match="control character"):
        env_lines({"MLFLOW_TRACKING_URI": value})
