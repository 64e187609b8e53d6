"""The CI runner survives its own write failures (issue 35, items 1 and 2).

MLflow is a double here (a ``finish_ci_run`` stub answering 503, then recording): the real server cannot
be made to answer 503 on cue. A full disk is simulated by patching the write to raise ENOSPC.
"""

from __future__ import annotations

import errno
import io
import json

from shipyard.ci.queue import HEARTBEAT, CiQueue
from shipyard.errors import ServiceUnavailable
from shipyard.local import runner as runner_mod
from shipyard.local import runner_records
from shipyard.local.runner import Runner
from shipyard.local.runner_steps import Worker

ENOSPC = OSError(errno.ENOSPC, "No space left on device")


class _MlflowAnswers503Once:
    """Stands in for ``finish_ci_run``: 503 on the first call, then it records what it was given."""

    def __init__(self, runner: Runner) -> None:
        self.runner, self.calls, self.recorded = runner, 0, []

    def __call__(self, _api, run_id, status, failed_step=None, steps=None):
        self.calls += 1
        if self.calls == 1:
            raise ServiceUnavailable("MLflow", "http://127.0.0.1:1", "HTTP 503")
        self.recorded.append((run_id, status, failed_step))
        self.runner.stopping.set()


def _serve_one_job(runner: Runner, monkeypatch, fail) -> None:
    """Run the serve loop over one queued job whose execution raises ``fail`` once it is running."""
    monkeypatch.setattr(runner, "wait_for_mlflow", lambda: object())
    monkeypatch.setattr(runner, "recover", lambda api: None)
    monkeypatch.setattr(runner, "api", lambda: object())
    monkeypatch.setattr(runner, "_witness_audit_head", lambda: None)
    idle = []

    class _Housekeeper:
        def __init__(self, *_a) -> None:
            pass

        def maybe_run(self) -> None:  # the runner is idle: stop it (old code never recorded again)
            idle.append(1)
            q = runner.queue
            settled = runner.pool.busy() == 0 and not q.pending() and not q.in_running()
            if (settled and len(idle) > 3) or len(idle) > 60:
                runner.stopping.set()

    monkeypatch.setattr(runner_mod, "Housekeeper", _Housekeeper)

    def execute(_worker, job):
        raise fail

    monkeypatch.setattr(Worker, "execute", execute)
    runner.serve()


def test_a_job_the_runner_fails_on_is_recorded_before_it_is_done(tmp_path, monkeypatch):
    # it was moved to ci/done with "result": null when MLflow answered 503, and read "interrupted" later
    runner = Runner(tmp_path, "local")
    job = runner.queue.put("p", "/r", "a" * 40, "main", run_id="run-1")
    mlflow = _MlflowAnswers503Once(runner)
    monkeypatch.setattr(runner_records, "finish_ci_run", mlflow)
    _serve_one_job(runner, monkeypatch, ENOSPC)
    assert mlflow.recorded == [("run-1", "failed", "log")]  # retried after the 503; disk full is `log`
    done = json.loads((runner.queue.done / f"{job.id}.json").read_text())
    assert done["result"]["status"] == "failed" and done["result"]["failed_step"] == "log"
    assert list(runner.queue.running.glob("*.json")) == []


def test_a_stop_while_mlflow_is_down_leaves_the_result_for_recovery(tmp_path, monkeypatch):
    runner = Runner(tmp_path, "local")
    job = runner.queue.put("p", "/r", "a" * 40, "main", run_id="run-1")
    job.result = {"status": "failed", "failed_step": "data-check", "steps": ["data-check"], "duration": 1.0}
    runner.queue.update_queued(job)

    def down(*_a, **_k):
        runner.stopping.set()  # `shipyard down` while MLflow still answers 503
        raise ServiceUnavailable("MLflow", "http://127.0.0.1:1", "HTTP 503")

    monkeypatch.setattr(runner_records, "finish_ci_run", down)
    _serve_one_job(runner, monkeypatch, RuntimeError("a runner bug after the run ended"))
    kept = runner.queue.in_running()
    assert [j.result["failed_step"] for j in kept] == ["data-check"]  # not done: recover records it
    assert list(runner.queue.done.glob("*.json")) == []


def test_recovery_records_a_finished_job_with_its_own_failed_step(tmp_path, monkeypatch):
    runner = Runner(tmp_path, "local")
    job = runner.queue.put("p", "/r", "a" * 40, "main", run_id="run-1")
    runner.queue.start(job)
    job.result = {"status": "failed", "failed_step": "data-check", "steps": ["data-check"], "duration": 1.0}
    runner.queue.update_running(job)
    recorded = []
    monkeypatch.setattr(runner_records, "finish_ci_run", lambda _a, *args, **kw: recorded.append((args, kw)))
    monkeypatch.setattr(runner_records, "list_ci_runs", lambda _api: [])
    monkeypatch.setattr(runner, "api", lambda: object())
    runner.recover(object())
    assert recorded == [(("run-1", "failed"), {"failed_step": "data-check", "steps": ["data-check"]})]
    assert json.loads((runner.queue.done / f"{job.id}.json").read_text())["result"] == job.result


def test_a_job_file_that_cannot_be_written_is_reported_as_disk_full(tmp_path, monkeypatch, capsys):
    runner = Runner(tmp_path, "local")
    runner.queue.put("p", "/r", "a" * 40, "main", run_id="run-1")
    recorded = []

    def record(_api, run_id, status, failed_step=None, steps=None):
        recorded.append((run_id, status, failed_step))
        runner.stopping.set()

    monkeypatch.setattr(runner_records, "finish_ci_run", record)

    def full(_job):
        raise ENOSPC

    monkeypatch.setattr(runner.queue, "update_running", full)  # the job file's write: disk full
    _serve_one_job(runner, monkeypatch, ENOSPC)
    assert recorded == [("run-1", "failed", "log")]
    assert "failed at step `log`: disk full" in capsys.readouterr().out
    assert list(runner.queue.running.glob("*.json")) == []


def test_a_full_disk_never_stops_the_heartbeat_or_the_runners_output(tmp_path, monkeypatch):
    runner = Runner(tmp_path, "local")
    runner.beat()
    heartbeat = tmp_path / "ci" / HEARTBEAT

    def full(*_a, **_k):
        raise ENOSPC

    monkeypatch.setattr(type(heartbeat), "write_text", full)
    runner.beat()  # raised ENOSPC and killed the runner's loop
    assert heartbeat.exists()
    from shipyard.local.runner import _SafeStream  # wraps the runner's stdout/stderr (its main())

    class _FullDisk(io.StringIO):
        def write(self, _text: str) -> int:
            raise ENOSPC

    stream = _SafeStream(_FullDisk())
    print("a line the disk cannot take", file=stream, flush=True)  # the runner's print: no OSError
    stream.flush()
    assert _SafeStream(io.StringIO()).write("x") == 1  # a healthy stream is written as before


def test_the_queue_probe_fails_when_queue_cannot_take_a_job(tmp_path, monkeypatch):
    queue = CiQueue(tmp_path / "ci")
    real_replace = runner_records.os.replace

    def refuse_into_queue(src, dst):
        if str(dst).startswith(str(queue.queued)):
            raise OSError(errno.EACCES, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(runner_records.os, "replace", refuse_into_queue)
    try:
        queue.probe_writable()
        raised = None
    except OSError as exc:
        raised = exc
    assert raised is not None and raised.errno == errno.EACCES
    assert list(queue.incoming.iterdir()) == []  # the probe leaves nothing behind
