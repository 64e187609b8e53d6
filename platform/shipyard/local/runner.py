"""The embedded CI runner: a process started by ``shipyard up`` that executes queued runs one at a time.

Each run: a fresh checkout of the pushed commit, the platform's environment injected
(``Endpoints.to_env`` + the CI variables + Shipyard's venv first on PATH), then the project's
``make ci``. Lines ``==> STEP`` mark steps. Status, steps and the failed step go to the MLflow CI run;
the full log stays in ``<data dir>/ci/logs/<run id>.log`` (and is attached to the run as ``ci/ci.log``).
A run left ``running`` by a crashed runner is marked ``interrupted`` when the runner starts again.

Nothing is lost when MLflow is down: a job stays queued until its run can be created, and a finished
job keeps its result in ``running/`` until MLflow has recorded it (retried with backoff, and again
when the runner restarts). When the runner itself fails, or the log cannot be written, it stops the
run's whole process group before recording ``failed``, so nothing the run started registers a model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from shipyard import endpoints as ep
from shipyard import service_calls, tags
from shipyard.ci import sandbox
from shipyard.ci.queue import HEARTBEAT, SERVING, STALE_INCOMING_S, CiQueue, Job
from shipyard.ci.runs import finish_ci_run, get_ci_run, list_ci_runs, project_of, start_ci_run
from shipyard.endpoints import Endpoints
from shipyard.errors import ServiceUnavailable, UserError
from shipyard.local import process
from shipyard.local.housekeeping import Housekeeper
from shipyard.records import MlflowApi, write
from shipyard.resolver import Platform, platform_from_data_dir
from shipyard.service_calls import bound_mlflow_calls, unreachable_from

STEP_PREFIX = "==> "
DEFAULT_BRANCH = "main"  # the embedded remotes are created with --initial-branch=main
BACKOFF_MAX_S = 30.0  # the longest wait between two tries to reach MLflow
TIMEOUT_ENV = "SHIPYARD_CI_TIMEOUT"  # seconds one run may take (default 3600)
# inherited variables a run must not see: they would point the project at another platform
_CONTRACT_PREFIXES = ("MLFLOW_", "SHIPYARD_", "LABEL_STUDIO_", "GRAFANA_", "GIT_", "DVC_")


def parse_step(line: str) -> str | None:
    if line.startswith(STEP_PREFIX):
        return line[len(STEP_PREFIX) :].strip() or None
    return None


class MlflowDown(Exception):
    """MLflow did not answer: the job waits (queued, or finished with its result kept)."""


class RunLog:
    """The run's log file. A failed write (disk full) is remembered, never raised mid-run: the runner
    stops the run and records it ``failed`` with the reason, instead of losing its status."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: OSError | None = None
        try:
            self._file = open(path, "a", buffering=1)  # noqa: SIM115 (closed in close())
        except OSError as exc:
            self.error, self._file = exc, None

    def write(self, text: str) -> None:
        if self._file is None or self.error is not None:
            return
        try:
            self._file.write(text)
        except OSError as exc:
            self.error = exc

    def fileno(self) -> int:
        if self._file is None:
            raise OSError("no log file")
        return self._file.fileno()

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                self.error = self.error or exc
            self._file = None


def _recent(started_at: dt.datetime | None) -> bool:
    if started_at is None:
        return False
    return (dt.datetime.now(dt.UTC) - started_at).total_seconds() < STALE_INCOMING_S


def _mlflow_down(exc: BaseException) -> bool:
    return isinstance(exc, ServiceUnavailable) or unreachable_from(exc) is not None


def _disk_full(exc: BaseException | None) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


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


WITNESS_EVERY_S = 5.0  # how often an idle runner checkpoints the audit chain's head


