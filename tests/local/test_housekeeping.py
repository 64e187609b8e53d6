"""What runs leave behind is tidied (issue 35, item 8): an interrupted run's checkout in `ci/work`, finished
runs' job files and logs past the spec's retention, and service logs (`mlflow.log`) past their size.
Real directories and files; the runner's own loop is run with MLflow and its crash recovery left out
(they need a platform; the loop's idle branch is what tidies)."""

from __future__ import annotations

import json
import os
import time

import pytest
import yaml
from shipyard.ci.queue import CiQueue
from shipyard.local.housekeeping import Housekeeper, rotate_log, tidy
from shipyard.local.runner import Runner
from shipyard.spec.loader import parse_spec
from shipyard.spec.local import Retention

from tests.conftest import REPO

DAY = 86_400


def _job(queue: CiQueue, folder, run_id: str, result=None) -> None:
    body = {"id": f"{time.time_ns():020d}-{run_id}", "project": "p", "repo": "r", "commit": "c" * 40,
            "branch": "main", "queued_at": time.time(), "run_id": run_id, "result": result}  # fmt: skip
    (folder / f"{body['id']}.json").write_text(json.dumps(body))


def _age(path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def test_checkouts_of_runs_that_no_longer_run_are_removed(tmp_path):
    queue = CiQueue(tmp_path / "ci")
    for run_id in ("interrupted", "running", "recorded"):
        (queue.work / run_id / "src").mkdir(parents=True)
    _job(queue, queue.running, "running")
    _job(queue, queue.running, "recorded", result={"status": "passed"})  # ran to the end, record pending
    done = tidy(tmp_path, Retention())
    assert sorted(done.checkouts) == ["interrupted", "recorded"]
    assert [p.name for p in queue.work.iterdir()] == ["running"]


def test_finished_runs_and_their_logs_go_after_the_specs_retention(tmp_path):
    spec = yaml.safe_load((REPO / "platform.yaml").read_text())
    spec["local"]["retention"] = {"ci_runs_days": 7}
    retention = parse_spec(yaml.safe_dump(spec)).local.retention
    queue = CiQueue(tmp_path / "ci")
    _job(queue, queue.done, "old")
    _job(queue, queue.done, "new")
    _job(queue, queue.queued, "waiting")
    for run_id in ("old", "new", "waiting"):
        queue.log_path(run_id).write_text("log\n")
    old_job = next(p for p in queue.done.iterdir() if "old" in p.name)
    for path in (old_job, queue.log_path("old"), queue.log_path("waiting")):
        _age(path, 10)
    done = tidy(tmp_path, retention)
    assert done.runs == [old_job.name] and done.logs == ["old.log"]
    assert sorted(p.name for p in queue.logs.iterdir()) == [
        "new.log",
        "waiting.log",
    ]  # a waiting run's log stays
    assert len(list(queue.done.iterdir())) == 1


def test_a_service_log_is_rotated_while_its_process_writes_to_it(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "mlflow.log"
    with open(path, "ab", buffering=0) as writer:  # as `shipyard up` opens a service's log
        for round_ in range(4):
            writer.write(f"round {round_}\n".encode() + b"x" * (1024 * 1024 + 1))
            assert tidy(tmp_path, Retention(log_max_mb=1, logs_kept=2)).rotated == ["mlflow.log"]
        writer.write(b"after\n")
    assert path.read_bytes() == b"after\n"  # the writer goes on at the start of the emptied file
    assert path.with_name("mlflow.log.1").read_bytes().startswith(b"round 3\n")
    assert path.with_name("mlflow.log.2").read_bytes().startswith(b"round 2\n")
    assert not path.with_name("mlflow.log.3").exists()  # logs_kept copies, no more


def test_a_small_log_is_left_alone(tmp_path):
    path = tmp_path / "x.log"
    path.write_text("small\n")
    assert rotate_log(path, 1024, 3) is False and path.read_text() == "small\n"


def test_the_runner_tidies_when_it_is_idle(tmp_path, monkeypatch):
    runner = Runner(tmp_path, "local")
    stale = runner.queue.work / "interrupted-run"
    stale.mkdir()
    monkeypatch.setattr(runner, "wait_for_mlflow", lambda: None)  # no platform here: see the docstring
    monkeypatch.setattr(runner, "recover", lambda api: None)

    def one_idle_turn(_timeout=None):
        runner.stopping.set()
        return True

    monkeypatch.setattr(runner.stopping, "wait", one_idle_turn)
    runner.serve()
    assert not stale.exists()


def test_the_housekeeper_runs_at_most_every_interval(tmp_path):
    keeper = Housekeeper(tmp_path, lambda: None, every_s=3600)
    CiQueue(tmp_path / "ci")
    assert keeper.maybe_run() is not None and keeper.maybe_run() is None


@pytest.mark.parametrize("bad", [{"ci_runs_days": 0}, {"logs_kept": True}, {"log_max_mb": "big"}])
def test_retention_in_the_spec_is_checked(bad):
    from shipyard.errors import UserError

    spec = yaml.safe_load((REPO / "platform.yaml").read_text())
    spec["local"]["retention"] = bad
    with pytest.raises(UserError, match="local.retention"):
        parse_spec(yaml.safe_dump(spec))
