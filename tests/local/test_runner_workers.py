"""The CI runner's workers (issue 35, item 9 and what the review of it asked): claims from the file
queue, one project at a time in push order with projects in parallel, a worker that dies replaced and
its job settled, recovery with N workers, and a run's result kept through a disk that filled.

MLflow is a double here (``finish_ci_run``/``get_ci_run`` stubs); the full disk is a real 1 MiB tmpfs
when the tests may mount one (root), else the test is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from shipyard.ci.queue import CiQueue
from shipyard.ci.sandbox import JobUser
from shipyard.errors import ServiceUnavailable, UserError
from shipyard.local import runner_records
from shipyard.local.runner import Runner
from shipyard.local.runner_pool import MAX_WORKERS, default_workers
from shipyard.local.runner_steps import Worker
from shipyard.platform.endpoints import Endpoints
from shipyard.spec import parse_spec

REPO = Path(__file__).resolve().parents[2]


def _push(queue: CiQueue, projects: int, per_project: int) -> list:
    jobs = []
    for n in range(per_project):
        for p in range(projects):
            jobs.append(queue.put(f"p{p}", "/r", f"{n:040d}", "main", run_id=f"run-p{p}-{n}"))
    return jobs


# --- claims -----------------------------------------------------------------------------------


def test_concurrent_claims_keep_each_project_in_push_order_and_run_projects_in_parallel(tmp_path):
    queue = CiQueue(tmp_path / "ci")
    jobs = _push(queue, projects=5, per_project=4)
    spans: list[tuple[str, str, float, float]] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < 1.0:
            job = queue.claim(name)
            if job is None:
                time.sleep(0.005)
                continue
            start = time.monotonic()
            time.sleep(0.05)  # the run
            queue.finish(job)
            end = time.monotonic()
            queue.release(job.project)
            with lock:
                spans.append((job.project, job.id, start, end))
            idle_since = time.monotonic()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(s[1] for s in spans) == sorted(j.id for j in jobs)  # each job claimed exactly once
    for project in {j.project for j in jobs}:
        mine = sorted((s for s in spans if s[0] == project), key=lambda s: s[2])
        assert [s[1] for s in mine] == sorted(s[1] for s in mine)  # in push order
        assert all(a[3] <= b[2] for a, b in zip(mine, mine[1:], strict=False))  # never two at once
    overlapping = sum(1 for a in spans for b in spans if a[0] != b[0] and a[2] < b[3] and b[2] < a[3])
    assert overlapping > 0  # different projects did run at the same time
    assert queue.held() == {} and list(queue.queued.glob("*.json")) == []


def test_a_project_is_claimed_by_one_worker_only(tmp_path):
    queue = CiQueue(tmp_path / "ci")
    first, second = queue.put("p", "/r", "a" * 40, "main"), queue.put("p", "/r", "b" * 40, "main")
    other = queue.put("q", "/r", "c" * 40, "main")
    assert queue.claim("w0").id == first.id
    assert queue.claim("w1").id == other.id  # p is held: its second job waits, q goes
    assert queue.claim("w2") is None
    assert "w0" in queue.held()["p"]
    queue.finish(first)
    queue.release("p")
    assert queue.claim("w2").id == second.id


def test_a_later_push_waits_for_an_earlier_one_still_being_handed_over(tmp_path):
    queue = CiQueue(tmp_path / "ci")
    earlier = queue.stage("p", "/r", "a" * 40, "main")  # its hook is still recording it in MLflow
    queue.put("p", "/r", "b" * 40, "main")
    assert queue.claim("w0") is None  # taking the later one first would build out of push order
    queue.publish(earlier)
    assert queue.claim("w0").id == earlier.id


# --- the runner with N workers ----------------------------------------------------------------


def _serve_until_drained(runner: Runner, monkeypatch, execute, timeout: float = 30) -> None:
    monkeypatch.setattr(runner, "wait_for_mlflow", lambda: object())
    monkeypatch.setattr(runner, "recover", lambda api: None)
    monkeypatch.setattr(runner, "api", lambda: object())
    monkeypatch.setattr(runner, "_witness_audit_head", lambda: None)
    monkeypatch.setattr(Worker, "execute", execute)
    deadline = time.monotonic() + timeout

    def stop_when_drained() -> None:
        q = runner.queue
        try:
            while time.monotonic() < deadline:
                if not q.pending() and not q.in_running() and runner.pool.busy() == 0:
                    break
                time.sleep(0.05)
        finally:
            runner.stop()  # whatever happened above: the test never waits on a runner that serves on

    threading.Thread(target=stop_when_drained, daemon=True).start()
    runner.serve()


def test_the_runner_runs_projects_in_parallel_and_each_project_in_push_order(tmp_path, monkeypatch):
    runner = Runner(tmp_path, "local", workers=3)
    jobs = _push(runner.queue, projects=3, per_project=3)
    spans, lock = [], threading.Lock()

    def execute(worker, job):
        start = time.monotonic()
        time.sleep(0.2)
        runner.queue.finish(job)
        with lock:
            spans.append((job.project, job.id, start, time.monotonic(), worker.name))
        return "passed"

    _serve_until_drained(runner, monkeypatch, execute)
    assert sorted(s[1] for s in spans) == sorted(j.id for j in jobs)
    for project in ("p0", "p1", "p2"):
        mine = sorted((s for s in spans if s[0] == project), key=lambda s: s[2])
        assert [s[1] for s in mine] == sorted(s[1] for s in mine)
        assert all(a[3] <= b[2] for a, b in zip(mine, mine[1:], strict=False))
    assert len({s[4] for s in spans}) == 3  # all three workers took jobs
    # 9 runs of 0.2 s: one worker needs 1.8 s; three in parallel about a third of it
    assert max(s[3] for s in spans) - min(s[2] for s in spans) < 1.4


class _WorkerCrash(BaseException):
    """Not an Exception: nothing in the worker's loop catches it, its thread dies (as from a bug)."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # on purpose