class Runner:
    def __init__(self, data_dir: Path, instance_type: str) -> None:
        self.data_dir = data_dir
        self.queue = CiQueue(data_dir / "ci")
        self.instance_type = instance_type
        self.stopping = threading.Event()
        self.child: subprocess.Popen | None = None
        self.serving = False  # past recovery: only then is the runner healthy

    # --- platform ---------------------------------------------------------------------------
    def platform(self) -> Platform:
        return platform_from_data_dir(self.data_dir)

    def endpoints(self) -> Endpoints:
        return self.platform().endpoints

    def api(self) -> MlflowApi:
        return self.platform().mlflow(timeout=service_calls.timeout())

    def beat(self) -> None:
        state = SERVING if self.serving else "starting"
        path = self.queue.root / HEARTBEAT
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

    # --- crash recovery ---------------------------------------------------------------------
    def recover(self, api: MlflowApi) -> None:
        for job in self.queue.publish_stale():  # a hook that died between staging and queueing
            print(f"job {job.id}: queued (its hook stopped before handing it over)", flush=True)
        for job in self.queue.in_running():
            if job.pid and process.is_alive(job.pid, job.pid_start):
                process.stop(job.pid, job.pid_start, timeout=10)  # the orphaned `make ci` of a killed runner
            if job.result and job.run_id:  # it ran to the end; only MLflow's record was missing
                try:
                    self._record(job)  # with the result and failed step it ended with
                except MlflowDown:
                    raise  # recovery waits for MLflow (_with_backoff)
                except Exception:  # not MLflow being down: retire it with its result, keep serving
                    traceback.print_exc()
                    self.queue.finish(job)
                continue
            if job.run_id:
                self._interrupt(api, job.run_id, "the runner stopped during this run")
            if job.work:  # the job's own folder (checkout, HOME, its DVC remote) outside the data dir
                shutil.rmtree(job.work, ignore_errors=True)
            self.queue.finish(job)
        known = self.queue.known_run_ids()
        for run in list_ci_runs(api):
            if run.provider != "shipyard" or run.run_id in known:
                continue
            if run.status == "running":
                self._interrupt(api, run.run_id, "found running when the runner started")
            elif run.status == "queued" and not _recent(run.started_at):  # its job is gone: queue it again
                # (a run younger than that may belong to a hook still handing its job over)
                repo = self.data_dir / "git" / f"{run.project}.git"
                if run.commit and repo.is_dir():
                    job = self.queue.stage(run.project, str(repo), run.commit, run.branch)
                    job.run_id = run.run_id
                    self.queue.publish(job)
                    print(f"run {run.run_id}: queued again (it had no job)", flush=True)
                else:
                    self._interrupt(api, run.run_id, "queued, but its commit or repo is gone")

    def _interrupt(self, api: MlflowApi, run_id: str, why: str) -> None:
        steps = list(get_ci_run(api, run_id).steps)
        finish_ci_run(api, run_id, "interrupted", failed_step=steps[-1] if steps else None)
        log = RunLog(self.queue.log_path(run_id))
        log.write(f"\n==! shipyard ci: run interrupted ({why})\n")
        log.close()
        print(f"run {run_id} marked interrupted: {why}", flush=True)

    # --- the loop ---------------------------------------------------------------------------
    def serve(self) -> None:
        api = self.wait_for_mlflow()
        self._with_backoff(lambda: self.recover(api), "recovering")
        self.serving = True
        self.beat()
        print("runner ready", flush=True)
        housekeeper = Housekeeper(self.data_dir, lambda: self.platform().spec)  # local/housekeeping.py
        while not self.stopping.is_set():
            self.beat()
            job = self.queue.next()
            if job is None:
                try:
                    housekeeper.maybe_run()
                except Exception:  # housekeeping (e.g. on a full disk) must not stop the runner
                    traceback.print_exc()
                self._witness_audit_head()
                self.stopping.wait(0.5)
                continue
            try:
                self._with_backoff(lambda job=job: self.execute(job), f"job {job.id}")
            except SystemExit:
                return
            except Exception as exc:  # keep serving the queue; the run itself is ended below
                traceback.print_exc()
                try:
                    self._abandon(job, exc)
                except SystemExit:
                    return

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

    def _with_backoff(self, action, what: str):
        """Run ``action`` until MLflow lets it finish: MlflowDown waits (backoff) and tries again."""
        delay = 1.0
        while True:
            try:
                return action()
            except MlflowDown as exc:
                print(f"{what}: MLflow is unreachable ({exc}); trying again in {delay:.0f}s", flush=True)
            except Exception as exc:  # any fault: only MLflow being down is retried, the rest re-raised
                if not _mlflow_down(exc):
                    raise
                print(f"{what}: MLflow is unreachable; trying again in {delay:.0f}s", flush=True)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                self.beat()
                if self.stopping.wait(min(2.0, delay)):
                    raise SystemExit(0)  # the job stays where it is: the next start takes it up
            delay = min(delay * 2, BACKOFF_MAX_S)

    def _abandon(self, job: Job, exc: BaseException | None = None) -> None:
        """End a job the runner failed on: its result is recorded (retried while MLflow is down)
        before it moves to ``done``; a stop meanwhile leaves it in ``running`` for ``recover``."""
        self._stop_child()  # nothing the run started may go on (and register) after it failed
        if job.result is None:
            step = "log" if _disk_full(exc) else "runner"
            job.result = {"status": "failed", "failed_step": step, "steps": [], "duration": 0.0}
        if _disk_full(exc):
            print(f"job {job.id}: failed at step `log`: disk full ({exc})", flush=True)
        queued, running = self.queue.queued / f"{job.id}.json", self.queue.running / f"{job.id}.json"
        try:
            if queued.exists():
                os.replace(queued, running)
            self.queue.update_running(job)  # the result survives a restart when the disk lets it
        except OSError as write_exc:
            print(f"job {job.id}: its result could not be written ({write_exc}); kept in memory", flush=True)
        if job.run_id:
            try:
                self._with_backoff(lambda: self._record(job), f"run {job.run_id}")
                return
            except SystemExit:
                raise  # stopping: the job stays in `running` with its result; `recover` records it
            except Exception:  # not MLflow being down: the job is retired with its result on disk
                traceback.print_exc()
        self.queue.finish(job)

    def _start_record(self, job: Job, api: MlflowApi) -> str:
        """Create (or mark running) the job's MLflow run; MlflowDown keeps the job queued."""
        if not self.mlflow_up():
            raise MlflowDown("no answer from /health")
        try:
            if not job.run_id:
                job.run_id = start_ci_run(api, job.project, job.commit, job.branch, "shipyard", "running")
                self.queue.update_queued(job)  # a retry must not create a second run
            write.set_ci_progress(api, job.run_id, "running", steps=[])
            # the runner's machine time is what costs price; runs inside it (training) are not priced again
            api.set_tag(job.run_id, tags.INSTANCE_TYPE, self.instance_type)
            if job.pushed_by:  # the runner, not the project's job, records who pushed
                api.set_tag(job.run_id, tags.CI_PUSHED_BY, job.pushed_by)
            return project_of(api, job.project).team or ""
        except Exception as exc:  # any fault: MLflow down is told apart below, the rest is the project's
            if _mlflow_down(exc):
                raise MlflowDown(type(exc).__name__) from exc
            raise

    def execute(self, job: Job) -> str:
        platform = self.platform()
        endpoints = platform.endpoints
        api = platform.mlflow(timeout=service_calls.timeout())
        try:
            team = self._start_record(job, api)
        except UserError as exc:  # the project was never provisioned: nothing to record into
            print(f"job {job.id}: cannot record CI run: {exc}", flush=True)
            self.queue.start(job)
            self.queue.finish(job)
            return "failed"
        run_id = job.run_id
        assert run_id
        self.queue.start(job)
        print(f"run {run_id}: {job.project} {job.branch}@{job.commit[:8]}", flush=True)
        user = sandbox.job_user()
        work = sandbox.job_dir(self.data_dir, run_id)  # outside the data dir, the job user's alone
        job.work = str(work)
        self.queue.update_running(job)  # the registry finds the job's own DVC remote through it
        log_path = self.queue.log_path(run_id)
        steps: list[str] = []
        status, failed_step = "failed", None
        started = time.monotonic()
        self._running_done = False
        beat = threading.Thread(target=self._beat_while_running, daemon=True)
        beat.start()
        log = RunLog(log_path)
        log.write(f"==> shipyard ci: {job.project} {job.branch}@{job.commit} (run {run_id})\n")
        log.write(f"==> shipyard ci: runs as Unix user {user.name}, without the platform's data dir\n"
                  if user.isolated else sandbox.UNISOLATED_WARNING.format(user=user.name))  # fmt: skip
        try:
            if log.error is not None:
                failed_step = "log"
            elif not self._checkout(job, work / "src", log):
                failed_step = "log" if log.error is not None else "checkout"
            else:
                self._seed_tracked_data(endpoints, team, job.project, work, log)
                sandbox.hand_over(work, user)
                env = self._env(endpoints, team, job.project, run_id)
                env.update(sandbox.env(work))
                if team and endpoints.dvc_remote_root and "://" not in endpoints.dvc_remote_root:
                    env[ep.ENV_DVC_REMOTE] = str(work / "dvc-remote")  # merged into the team's after
                # only the default branch publishes (the project's Makefile reads these)
                env.update(SHIPYARD_BRANCH=job.branch, SHIPYARD_DEFAULT_BRANCH=DEFAULT_BRANCH)
                rc, steps = self._make_ci(job, work / "src", env, log, api, user)
                self._merge_data(endpoints, team, job.project, work, log)
                if log.error is not None:  # the run was stopped: its output could not be kept
                    failed_step = "log"
                elif self.stopping.is_set():
                    status = "interrupted"
                    failed_step = steps[-1] if steps else "make ci"
                    log.write("\n==! shipyard ci: interrupted (the runner was stopped)\n")
                elif rc == 0:
                    status = "passed"
                else:
                    failed_step = steps[-1] if steps else "make ci"
                    log.write(f"\n==! shipyard ci: make ci failed (exit {rc}) in step {failed_step}\n")
        except Exception as exc:  # a bug or a vanished repo must still end the run
            self._stop_child()  # before recording: nothing it started may register after `failed`
            status = "failed"
            log.write(f"\n==! shipyard ci: runner error: {type(exc).__name__}: {exc}\n")
            failed_step = failed_step or (steps[-1] if steps else "runner")
        duration = time.monotonic() - started
        log.write(f"==> shipyard ci: {status} in {duration:.1f}s\n")
        log.close()
        self._running_done = True
        if log.error is not None:
            status, failed_step = "failed", "log"
            why = "disk full" if _disk_full(log.error) else "the log could not be written"
            print(f"run {run_id}: failed at step `log`: {why} ({log_path}: {log.error})", flush=True)
        job.result = {"status": status, "failed_step": failed_step, "steps": steps, "duration": duration}
        try:
            self.queue.update_running(job)  # the result survives until MLflow has it
        except OSError as exc:  # a full disk: the result is recorded from memory below
            print(f"run {run_id}: its result could not be written to the job file ({exc})", flush=True)
        self._with_backoff(lambda: self._record(job), f"run {run_id}")
        if log.error is None:
            self._attach_log(api, run_id, log_path)
        self._push_metrics(endpoints, job.project, status, duration)
        shutil.rmtree(work, ignore_errors=True)
        print(f"run {run_id}: {status}", flush=True)
        return status

    def _record(self, job: Job) -> None:
        """Write a finished job's result to its MLflow run, then retire the job (MlflowDown: later)."""
        assert job.run_id and job.result
        r = job.result
        try:
            finish_ci_run(
                self.api(), job.run_id, r["status"], failed_step=r.get("failed_step"),
                steps=r.get("steps") or [],
            )  # fmt: skip
        except Exception as exc:  # any fault: MLflow down is told apart below, the rest fails this run
            if _mlflow_down(exc):
                raise MlflowDown(type(exc).__name__) from exc
            raise
        self.queue.finish(job)

    def _beat_while_running(self) -> None:
        while not self._running_done:
            self.beat()
            time.sleep(2)

    def _checkout(self, job: Job, work: Path, log) -> bool:
        shutil.rmtree(work, ignore_errors=True)
        env = self._clean_env()
        for cmd in (
            ["git", "clone", "--quiet", "--no-checkout", job.repo, str(work)],
            ["git", "-C", str(work), "-c", "advice.detachedHead=false", "checkout", "--quiet", job.commit],
        ):
            log.write(f"$ {' '.join(cmd)}\n")
            proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
            if proc.returncode != 0:
                log.write(f"==! shipyard ci: checkout failed (exit {proc.returncode})\n")
                return False
        return True

    @staticmethod
    def _clean_env() -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith(_CONTRACT_PREFIXES)}

    def _env(self, endpoints: Endpoints, team: str, project: str, run_id: str) -> dict[str, str]:
        venv_bin = Path(sys.executable).parent
        env = self._clean_env()
        env.update(endpoints.to_env(team or None, project))
        env.update(service_calls.mlflow_client_env())  # training's MLflow calls: the platform's bounds
        env.update(
            {
                **self._ci_credentials(project),
                ep.ENV_CI_RUN_ID: run_id,
                ep.ENV_CI_PROVIDER: "shipyard",
                ep.ENV_INSTANCE_TYPE: self.instance_type,
                ep.ENV_GPU_COUNT: "0",
                "MLFLOW_DISABLE_TELEMETRY": "true",
                # each dvc command would fork a daemon that re-imports DVC to send usage analytics
                # (~1.6 s of CPU, 3 per CI run, competing with the run's own steps)
                "DVC_NO_ANALYTICS": "true",
                "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
                "VIRTUAL_ENV": str(venv_bin.parent),
                "PYTHONPATH": "src",
                "PYTHONUNBUFFERED": "1",
                "CI": "true",
            }
        )
        return env

    def _ci_credentials(self, project: str) -> dict[str, str]:
        """The project's own CI credential (EDIT on its experiment only), never the runner's."""
        from shipyard.identity import ci_account
        from shipyard.identity.mlflow_users import credentials

        creds = credentials(self.data_dir, ci_account(project))
        return creds.env() if creds else {}

    @staticmethod
    def _seed_tracked_data(endpoints: Endpoints, team: str | None, project: str, work: Path, log) -> None:
        """The commit's DVC-tracked inputs, from the team's remote into the job's own (ci.tracked_data)."""
        from shipyard.ci import tracked_data

        remote = endpoints.dvc_remote(team, project) if team else None
        if not remote or "://" in remote:
            return
        copied, missing = tracked_data.seed(work / "src", Path(remote), work / "dvc-remote")
        if copied:
            log.write(
                f"==> shipyard ci: {copied} DVC-tracked object(s) of the commit from the team's remote\n"
            )
        if missing:
            log.write(f"==! shipyard ci: not in the team's DVC remote: {', '.join(m[:12] for m in missing)}"
                      " (was `dvc push` run after `dvc add`? `make add-data` does)\n")  # fmt: skip

    @staticmethod
    def _merge_data(endpoints: Endpoints, team: str, project: str, work: Path, log) -> None:
        """What the job pushed to its own DVC remote, into the team's (each object checked)."""
        remote = endpoints.dvc_remote(team, project) if team else None
        if not remote or "://" in remote:
            return
        copied, refused = sandbox.merge(work / "dvc-remote", Path(remote))
        if copied or refused:
            log.write(f"==> shipyard ci: {copied} DVC object(s) into the team's remote\n")
        if refused:
            log.write(f"==! shipyard ci: refused {len(refused)} DVC object(s) whose bytes do not match "
                      f"their name: {', '.join(refused[:5])}\n")  # fmt: skip

    def _make_ci(
        self, job: Job, work: Path, env: dict[str, str], log, api: MlflowApi, user=None
    ) -> tuple[int, list[str]]:
        timeout = float(os.environ.get(TIMEOUT_ENV, "3600"))
        log.write("$ make ci\n")
        steps: list[str] = []
        tools = [
            Path(sys.executable).resolve(),
            Path(sys.prefix),
            Path(sys.base_prefix),
        ]  # the runner's Python
        argv, as_user = sandbox.command(user, ["make", "ci"], tools) if user else (["make", "ci"], {})
        self.child = subprocess.Popen(
            argv,
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,  # so stopping a run stops everything make started
            **as_user,
        )
        job.pid, job.pid_start = self.child.pid, process.start_time(self.child.pid)
        self.queue.update_running(job)
        timer = threading.Timer(timeout, self._kill_child, args=("timeout",))
        timer.start()
        try:
            assert self.child.stdout is not None
            for line in self.child.stdout:
                log.write(line)
                if log.error is not None:  # no record of what it does: stop it before it goes on
                    self._stop_child()
                    break
                step = parse_step(line)
                if step:
                    steps.append(step)
                    try:
                        write.set_ci_progress(api, env[ep.ENV_CI_RUN_ID], "running", steps=steps)
                    except UserError:  # a step update is informative only
                        pass
            rc = self.child.wait()
        finally:
            timer.cancel()
        self.child = None
        return rc, steps

    def _stop_child(self) -> None:
        """Stop the run's whole process group and wait for it (before the run is recorded failed)."""
        child = self.child
        if child is None:
            return
        try:
            os.killpg(child.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(child.pid, signal.SIGKILL)  # what make started may outlive make itself
        except (ProcessLookupError, PermissionError):
            pass
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def _kill_child(self, why: str = "stop") -> None:
        child = self.child
        if child and child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    @staticmethod
    def _attach_log(api: MlflowApi, run_id: str, log_path: Path) -> None:
        try:
            api.log_artifact(run_id, str(log_path), "ci")
        except Exception as exc:  # MLflow's artifact clients raise many kinds; the log stays on disk
            print(f"run {run_id}: could not attach the log: {exc}", flush=True)

    @staticmethod
    def _push_metrics(endpoints: Endpoints, project: str, status: str, duration: float) -> None:
        if not endpoints.pushgateway:
            return
        try:
            from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

            registry = CollectorRegistry()
            Gauge(
                tags.METRIC_CI_DURATION, "duration of the last CI run", ["project"], registry=registry
            ).labels(project).set(duration)
            Gauge(
                tags.METRIC_CI_STATUS, "1 if the last CI run passed", ["project"], registry=registry
            ).labels(project).set(1 if status == "passed" else 0)
            push_to_gateway(
                endpoints.pushgateway, job="shipyard_ci", grouping_key={"project": project}, registry=registry
            )
        except Exception as exc:  # a push failure of any kind leaves the run's result as it is
            print(f"could not push CI metrics: {exc}", flush=True)

    def stop(self, *_args) -> None:
        self.stopping.set()
        self._kill_child()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipyard-ci-runner")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--instance-type", default="local")
    args = parser.parse_args(argv)
    sys.stdout, sys.stderr = _SafeStream(sys.stdout), _SafeStream(sys.stderr)
    bound_mlflow_calls()  # a call to a stopped MLflow fails in seconds; the runner retries it itself
    runner = Runner(Path(args.data_dir), args.instance_type)
    sandbox.lock_data_dir(runner.data_dir)  # jobs run as another user (ci/sandbox.py): keep them out
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    runner.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
