"""The runner's workers: N threads, each claiming a job (ci.queue.CiQueue.claim), running and recording
it, then releasing its project. The runner's main thread supervises them: a worker thread that died
is replaced, and the new one first settles the job the dead one held (recorded when it has a result,
queued again when it never started, otherwise interrupted), then claims as usual.

Threads, not processes: a worker spends its time waiting on its ``make ci`` child and on MLflow; the
CPU work is in the children.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from typing import TYPE_CHECKING

from shipyard.ci.queue import Job
from shipyard.local.runner_records import MlflowDown, abandon, settle
from shipyard.local.runner_steps import Worker

if TYPE_CHECKING:
    from shipyard.local.runner import Runner

MAX_WORKERS = 8  # more parallel runs than this overload the one MLflow server of an embedded platform
BACKOFF_MAX_S = 30.0  # the longest wait between two tries to reach MLflow
RESTART_DELAY_S = 2.0  # a worker that keeps dying is restarted at most this often


def default_workers(cpus: int | None = None) -> int:
    """Half the machine's cores (a CI run keeps about one core busy; MLflow and the other services
    need the rest), at least 2 (a run waits on MLflow and git often enough to share a core), at most
    MAX_WORKERS."""
    cpus = cpus if cpus is not None else (os.cpu_count() or 2)
    return max(2, min(MAX_WORKERS, cpus // 2))


def run_job(runner: Runner, worker: Worker, job: Job) -> bool:
    """Execute a claimed job; any runner fault ends it with its result recorded (abandon). False when
    MLflow did not answer before the run started: the job is back in its place in the queue."""
    try:
        runner.queue.reserve_result(job)  # while the disk has room: the result's block
        worker.execute(job)
    except SystemExit:
        raise
    except MlflowDown as exc:  # only the run's start raises it: nothing of the project ran
        runner.queue.unclaim(job)
        print(f"job {job.id}: MLflow is unreachable ({exc}); it waits in the queue", flush=True)
        return False
    except Exception as exc:  # keep serving the queue; the run itself is ended here
        traceback.print_exc()
        abandon(runner, worker, job, exc)
    return True


def work(runner: Runner, worker: Worker) -> None:
    """A worker's loop. An exception that escapes it kills the thread: the supervisor replaces it."""
    if worker.inherited is not None:
        job, worker.job, worker.inherited = worker.inherited, worker.inherited, None
        what = runner.with_backoff(lambda: settle(runner, job, "its worker died"), f"job {job.id}")
        print(f"{worker.name}: the job {job.id} of the worker that died: {what}", flush=True)
        runner.queue.release(job.project)
        worker.job = None
    delay = 1.0  # the wait after MLflow did not answer, doubling to BACKOFF_MAX_S
    while not runner.stopping.is_set():
        with runner.claim_gate:
            job = runner.queue.claim(worker.name)
        if job is None:
            runner.stopping.wait(0.5)
            continue
        worker.job = job
        try:
            started = run_job(runner, worker, job)
        except SystemExit:
            return  # stopping: the job stays claimed in `running/`; the next start settles it
        runner.queue.release(job.project)
        worker.job = None
        if started:
            delay = 1.0
        elif runner.stopping.wait(delay):
            return
        else:
            delay = min(delay * 2, BACKOFF_MAX_S)


class WorkerPool:
    def __init__(self, runner: Runner, size: int) -> None:
        self.runner, self.size = runner, size
        self.workers: list[Worker] = []

    def start(self) -> None:
        self.workers = [self._launch(Worker(self.runner, i)) for i in range(self.size)]

    def _launch(self, worker: Worker) -> Worker:
        worker.thread = threading.Thread(
            target=work, args=(self.runner, worker), name=f"ci-{worker.name}", daemon=True
        )
        worker.thread.start()
        return worker

    def supervise(self) -> None:
        """Replace each worker whose thread died (not while stopping: then threads end on purpose)."""
        for i, worker in enumerate(self.workers):
            if self.runner.stopping.is_set():
                return
            if worker.thread is None or worker.thread.is_alive():
                continue
            if time.monotonic() - worker.started_at < RESTART_DELAY_S:
                continue  # dying as it starts: wait a little before the next try
            job = worker.job or worker.inherited
            worker.stop_child()  # what the dead worker's run started goes with it
            held = f" holding job {job.id} ({job.project})" if job else ""
            print(f"{worker.name} died{held}: starting a new one", flush=True)
            self.workers[i] = self._launch(Worker(self.runner, worker.index, inherited=job))

    def busy(self) -> int:
        return sum(1 for w in self.workers if w.job is not None)

    def kill_children(self) -> None:
        for worker in self.workers:
            worker.kill_child()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            if worker.thread is not None:
                worker.thread.join(max(0.0, deadline - time.monotonic()))
