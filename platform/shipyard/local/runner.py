"""The embedded CI runner: a process started by ``shipyard up`` that executes queued runs one at a time.

Each run: a fresh checkout of the pushed commit, the platform's environment injected
(``Endpoints.to_env`` + the CI variables + Shipyard's venv first on PATH), then the project's
``make ci``. Lines ``==> STEP`` mark steps. Status, steps and the failed step go to the MLflow CI run;
the full log stays in ``<data dir>/ci/logs/<run id>.log`` (and is attached to the run as ``ci/ci.log``).
A run left ``running`` by a crashed runner is marked ``interrupted`` when the runner starts again.
"""

from __future__ import annotations

import argparse
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
from shipyard import tags
from shipyard.ci.queue import HEARTBEAT, CiQueue, Job
from shipyard.ci.runs import finish_ci_run, get_ci_run, list_ci_runs, project_of, start_ci_run
from shipyard.endpoints import Endpoints
from shipyard.errors import UserError
from shipyard.local import process
from shipyard.records import MlflowApi, write
from shipyard.resolver import Platform, platform_from_data_dir

STEP_PREFIX = "==> "
TIMEOUT_ENV = "SHIPYARD_CI_TIMEOUT"  # seconds one run may take (default 3600)
# inherited variables a run must not see: they would point the project at another platform
_CONTRACT_PREFIXES = ("MLFLOW_", "SHIPYARD_", "LABEL_STUDIO_", "GRAFANA_", "GIT_", "DVC_")


def parse_step(line: str) -> str | None:
    if line.startswith(STEP_PREFIX):
        return line[len(STEP_PREFIX) :].strip() or None
    return None


