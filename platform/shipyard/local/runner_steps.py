"""One CI run, executed by one of the runner's workers (shipyard.local.runner).

A fresh checkout of the pushed commit, the platform's environment injected (``Endpoints.to_env`` + the
CI variables + Shipyard's venv first on PATH), then the project's ``make ci``. Lines ``==> STEP`` mark
steps; status, steps and the failed step go to the MLflow CI run; the full log stays in
``<data dir>/ci/logs/<run id>.log`` (and is attached to the run as ``ci/ci.log``).

Each worker has its own ``make ci`` child (its own process group): stopping a run stops only that
run's group, before it is recorded ``failed``, so nothing the run started registers a model.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard import service_calls, tags
from shipyard.ci import sandbox
from shipyard.ci.queue import Job
from shipyard.ci.runs import project_of, start_ci_run
from shipyard.errors import UserError
from shipyard.local import process
from shipyard.local.runner_records import MlflowDown, disk_full, keep_result, mlflow_down, record
from shipyard.platform import env as contract
from shipyard.platform.endpoints import Endpoints
from shipyard.platform.env import ENV_CI_TIMEOUT as TIMEOUT_ENV
from shipyard.platform.env import ENV_MLFLOW_TELEMETRY_OFF
from shipyard.records import MlflowApi, write

if TYPE_CHECKING:
    from shipyard.local.runner import Runner

STEP_PREFIX = "==> "
DEFAULT_BRANCH = "main"  # the embedded remotes are created with --initial-branch=main


def parse_step(line: str) -> str | None:
    if line.startswith(STEP_PREFIX):
        return line[len(STEP_PREFIX) :].strip() or None
    return None


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


class Worker:
    """One of the runner's workers: the job it holds, its ``make ci`` child and its thread."""

    def __init__(self, runner: Runner, index: int, inherited: Job | None = None) -> None:
        self.runner, self.index = runner, index
        self.name = f"worker-{index}"
        self.queue = runner.queue
        self.job: Job | None = None  # claimed and not yet released
        self.inherited = inherited  # the job of the worker this one replaces (it died holding it)
        self.child: subprocess.Popen | None = None
        self.thread: threading.Thread | None = None
        self.started_at = time.monotonic()

    # --- recording the start ----------------------------------------------------------------
    def _start_record(self, job: Job, api: MlflowApi) -> str:
        """Create (or mark running) the job's MLflow run; MlflowDown: the job goes back to the queue."""
        if not self.runner.mlflow_up():
            raise MlflowDown("no answer from /health")
        try:
            if not job.run_id:
                job.run_id = start_ci_run(api, job.project, job.commit, job.branch, "shipyard", "running")
                self.queue.update_running(job)  # a retry (or a restart) must not create a second run
            write.set_ci_progress(api, job.run_id, "running", steps=[])
            # the runner's machine time is what costs price; runs inside it (training) are not priced again
            api.set_tag(job.run_id, tags.INSTANCE_TYPE, self.runner.instance_type)
            if job.pushed_by:  # the runner, not the project's job, records who pushed
                api.set_tag(job.run_id, tags.CI_PUSHED_BY, job.pushed_by)
            return project_of(api, job.project).team or ""
        except Exception as exc:  # any fault: MLflow down is told apart below, the rest is the project's
            if mlflow_down(exc):
                raise MlflowDown(type(exc).__name__) from exc
            raise

    # --- one run ----------------------------------------------------------------------------
    def execute(self, job: Job) -> str:
        """Run a claimed job (in ``running/``, its result block reserved) and record its result."""
        runner = self.runner
        platform = runner.platform()
        endpoints = platform.endpoints
        api = MlflowApi.of(platform.endpoints, service_calls.timeout())
        try:
            team = self._start_record(job, api)
        except UserError as exc:  # the project was never provisioned: nothing to record into
            print(f"job {job.id}: cannot record CI run: {exc}", flush=True)
            self.queue.finish(job)
            return "failed"
        run_id = job.run_id
        assert run_id
        print(f"run {run_id}: {job.project} {job.branch}@{job.commit[:8]} ({self.name})", flush=True)
        user = sandbox.job_user()
        work = sandbox.job_dir(runner.data_dir, run_id)  # outside the data dir, the job user's alone
        job.work = str(work)
        self.queue.update_running(job)  # the registry finds the job's own DVC remote through it
        log_path = self.queue.log_path(run_id)
        steps: list[str] = []
        status, failed_step = "failed", None
        started = time.monotonic()
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
                    env[contract.ENV_DVC_REMOTE] = str(work / "dvc-remote")  # merged into the team's after
                # only the default branch publishes (the project's Makefile reads these)
                env.update(SHIPYARD_BRANCH=job.branch, SHIPYARD_DEFAULT_BRANCH=DEFAULT_BRANCH)
                rc, steps = self._make_ci(job, work / "src", env, log, api, user)
                self._merge_data(endpoints, team, job.project, work, log)
                if log.error is not None:  # the run was stopped: its output could not be kept
                    failed_step = "log"
                elif runner.stopping.is_set():
                    status = "interrupted"
                    failed_step = steps[-1] if steps else "make ci"
                    log.write("\n==! shipyard ci: interrupted (the runner was stopped)\n")
                elif rc == 0:
                    status = "passed"
                else:
                    failed_step = steps[-1] if steps else "make ci"
                    log.write(f"\n==! shipyard ci: make ci failed (exit {rc}) in step {failed_step}\n")
        except Exception as exc:  # a bug or a vanished repo must still end the run
            self.stop_child()  # before recording: nothing it started may register after `failed`
            status = "failed"
            log.write(f"\n==! shipyard ci: runner error: {type(exc).__name__}: {exc}\n")
            failed_step = failed_step or (steps[-1] if steps else "runner")
        duration = time.monotonic() - started
        log.write(f"==> shipyard ci: {status} in {duration:.1f}s\n")
        log.close()
        if log.error is not None:
            status, failed_step = "failed", "log"
            why = "disk full" if disk_full(log.error) else "the log could not be written"
            print(f"run {run_id}: failed at step `log`: {why} ({log_path}: {log.error})", flush=True)
        job.result = {"status": status, "failed_step": failed_step, "steps": steps, "duration": duration}
        keep_result(self.queue, job)
        runner.with_backoff(lambda: record(runner, job), f"run {run_id}")
        if log.error is None:
            self._attach_log(api, run_id, log_path)
        self._push_metrics(endpoints, job.project, status, duration)
        shutil.rmtree(work, ignore_errors=True)
        print(f"run {run_id}: {status}", flush=True)
        return status

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
        return sandbox.clean_env()

    def _env(self, endpoints: Endpoints, team: str, project: str, run_id: str) -> dict[str, str]:
        venv_bin = Path(sys.executable).parent
        env = self._clean_env()
        env.update(endpoints.to_env(team or None, project))
        env.update(service_calls.mlflow_client_env())  # training's MLflow calls: the platform's bounds
        env.update(
            {
                **self._ci_credentials(project),
                contract.ENV_CI_RUN_ID: run_id,
                contract.ENV_CI_PROVIDER: "shipyard",
                contract.ENV_INSTANCE_TYPE: self.runner.instance_type,
                contract.ENV_GPU_COUNT: "0",
                ENV_MLFLOW_TELEMETRY_OFF: "true",
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

        creds = credentials(self.runner.data_dir, ci_account(project))
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
        tools = [Path(sys.executable).resolve(), Path(sys.prefix), Path(sys.base_prefix)]  # the runner's
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
        timer = threading.Timer(timeout, self.kill_child)
        timer.start()
        try:
            assert self.child.stdout is not None
            for line in self.child.stdout:
                log.write(line)
                if log.error is not None:  # no record of what it does: stop it before it goes on
                    self.stop_child()
                    break
                step = parse_step(line)
                if step:
                    steps.append(step)
                    try:
                        write.set_ci_progress(api, env[contract.ENV_CI_RUN_ID], "running", steps=steps)
                    except UserError:  # a step update is informative only
                        pass
            rc = self.child.wait()
        finally:
            timer.cancel()
        self.child = None
        return rc, steps

    def stop_child(self) -> None:
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

    def kill_child(self) -> None:
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