def test_a_worker_that_dies_is_replaced_and_its_started_job_is_marked_interrupted(tmp_path, monkeypatch):
    runner = Runner(tmp_path, "local", workers=1)
    dying, after = runner.queue.put("p", "/r", "a" * 40, "main", run_id="run-1"), None
    after = runner.queue.put("p", "/r", "b" * 40, "main", run_id="run-2")
    recorded, ran = [], []
    child = subprocess.Popen(["sleep", "120"], start_new_session=True)  # its `make ci`

    def execute(worker, job):
        ran.append(job.id)
        if job.id == dying.id:
            job.work, worker.child = str(tmp_path / "work-1"), child  # the run had started
            raise _WorkerCrash
        runner.queue.finish(job)
        return "passed"

    monkeypatch.setattr(runner_records, "get_ci_run", lambda _api, _id: SimpleNamespace(steps=("lint",)))
    monkeypatch.setattr(runner_records, "finish_ci_run",
                        lambda _api, run_id, status, failed_step=None, steps=None:
                        recorded.append((run_id, status, failed_step)))  # fmt: skip
    monkeypatch.setattr("shipyard.local.runner_pool.RESTART_DELAY_S", 0.0)
    _serve_until_drained(runner, monkeypatch, execute)
    assert recorded == [("run-1", "interrupted", "lint")]
    assert ran == [dying.id, after.id]  # the project's next push ran after it, on the new worker
    assert child.poll() is not None  # the dead worker's run was stopped
    assert sorted(p.name for p in runner.queue.done.glob("*.json")) == [
        f"{dying.id}.json",
        f"{after.id}.json",
    ]
    assert runner.queue.held() == {}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # on purpose
def test_a_worker_that_dies_before_its_job_started_hands_the_job_back(tmp_path, monkeypatch):
    runner = Runner(tmp_path, "local", workers=2)
    job = runner.queue.put("p", "/r", "a" * 40, "main", run_id="run-1")
    ran = []

    def execute(worker, claimed):
        ran.append(claimed.id)
        if len(ran) == 1:
            raise _WorkerCrash  # e.g. a bug while it set the run up: nothing of the project ran
        runner.queue.finish(claimed)
        return "passed"

    monkeypatch.setattr("shipyard.local.runner_pool.RESTART_DELAY_S", 0.0)
    _serve_until_drained(runner, monkeypatch, execute)
    assert ran == [job.id, job.id]  # queued again, then built
    assert [p.name for p in runner.queue.done.glob("*.json")] == [f"{job.id}.json"]