class Runner:
    def __init__(self, data_dir: Path, instance_type: str) -> None:
        self.data_dir = data_dir
        self.queue = CiQueue(data_dir / "ci")
        self.instance_type = instance_type
        self.stopping = threading.Event()
        self.child: subprocess.Popen | None = None

    # --- platform ---------------------------------------------------------------------------
    def platform(self) -> Platform:
        return platform_from_data_dir(self.data_dir)

    def endpoints(self) -> Endpoints:
        return self.platform().endpoints

    def beat(self) -> None:
        (self.queue.root / HEARTBEAT).write_text(str(os.getpid()))

    def wait_for_mlflow(self, timeout: float = 300) -> MlflowApi:
        deadline = time.monotonic() + timeout
        while not self.stopping.is_set():
            self.beat()
            try:
                api = self.platform().mlflow()
                # signed in, not only up: ``up`` creates the runner's MLflow user after MLflow answers
                if api.healthy() and api.call("GET", "experiments/search", {"max_results": 1}) is not None:
                    return api
            except UserError:  # no state yet, or MLflow not in it yet: `up` is still starting
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("MLflow did not become healthy; the runner cannot record runs")
            time.sleep(0.5)
        raise SystemExit(0)

    # --- crash recovery ---------------------------------------------------------------------
    def recover(self, api: MlflowApi) -> None:
        for job in self.queue.in_running():
            if job.pid and process.is_alive(job.pid, job.pid_start):
                process.stop(job.pid, job.pid_start, timeout=10)  # the orphaned `make ci` of a killed runner
            if job.run_id:
                self._interrupt(api, job.run_id, "the runner stopped during this run")
            self.queue.finish(job)
        queued_ids = {j.run_id for j in self.queue.pending()}
        for run in list_ci_runs(api):
            if run.provider == "shipyard" and run.status == "running" and run.run_id not in queued_ids:
                self._interrupt(api, run.run_id, "found running when the runner started")

    def _interrupt(self, api: MlflowApi, run_id: str, why: str) -> None:
        steps = get_steps(api, run_id)
        finish_ci_run(api, run_id, "interrupted", failed_step=steps[-1] if steps else None)
        with open(self.queue.log_path(run_id), "a") as log:
            log.write(f"\n==! shipyard ci: run interrupted ({why})\n")
        print(f"run {run_id} marked interrupted: {why}", flush=True)

    # --- the loop ---------------------------------------------------------------------------
    def serve(self) -> None:
        api = self.wait_for_mlflow()
        self.recover(api)
        print("runner ready", flush=True)
        while not self.stopping.is_set():
            self.beat()
            job = self.queue.next()
            if job is None:
                self.stopping.wait(0.5)
                continue
            try:
                self.execute(job)
            except Exception:  # any fault, a bug too: keep serving the queue; the run is ended below
                traceback.print_exc()
                self._abandon(job)

    def _abandon(self, job: Job) -> None:
        try:
            if job.run_id:
                finish_ci_run(self.platform().mlflow(), job.run_id, "failed", failed_step="runner")
        except UserError:
            traceback.print_exc()
        for folder in (self.queue.queued, self.queue.running):
            path = folder / f"{job.id}.json"
            if path.exists():
                os.replace(path, self.queue.done / path.name)

    def execute(self, job: Job) -> str:
        platform = self.platform()
        endpoints = platform.endpoints
        api = platform.mlflow()
        try:
            if not job.run_id:
                job.run_id = start_ci_run(api, job.project, job.commit, job.branch, "shipyard", "running")
        except UserError as exc:  # the project was never provisioned: nothing to record into
            print(f"job {job.id}: cannot record CI run: {exc}", flush=True)
            self.queue.start(job)
            self.queue.finish(job)
            return "failed"
        run_id = job.run_id
        self.queue.start(job)
        write.set_ci_progress(api, run_id, "running", steps=[])
        # the runner's machine time is what costs price; runs inside it (training) are not priced again
        api.set_tag(run_id, tags.INSTANCE_TYPE, self.instance_type)
        print(f"run {run_id}: {job.project} {job.branch}@{job.commit[:8]}", flush=True)
        work = self.queue.work / run_id
        log_path = self.queue.log_path(run_id)
        steps: list[str] = []
        status, failed_step = "failed", None
        started = time.monotonic()
        self._running_done = False
        beat = threading.Thread(target=self._beat_while_running, daemon=True)
        beat.start()
        with open(log_path, "a", buffering=1) as log:
            log.write(f"==> shipyard ci: {job.project} {job.branch}@{job.commit} (run {run_id})\n")
            try:
                team = project_of(api, job.project).team
                if not self._checkout(job, work, log):
                    failed_step = "checkout"
                else:
                    env = self._env(endpoints, team, job.project, run_id)
                    rc, steps = self._make_ci(job, work, env, log, api)
                    if self.stopping.is_set():
                        status = "interrupted"
                        failed_step = steps[-1] if steps else "make ci"
                        log.write("\n==! shipyard ci: interrupted (the runner was stopped)\n")
                    elif rc == 0:
                        status = "passed"
                    else:
                        failed_step = steps[-1] if steps else "make ci"
                        log.write(f"\n==! shipyard ci: make ci failed (exit {rc}) in step {failed_step}\n")
            except Exception as exc:  # any fault, a bug or a vanished repo too, must still end the run
                log.write(f"\n==! shipyard ci: runner error: {type(exc).__name__}: {exc}\n")
                failed_step = failed_step or (steps[-1] if steps else "runner")
            duration = time.monotonic() - started
            log.write(f"==> shipyard ci: {status} in {duration:.1f}s\n")
        self._running_done = True
        finish_ci_run(api, run_id, status, failed_step=failed_step, steps=steps)
        self._attach_log(api, run_id, log_path)
        self._push_metrics(endpoints, job.project, status, duration)
        self.queue.finish(job)
        shutil.rmtree(work, ignore_errors=True)
        print(f"run {run_id}: {status}", flush=True)
        return status

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
        env.update(
            {
                **self._ci_credentials(project),
                ep.ENV_CI_RUN_ID: run_id,
                ep.ENV_CI_PROVIDER: "shipyard",
                ep.ENV_INSTANCE_TYPE: self.instance_type,
                ep.ENV_GPU_COUNT: "0",
                "SHIPYARD_HOME": str(self.data_dir),
                "MLFLOW_DISABLE_TELEMETRY": "true",
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

    def _make_ci(
        self, job: Job, work: Path, env: dict[str, str], log, api: MlflowApi
    ) -> tuple[int, list[str]]:
        timeout = float(os.environ.get(TIMEOUT_ENV, "3600"))
        log.write("$ make ci\n")
        steps: list[str] = []
        self.child = subprocess.Popen(
            ["make", "ci"],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,  # so stopping a run stops everything make started
        )
        job.pid, job.pid_start = self.child.pid, process.start_time(self.child.pid)
        self.queue.update_running(job)
        timer = threading.Timer(timeout, self._kill_child, args=("timeout",))
        timer.start()
        try:
            assert self.child.stdout is not None
            for line in self.child.stdout:
                log.write(line)
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
        except OSError as exc:  # urllib's URLError/HTTPError are OSErrors
            print(f"could not push CI metrics: {exc}", flush=True)

    def stop(self, *_args) -> None:
        self.stopping.set()
        self._kill_child()


def get_steps(api: MlflowApi, run_id: str) -> list[str]:
    return list(get_ci_run(api, run_id).steps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipyard-ci-runner")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--instance-type", default="local")
    args = parser.parse_args(argv)
    runner = Runner(Path(args.data_dir), args.instance_type)
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    runner.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
