"""Faults on the CI path and in process supervision, against a real embedded platform (MLflow and the
CI runner; Label Studio, Prometheus and the portal are off: no fault here involves them).

Each test injects one fault the way it happens on a machine and checks that no run is lost or
stranded and that nothing registers after CI failed:
- MLflow down while a push arrives, then back: the run is built and recorded.
- MLflow down when a run ends, and the runner killed meanwhile: the result is recorded on restart.
- The CI queue unwritable: the push is refused and no run is left ``queued``.
- A ``queued`` run whose job file is gone: ``up`` queues it again and it is built.
- The run's log cannot be written (a file-size limit on the runner, as a full disk): the run is
  ``failed`` at step ``log`` and what ``make ci`` would have done next never happens.
- MLflow's parent ``kill -9``-ed while its worker keeps the port: ``status`` says so, ``up`` recovers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import signal
import subprocess
import time

import pytest
import requests
from mlflow.tracking import MlflowClient
from shipyard.ci import list_ci_runs, wait_for_ci_run
from shipyard.ci.queue import STALE_INCOMING_S, CiQueue
from shipyard.local import process
from shipyard.projects import provision_project
from shipyard.records import MlflowApi

from ..fixtures.embedded_platform import start_platform
from .ci_project import commit_and_push, git, makefile, new_project

pytestmark = pytest.mark.services

PROJECT = "faulty"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    p = start_platform(tmp_path_factory.mktemp("faults"), label_studio=False, prometheus=False, portal=False)
    try:
        yield p
    finally:
        p.down()


@pytest.fixture(scope="module")
def repo(platform, tmp_path_factory):
    info = provision_project(platform.spec, platform.endpoints, platform.data_dir, PROJECT, "demo")
    return new_project(tmp_path_factory.mktemp("faulty-work") / "w", PROJECT, info.repo_path)


def _record(platform, name: str) -> dict:
    return json.loads((platform.data_dir / "state.json").read_text())["services"][name]


def _stop(platform, name: str) -> None:
    rec = _record(platform, name)
    assert process.stop(rec["pid"], rec["proc_start"], timeout=10)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout:.0f}s")


def _runs_of(platform, sha: str):
    return [r for r in list_ci_runs(MlflowApi(platform.endpoints.mlflow), PROJECT) if r.commit == sha]


QUIET_CI = "ci:\n\t@echo '==> lint'\n\t@sleep {sleep}\n\t@echo 'lint ok'\n"


def test_mlflow_down_during_a_push_then_back_builds_and_records_the_run(platform, repo):
    _stop(platform, "mlflow")
    sha, out = commit_and_push(repo, makefile(PROJECT), "pushed while MLflow is down")
    assert "MLflow not reachable" in out and "queued" in out
    queue = CiQueue(platform.data_dir / "ci")
    time.sleep(5)  # the runner tries, backs off, and keeps the job
    assert [j.commit for j in queue.pending()] == [sha]
    platform.up()  # MLflow back
    run = wait_for_ci_run(MlflowApi(platform.endpoints.mlflow), PROJECT, commit=sha, timeout=300)
    assert run.status == "passed", platform.cli("ci", "logs", run.run_id).stdout
    assert len(_runs_of(platform, sha)) == 1  # recorded once, built once
    # the runner records the result first, then retires the job: under load the second step can lag
    _wait(lambda: queue.pending() == [] and queue.in_running() == [], 30, "the job retired after its record")


def test_a_result_waits_for_mlflow_and_is_recorded_after_a_runner_restart(platform, repo):
    queue = CiQueue(platform.data_dir / "ci")
    sha, _ = commit_and_push(repo, QUIET_CI.format(sleep=6), "MLflow goes away mid-run")
    job = _wait(
        lambda: next((j for j in queue.in_running() if j.commit == sha and j.pid), None), 120, "start"
    )
    _stop(platform, "mlflow")
    kept = _wait(lambda: next((j for j in queue.in_running() if j.result), None), 120, "result kept")
    assert kept.id == job.id and kept.result["status"] == "passed"
    _stop(platform, "ci-runner")  # and the runner dies while it waits for MLflow
    assert [j.id for j in queue.in_running()] == [job.id]  # the result is still on disk
    platform.up()
    run = wait_for_ci_run(MlflowApi(platform.endpoints.mlflow), PROJECT, run_id=job.run_id, timeout=180)
    assert run.status == "passed" and run.steps == ("lint",)
    _wait(lambda: queue.in_running() == [], 30, "the job retired after its record")


def _remote_head(platform, repo) -> str:
    return git("ls-remote", str(platform.data_dir / "git" / f"{PROJECT}.git"), "main", cwd=repo).split()[0]


def test_an_unwritable_queue_refuses_the_push_and_leaves_no_run_queued(platform, repo):
    # its own first push: run alone (-k), the remote had no `main` and the Makefile was untracked
    before, _ = commit_and_push(repo, QUIET_CI.format(sleep=0), "the commit the refused push builds on")
    assert _remote_head(platform, repo) == before
    incoming = platform.data_dir / "ci" / "incoming"
    aside = incoming.with_name("incoming.aside")
    os.replace(incoming, aside)
    incoming.write_text("not a directory")  # (tests run as root: a mode bit would not stop writes)
    try:
        (repo / "Makefile").write_text(makefile(PROJECT) + "# refused\n")
        git("commit", "-qam", "refused push", cwd=repo)
        sha = git("rev-parse", "HEAD", cwd=repo).strip()
        push = subprocess.run(["git", "push", "shipyard", "main"], cwd=repo, capture_output=True, text=True)
        assert push.returncode != 0
        assert "push refused: the CI queue" in push.stderr and "fix:" in push.stderr
        assert _remote_head(platform, repo) == before  # the commit did not land without its run
        assert _runs_of(platform, sha) == []  # and nothing was recorded for it
    finally:
        incoming.unlink()
        os.replace(aside, incoming)
    git("push", "shipyard", "main", cwd=repo)
    run = wait_for_ci_run(MlflowApi(platform.endpoints.mlflow), PROJECT, commit=sha, timeout=300)
    assert run.status == "passed"


def test_a_queued_run_without_a_job_is_queued_again_by_up(platform, repo):
    queue = CiQueue(platform.data_dir / "ci")
    _stop(platform, "ci-runner")
    sha, out = commit_and_push(repo, QUIET_CI.format(sleep=0), "its job file is lost")
    (run,) = _runs_of(platform, sha)
    assert run.status == "queued"
    for job in queue.pending():
        (queue.queued / f"{job.id}.json").unlink()  # the job is lost; the MLflow run stays queued
    # a younger queued run may still be its hook's, handing the job over: the runner leaves it
    age = (dt.datetime.now(dt.UTC) - run.started_at).total_seconds()
    time.sleep(max(0.0, STALE_INCOMING_S - age + 1))
    platform.up()
    done = wait_for_ci_run(MlflowApi(platform.endpoints.mlflow), PROJECT, run_id=run.run_id, timeout=180)
    assert done.status == "passed" and len(_runs_of(platform, sha)) == 1


LEAK = "faulty-registered-after-failure"
NOISY_CI = (
    "ci:\n\t@echo '==> lint'\n"
    "\t@python -c \"import sys; [print('x' * 1023) for _ in range(3000)]\"\n"
    "\t@sleep 3\n\t@echo '==> register'\n"
    f"\t@python -c \"import mlflow; mlflow.MlflowClient().create_registered_model('{LEAK}')\"\n"
)


def test_a_log_that_cannot_be_written_fails_the_run_and_nothing_registers(platform, repo):
    runner = _record(platform, "ci-runner")["pid"]
    limit = 1024 * 1024  # the log stops growing at 1 MiB (as on a full disk); lint prints 3 MiB
    # the soft limit only: raising a hard limit again needs a capability the test may not have
    old = resource.prlimit(runner, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        sha, _ = commit_and_push(repo, NOISY_CI, "a log the disk cannot hold")
        run = wait_for_ci_run(MlflowApi(platform.endpoints.mlflow), PROJECT, commit=sha, timeout=300)
    finally:
        resource.prlimit(runner, resource.RLIMIT_FSIZE, old)
    assert run.status == "failed" and run.failed_step == "log"
    time.sleep(6)  # longer than lint's sleep: a make ci left running would register now
    names = [m.name for m in MlflowClient(platform.endpoints.mlflow).search_registered_models()]
    assert LEAK not in names
    assert "register" not in run.steps


def _orphaned_group() -> tuple[int, str, list[int]]:
    """A process group whose leader died while its child lives on: what a service's worker processes
    are after their parent's kill -9 or OOM kill (uvicorn workers, Label Studio's, a CI job's make)."""
    leader = subprocess.Popen(["sh", "-c", "sleep 300 & echo $!; wait"], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)  # fmt: skip
    child = int(leader.stdout.readline())
    started = process.start_time(leader.pid)
    leader.kill()
    leader.wait()
    return leader.pid, started, [child]


