"""The embedded CI queue: one JSON file per queued run under ``<data dir>/ci``.

``queue/`` holds runs waiting, ``running/`` the one being executed, ``done/`` the finished ones.
Files move with atomic renames, so a crash leaves each run in exactly one place.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HEARTBEAT = "runner.heartbeat"  # the runner touches it while alive: its health check


def heartbeat_fresh(ci_dir: Path, max_age: float = 15) -> bool:
    try:
        return time.time() - (ci_dir / HEARTBEAT).stat().st_mtime < max_age
    except OSError:
        return False


@dataclass
class Job:
    id: str
    project: str
    repo: str
    commit: str
    branch: str
    queued_at: float
    run_id: str | None = None  # the MLflow CI run, when it could be created at queue time
    pid: int | None = None  # `make ci` while running (its own process group), for crash recovery
    pid_start: str | None = None


class CiQueue:
    def __init__(self, ci_dir: Path) -> None:
        self.root = ci_dir
        self.queued, self.running, self.done = ci_dir / "queue", ci_dir / "running", ci_dir / "done"
        self.logs, self.work = ci_dir / "logs", ci_dir / "work"
        for path in (self.queued, self.running, self.done, self.logs, self.work):
            path.mkdir(parents=True, exist_ok=True)

    def put(self, project: str, repo: str, commit: str, branch: str, run_id: str | None = None) -> Job:
        job_id = f"{time.time_ns():020d}-{secrets.token_hex(3)}"  # sorts in queue order
        job = Job(job_id, project, repo, commit, branch, time.time(), run_id)
        self._write(self.queued / f"{job_id}.json", job)
        return job

    def next(self) -> Job | None:
        for path in sorted(self.queued.glob("*.json")):
            try:
                return self._read(path)
            except (OSError, ValueError, TypeError):
                self.set_aside(path)
        return None

    def start(self, job: Job) -> None:
        self._write(self.queued / f"{job.id}.json", job)
        os.replace(self.queued / f"{job.id}.json", self.running / f"{job.id}.json")

    def update_running(self, job: Job) -> None:
        self._write(self.running / f"{job.id}.json", job)

    def finish(self, job: Job) -> None:
        src = self.running / f"{job.id}.json"
        if src.exists():
            os.replace(src, self.done / f"{job.id}.json")

    def in_running(self) -> list[Job]:
        return [self._read(f) for f in sorted(self.running.glob("*.json"))]

    def pending(self) -> list[Job]:
        return [self._read(f) for f in sorted(self.queued.glob("*.json"))]

    def log_path(self, run_id: str) -> Path:
        return self.logs / f"{run_id}.log"

    @staticmethod
    def _read(path: Path) -> Job:
        data = json.loads(path.read_text())
        return Job(**{k: v for k, v in data.items() if k in Job.__dataclass_fields__})

    def set_aside(self, path: Path) -> None:
        """Move an unreadable job file out of the queue so it cannot block the runs behind it."""
        os.replace(path, self.done / (path.name + ".unreadable"))

    @staticmethod
    def _write(path: Path, job: Job) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(job)))
        os.replace(tmp, path)