def test_a_job_whose_run_cannot_start_while_mlflow_is_down_waits_in_the_queue(tmp_path, monkeypatch):
    runner = Runner(tmp_path, "local", workers=2)
    job = runner.queue.put("p", "/r", "a" * 40, "main")
    seen_queued = []

    def execute(worker, claimed):
        if not seen_queued:
            seen_queued.append(False)
            raise runner_records.MlflowDown("no answer from /health")
        seen_queued.append(True)
        runner.queue.finish(claimed)
        return "passed"

    real_release = runner.queue.release

    def release(project):  # right after the failed start: the job is back in its place, unclaimed
        if seen_queued == [False]:
            seen_queued.append(
                [j.id for j in runner.queue.pending()] == [job.id] and not runner.queue.in_running()
            )
        real_release(project)

    monkeypatch.setattr(runner.queue, "release", release)
    _serve_until_drained(runner, monkeypatch, execute)
    assert seen_queued == [False, True, True]
    assert [p.name for p in runner.queue.done.glob("*.json")] == [f"{job.id}.json"]


def test_recovery_queues_a_claimed_job_that_never_started_again_and_frees_its_project(tmp_path, monkeypatch):
    runner = Runner(tmp_path, "local", workers=2)
    waiting = runner.queue.put("p", "/r", "a" * 40, "main", run_id="run-1")
    assert runner.queue.claim("worker-0").id == waiting.id  # then the runner was killed (MLflow was down)
    monkeypatch.setattr(runner_records, "list_ci_runs", lambda _api: [])
    runner.recover(object())
    assert [j.id for j in runner.queue.pending()] == [waiting.id]
    assert runner.queue.held() == {} and runner.queue.in_running() == []


# --- a result survives a disk that filled ------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> None:
    with open(disk / "filler", "wb") as f:
        try:
            while True:
                f.write(b"x" * 65536)
                f.flush()
        except OSError:
            pass
    with pytest.raises(OSError):
        (disk / "probe").write_bytes(b"x" * 8192)


def test_a_result_written_on_a_full_disk_is_recorded_after_a_stop_never_interrupted(
    small_disk, tmp_path, monkeypatch
):
    # the disk filled during `make ci`; MLflow answered 503 at the end and the platform was stopped:
    # the job file could not take the result, so the restarted runner marked the run interrupted
    runner = Runner(small_disk, "local", workers=1)
    job = runner.queue.put("p", "/r", "a" * 40, "main", run_id="run-1")
    worker = Worker(runner, 0)
    endpoints = Endpoints(platform="local", mlflow="http://127.0.0.1:1")  # never called: stubbed below
    platform = SimpleNamespace(endpoints=endpoints)
    monkeypatch.setattr(runner, "platform", lambda: platform)
    monkeypatch.setattr(worker, "_start_record", lambda job, api: "")
    monkeypatch.setattr("shipyard.ci.sandbox.job_user", lambda: JobUser("nobody"))
    monkeypatch.setattr("shipyard.ci.sandbox.job_dir", lambda _d, run_id: tmp_path / "job" / run_id)
    monkeypatch.setattr(worker, "_checkout", lambda job, work, log: True)
    monkeypatch.setattr("shipyard.ci.sandbox.hand_over", lambda work, user: None)
    monkeypatch.setattr(worker, "_env", lambda *a: {})
    monkeypatch.setattr(worker, "_merge_data", lambda *a: None)

    def make_ci(job, work, env, log, api, user=None):
        _fill(small_disk)  # the run's data filled the disk
        return 2, ["lint", "data-check"]

    monkeypatch.setattr(worker, "_make_ci", make_ci)

    def mlflow_503_then_down(*_a, **_k):
        runner.stopping.set()  # `shipyard down` while MLflow answers 503
        raise ServiceUnavailable("MLflow", "http://127.0.0.1:1", "HTTP 503")

    monkeypatch.setattr(runner_records, "finish_ci_run", mlflow_503_then_down)
    monkeypatch.setattr(runner, "api", lambda: object())
    (tmp_path / "job" / "run-1").mkdir(parents=True)
    claimed = runner.queue.claim(worker.name)
    assert claimed.id == job.id
    runner.queue.reserve_result(claimed)  # at claim time, while the disk had room (run_job)
    with pytest.raises(SystemExit):
        worker.execute(claimed)
    assert json.loads((runner.queue.running / f"{job.id}.json").read_text())["result"] is None  # disk full

    restarted = Runner(small_disk, "local", workers=1)
    recorded = []
    monkeypatch.setattr(runner_records, "finish_ci_run",
                        lambda _api, run_id, status, failed_step=None, steps=None:
                        recorded.append((run_id, status, failed_step, steps)))  # fmt: skip
    monkeypatch.setattr(runner_records, "get_ci_run", lambda *_a: pytest.fail("interrupted, not recorded"))
    monkeypatch.setattr(runner_records, "list_ci_runs", lambda _api: [])
    monkeypatch.setattr(restarted, "api", lambda: object())
    restarted.recover(object())
    # with its own failed step (the log's last lines fit in the page it already had)
    assert recorded == [("run-1", "failed", "data-check", ["lint", "data-check"])]
    assert restarted.queue.in_running() == []


