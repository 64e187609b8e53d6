"""The embedded CI runner: a process started by ``shipyard up`` that executes queued runs.

N workers (``local.ci_workers``; default from the machine's cores: runner_pool.default_workers) take
jobs from the file queue: one project's runs one at a time in push order, different projects' runs in
parallel (ci/queue.py, claims). The main thread beats the heartbeat, supervises the workers
(runner_pool.py: a worker that dies is replaced and its job settled), tidies (local/housekeeping.py)
and witnesses the audit log. One run is executed by runner_steps.py; recording and the recovery of
what a stopped runner left are in runner_records.py.

When the runner starts it first recovers: a job that finished is recorded with its own result, a
claimed job that never started is queued again, a run left ``running`` is marked ``interrupted``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from shipyard import service_calls
from shipyard.ci import sandbox
from shipyard.ci.queue import HEARTBEAT, SERVING, CiQueue
from shipyard.errors import UserError
from shipyard.local.housekeeping import Housekeeper
from shipyard.local.runner_pool import BACKOFF_MAX_S, WorkerPool, default_workers
from shipyard.local.runner_records import MlflowDown, mlflow_down, recover
from shipyard.local.runner_steps import RunLog, Worker, parse_step  # noqa: F401 (used by importers)
from shipyard.platform.resolver import Platform, platform_from_data_dir
from shipyard.records import MlflowApi
from shipyard.service_calls import bound_mlflow_calls

WITNESS_EVERY_S = 5.0  # how often an idle runner checkpoints the audit chain's head
STOP_JOIN_S = 30.0  # how long a stopping runner waits for its workers to record their runs


class _SafeStream:
    """The runner's stdout/stderr (a log file): a full disk loses a line, never the runner."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError:
            return 0

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            pass

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class Runner:
    def __init__(self, data_dir: Path, instance_type: str, workers: int = 1) -> None:
        self.data_dir = data_dir
        self.queue = CiQueue(data_dir / "ci")
        self.instance_type = instance_type
        self.workers = workers
        self.stopping = threading.Event()
        self.claim_gate = threading.Lock()  # claims wait while the housekeeper reads what runs
        self.pool = WorkerPool(self, workers)
        self.serving = False  # past recovery: only then is the runner healthy
        self._beat_lock = threading.Lock()

    # --- platform ---------------------------------------------------------------------------
    def platform(self) -> Platform:
        return platform_from_data_dir(self.data_dir)

    def api(self) -> MlflowApi:
        return MlflowApi.of(self.platform().endpoints, service_calls.timeout())

    def beat(self) -> None:
        state = SERVING if self.serving else "starting"
        path = self.queue.root / HEARTBEAT
        with self._beat_lock:  # workers beat while they back off: one writer at a time
            try:
                path.write_text(f"{os.getpid()} {state}")
            except OSError:  # a full disk: the old words stay; a fresh mtime still says the runner lives
                try:
                    os.utime(path)
                except OSError:
                    pass

    def mlflow_up(self) -> MlflowApi | None:
        try:
            api = self.api()
            # signed in, not only up: ``up`` creates the runner's MLflow user after MLflow answers
            if api.healthy(timeout=service_calls.timeout()) and (
                api.call("GET", "experiments/search", {"max_results": 1}) is not None
            ):
                return api
            return None
        except UserError:  # no state yet, MLflow not in it yet, or no runner user yet: `up` is starting
            return None

    def wait_for_mlflow(self) -> MlflowApi:
        """MLflow once it answers; the runner waits (beating) for as long as it takes."""
        delay = 0.5
        while not self.stopping.is_set():
            self.beat()
            api = self.mlflow_up()
            if api:
                return api
            self.stopping.wait(delay)
            delay = min(delay * 2, 5)
        raise SystemExit(0)

    def recover(self, api: MlflowApi) -> None:
        recover(self, api)

    # --- the loop ---------------------------------------------------------------------------
    def serve(self) -> None:
        api = self.wait_for_mlflow()
        self.with_backoff(lambda: self.recover(api), "recovering")
        self.serving = True
        self.beat()
        print(f"runner ready ({self.workers} worker(s))", flush=True)
        housekeeper = Housekeeper(self.data_dir, lambda: self.platform().spec)  # local/housekeeping.py
        self._tidy(housekeeper)  # first right after recovery, before any worker claims
        self.pool.start()
        while not self.stopping.is_set():
            self.beat()
            self.pool.supervise()
            self._tidy(housekeeper)
            if self.pool.busy() == 0:
                self._witness_audit_head()
            self.stopping.wait(0.5)
        self.pool.kill_children()
        self.pool.join(STOP_JOIN_S)  # each records its run `interrupted` on its way out

    def _tidy(self, housekeeper: Housekeeper) -> None:
        with self.claim_gate:  # no claim while it decides which checkouts belong to running jobs
            try:
                housekeeper.maybe_run()
            except Exception:  # housekeeping (e.g. on a full disk) must not stop the runner
                traceback.print_exc()

    def _witness_audit_head(self) -> None:
        """The runner is the audit log's second component: every few seconds while idle it signs a
        checkpoint of the chain head, when the head moved (audit.witness)."""
        now = time.monotonic()
        if now < getattr(self, "_next_witness", 0.0):
            return
        self._next_witness = now + WITNESS_EVERY_S
        from shipyard.audit.store import open_store
        from shipyard.audit.witness import checkpoint

        try:
            store = open_store(self.data_dir)
            if store is not None:
                checkpoint(store, self.data_dir)
        except Exception:  # a witness that cannot read the log now tries again later
            traceback.print_exc()

    def with_backoff(self, action, what: str):
        """Run ``action`` until MLflow lets it finish: MlflowDown waits (backoff) and tries again;
        a stop meanwhile raises SystemExit (what the action held stays where it is)."""
        delay = 1.0
        while True:
            try:
                return action()
            except MlflowDown as exc:
                print(f"{what}: MLflow is unreachable ({exc}); trying again in {delay:.0f}s", flush=True)
            except Exception as exc:  # any fault: only MLflow being down is retried, the rest re-raised
                if not mlflow_down(exc):
                    raise
                print(f"{what}: MLflow is unreachable; trying again in {delay:.0f}s", flush=True)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                self.beat()
                if self.stopping.wait(min(2.0, delay)):
                    raise SystemExit(0)  # the job stays where it is: the next start takes it up
            delay = min(delay * 2, BACKOFF_MAX_S)

    def stop(self, *_args) -> None:
        self.stopping.set()
        self.pool.kill_children()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipyard-ci-runner")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--instance-type", default="local")
    parser.add_argument("--workers", type=int, default=None, help="default: from the machine's cores")
    args = parser.parse_args(argv)
    sys.stdout, sys.stderr = _SafeStream(sys.stdout), _SafeStream(sys.stderr)
    bound_mlflow_calls()  # a call to a stopped MLflow fails in seconds; the runner retries it itself
    workers = args.workers if args.workers and args.workers > 0 else default_workers()
    runner = Runner(Path(args.data_dir), args.instance_type, workers)
    sandbox.lock_data_dir(runner.data_dir)  # jobs run as another user (ci/sandbox.py): keep them out
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    runner.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
