"""Recording CI runs in MLflow, and recovering the jobs a stopped runner (or a dead worker) left.

Nothing is lost when MLflow is down: a job waits (claimed) until its run can be created, and a finished
job keeps its result in ``running/`` (in its job file, and in its reserved result block, which a full
disk still takes) until MLflow has recorded it: retried with backoff, and again when the runner
restarts. A job with a result is recorded with that result, never run again nor marked interrupted.
A claimed job that never started goes back to the queue; one that started without finishing is
marked ``interrupted``.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import traceback
from typing import TYPE_CHECKING

from shipyard.ci.queue import STALE_INCOMING_S, CiQueue, Job
from shipyard.ci.runs import finish_ci_run, get_ci_run, list_ci_runs
from shipyard.errors import MlflowDown, ServiceUnavailable
from shipyard.local import process
from shipyard.records import MlflowApi
from shipyard.service_calls import unreachable_from

if TYPE_CHECKING:
    from shipyard.local.runner import Runner
    from shipyard.local.runner_steps import Worker


def mlflow_down(exc: BaseException) -> bool:
    return isinstance(exc, ServiceUnavailable) or unreachable_from(exc) is not None


def disk_full(exc: BaseException | None) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _recent(started_at: dt.datetime | None) -> bool:
    if started_at is None:
        return False
    return (dt.datetime.now(dt.UTC) - started_at).total_seconds() < STALE_INCOMING_S


def record(runner: Runner, job: Job) -> None:
    """Write a finished job's result to its MLflow run, then retire the job (MlflowDown: later)."""
    assert job.run_id and job.result
    r = job.result
    try:
        finish_ci_run(
            runner.api(),
            job.run_id,
            r["status"],
            failed_step=r.get("failed_step"),
            steps=r.get("steps") or [],
        )
    except Exception as exc:  # any fault: MLflow down is told apart below, the rest fails this run
        if mlflow_down(exc):
            raise MlflowDown(type(exc).__name__) from exc
        raise
    runner.queue.finish(job)


def keep_result(queue: CiQueue, job: Job) -> None:
    """The result on disk before anything else: first in place in its reserved block (a full disk
    takes that), then in the job file. What cannot be written is recorded from memory."""
    try:
        queue.write_result(job)
    except OSError as exc:
        print(f"job {job.id}: its result block could not be written ({exc})", flush=True)
    try:
        queue.update_running(job)
    except OSError as exc:  # a full disk: the block above holds it
        print(f"job {job.id}: its result could not be written to the job file ({exc})", flush=True)


def interrupt(runner: Runner, api: MlflowApi, run_id: str, why: str) -> None:
    steps = list(get_ci_run(api, run_id).steps)
    finish_ci_run(api, run_id, "interrupted", failed_step=steps[-1] if steps else None)
    try:
        with open(runner.queue.log_path(run_id), "a") as log:
            log.write(f"\n==! shipyard ci: run interrupted ({why})\n")
    except OSError:  # a full disk: MLflow has the status, the log misses a line
        pass
    print(f"run {run_id} marked interrupted: {why}", flush=True)


def settle(runner: Runner, job: Job, why: str) -> str:
    """End a claimed job whose worker is gone (a runner that stopped, a worker thread that died):
    recorded with its result when it has one, back in the queue when it never started, otherwise
    interrupted. MlflowDown propagates (the caller retries). Returns what happened."""
    queue = runner.queue
    if job.result is None:
        job.result = queue.read_result(job)
    if job.pid and process.is_alive(job.pid, job.pid_start):
        process.stop(job.pid, job.pid_start, timeout=10)  # the orphaned `make ci` of a dead worker
    if job.result and job.run_id:  # it ran to the end; only MLflow's record was missing
        try:
            record(runner, job)  # with the result and failed step it ended with
        except MlflowDown:
            raise
        except Exception as exc:  # not MLflow being down: retire it with its result, keep serving
            if mlflow_down(exc):
                raise MlflowDown(type(exc).__name__) from exc
            traceback.print_exc()
            queue.finish(job)
        return "recorded"
    if job.result is None and not job.work and not job.pid:  # claimed, never started: its turn again
        queue.unclaim(job)
        print(f"job {job.id}: back in the queue ({why} before it started)", flush=True)
        return "queued"
    if job.run_id and job.result is None:
        interrupt(runner, runner.api(), job.run_id, why)
    if job.work:  # the job's own folder (checkout, HOME, its DVC remote) outside the data dir
        shutil.rmtree(job.work, ignore_errors=True)
    queue.finish(job)
    return "interrupted"


def recover(runner: Runner, api: MlflowApi) -> None:
    """At the runner's start, before any worker: every claim is released (no worker holds one yet),
    every claimed job settled, every MLflow run the queue does not know ended or queued again."""
    queue = runner.queue
    queue.release_all()
    for job in queue.publish_stale():  # a hook that died between staging and queueing
        print(f"job {job.id}: queued (its hook stopped before handing it over)", flush=True)
    for job in queue.in_running():
        settle(runner, job, "the runner stopped during this run")
    known = queue.known_run_ids()
    for run in list_ci_runs(api):
        if run.provider != "shipyard" or run.run_id in known:
            continue
        if run.status == "running":
            interrupt(runner, api, run.run_id, "found running when the runner started")
        elif run.status == "queued" and not _recent(run.started_at):  # its job is gone: queue it again
            # (a run younger than that may belong to a hook still handing its job over)
            repo = runner.data_dir / "git" / f"{run.project}.git"
            if run.commit and repo.is_dir():
                job = queue.stage(run.project, str(repo), run.commit, run.branch)
                job.run_id = run.run_id
                queue.publish(job)
                print(f"run {run.run_id}: queued again (it had no job)", flush=True)
            else:
                interrupt(runner, api, run.run_id, "queued, but its commit or repo is gone")


def abandon(runner: Runner, worker: Worker, job: Job, exc: BaseException | None = None) -> None:
    """End a job the runner failed on: its result is kept and recorded (retried while MLflow is
    down) before it moves to ``done``; a stop meanwhile leaves it in ``running`` for ``recover``."""
    worker.stop_child()  # nothing the run started may go on (and register) after it failed
    if job.result is None:
        step = "log" if disk_full(exc) else "runner"
        job.result = {"status": "failed", "failed_step": step, "steps": [], "duration": 0.0}
    if disk_full(exc):
        print(f"job {job.id}: failed at step `log`: disk full ({exc})", flush=True)
    queued = runner.queue.queued / f"{job.id}.json"
    try:
        if queued.exists():
            os.replace(queued, runner.queue.running / queued.name)
    except OSError:
        pass
    keep_result(runner.queue, job)  # the result survives a restart when the disk lets it
    if job.run_id:
        try:
            runner.with_backoff(lambda: record(runner, job), f"run {job.run_id}")
            return
        except SystemExit:
            raise  # stopping: the job stays in `running` with its result; `recover` records it
        except Exception:  # not MLflow being down: the job is retired with its result on disk
            traceback.print_exc()
    runner.queue.finish(job)