# --- N from the spec ----------------------------------------------------------------------------


def test_the_number_of_workers_comes_from_the_spec_or_the_cores(tmp_path):
    from shipyard.local.service import Context
    from shipyard.local.services import ci_runner
    from shipyard.platform.layout import DataLayout

    assert default_workers(2) == 2 and default_workers(1) == 2 and default_workers(12) == 6
    assert default_workers(64) == MAX_WORKERS
    spec = yaml.safe_load((REPO / "platform.yaml").read_text())
    spec["local"]["ci_workers"] = 3
    ctx = Context(spec=parse_spec(yaml.safe_dump(spec)), spec_path=None, layout=DataLayout(tmp_path))
    (svc,) = ci_runner.services(ctx)
    command = svc.command()
    assert command[command.index("--workers") + 1] == "3"
    for bad in (0, True, "many", 65):
        spec["local"]["ci_workers"] = bad
        with pytest.raises(UserError, match="local.ci_workers"):
            parse_spec(yaml.safe_dump(spec))


# --- status tells a runner that died from one that was stopped ------------------------------------


def test_status_shows_a_service_that_died_with_its_logs_last_line(tmp_path):
    from shipyard.local import process
    from shipyard.local.status import status
    from shipyard.platform.layout import DataLayout
    from shipyard.platform.state import ServiceRecord, State, save_state

    from ..fixtures.embedded_platform import write_spec

    spec = write_spec(tmp_path / "platform.yaml")
    layout = DataLayout(tmp_path / "data").ensure()
    log = layout.log("ci-runner")
    log.write_text("runner ready (2 worker(s))\nOSError: [Errno 28] No space left on device\n")
    gone = subprocess.Popen(["sleep", "0.2"])
    started = process.start_time(gone.pid)
    gone.wait()
    state = State(data_dir=str(layout.root), spec_path=str(spec))
    state.services["ci-runner"] = ServiceRecord(
        name="ci-runner", pid=gone.pid, proc_start=started, log=str(log)
    )
    state.services["mlflow"] = ServiceRecord(name="mlflow")  # `down` forgot its pid: stopped on purpose
    save_state(layout.state_file, state)
    st = status(data_dir=layout.root, spec_path=spec)
    runner = st.service("ci-runner")
    assert runner.state == "died" and not runner.healthy
    assert "No space left on device" in runner.detail and "shipyard up" in runner.detail
    assert st.service("mlflow").state == "stopped" and st.running is False
    assert os.path.exists(log)