def _point_record_at(platform, name: str, pid: int, started: str) -> None:
    path = platform.data_dir / "state.json"
    state = json.loads(path.read_text())
    state["services"][name].update(pid=pid, proc_start=started)
    path.write_text(json.dumps(state))


def test_up_recovers_after_a_services_parent_is_killed_and_its_workers_live_on(platform):
    # MLflow is one process (shipyard.local.mlflow_server): kill -9 leaves nothing behind
    rec = _record(platform, "mlflow")
    os.kill(rec["pid"], signal.SIGKILL)
    _wait(lambda: not process.is_alive(rec["pid"], rec["proc_start"]), 10, "MLflow gone")
    assert process.leftover_group(rec["pid"], rec["proc_start"]) == []
    # a service with workers: its record names a group whose leader died and whose child lives
    pid, started, left = _orphaned_group()
    _point_record_at(platform, "mlflow", pid, started)
    assert process.leftover_group(pid, started) == left
    status = {s["name"]: s for s in platform.status()["services"]}["mlflow"]
    assert status["state"] == "died" and "its parent died" in status["detail"]
    out = platform.up()
    assert "stopping what is left of its last run" in out
    assert not any(process.is_alive(p) for p in left)
    assert requests.get(f"{platform.endpoints.mlflow}/health", timeout=5).ok
    assert platform.status()["running"] is True

    rec = _record(platform, "mlflow")
    assert _stop_leaves_nothing(rec)
    pid, started, left = _orphaned_group()
    _point_record_at(platform, "mlflow", pid, started)
    assert "mlflow" in platform.down()  # down stops the orphaned group too
    assert not any(process.is_alive(p) for p in left)
    platform.up()


def _stop_leaves_nothing(rec: dict) -> bool:
    os.kill(rec["pid"], signal.SIGKILL)
    _wait(lambda: not process.is_alive(rec["pid"], rec["proc_start"]), 10, "MLflow gone")
    return process.leftover_group(rec["pid"], rec["proc_start"]) == []


def test_secret_files_are_0600_in_a_0700_data_dir(platform):
    mode = lambda p: oct(p.stat().st_mode & 0o777)  # noqa: E731
    assert mode(platform.data_dir) == "0o700"
    for path in (platform.data_dir / "state.json", platform.data_dir / "mlflow" / "mlflow.db"):
        assert mode(path) == "0o600", path
    identity = platform.data_dir / "identity"
    secret_files = [p for p in identity.rglob("*") if p.is_file()]
    assert len(secret_files) >= 2, "no passwords were made: the check below would prove nothing"
    for path in secret_files:
        assert mode(path) == "0o600", path
        assert path.read_text().strip() not in platform.up_output, f"{path.name}'s secret was printed"
    assert mode(identity) == "0o700" and mode(identity / "passwords") == "0o700"
    assert "API token" not in platform.up_output
