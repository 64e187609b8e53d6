"""The embedded CI queue: one JSON file per queued run under ``<data dir>/ci``.

``incoming/`` holds entries the post-receive hook wrote before it recorded the run in MLflow,
``queue/`` runs waiting, ``running/`` the ones claimed by a runner worker (and, once they ended, their
results until MLflow has them), ``done/`` the finished ones. Files are written whole (temp file, fsync,
rename) and move with atomic renames, so a crash leaves each run in exactly one place.

Several workers take jobs (:meth:`CiQueue.claim`): a worker first creates ``claims/<project>`` (an
exclusive create: of two workers one wins), then renames the project's earliest job from ``queue/``
into ``running/`` (of two renames one wins). So one project's runs go one at a time, in the order
their pushes were staged, while other projects' runs go in parallel.

A claimed job gets ``running/<id>.result``, a block reserved while the disk had room: the run's result
is written into it in place (no new blocks), so it survives a disk that filled during the run.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

HEARTBEAT = "runner.heartbeat"  # the runner touches it while alive: its health check
SERVING = "serving"  # the heartbeat's word once the runner has recovered and takes jobs


def heartbeat_fresh(ci_dir: Path, max_age: float = 15) -> bool:
    try:
        return time.time() - (ci_dir / HEARTBEAT).stat().st_mtime < max_age
    except OSError:
        return False


def runner_serving(ci_dir: Path, max_age: float = 15) -> bool:
    """The runner is alive and past its crash recovery. Before that it may still mark a run it finds
    ``running`` without a job as interrupted, so it is not ready for a push (or a hand-started run)."""
    try:
        words = (ci_dir / HEARTBEAT).read_text().split()
    except OSError:
        return False
    return heartbeat_fresh(ci_dir, max_age) and words[-1:] == [SERVING]


@dataclass
class Job:
    id: str
    project: str
    repo: str
    commit: str
    branch: str
    queued_at: float
    run_id: str | None = None  # the MLflow CI run, when it could be created at queue time
    pushed_by: str = ""  # the verified signed-in account that pushed ("" when nobody was signed in)
    pid: int | None = None  # `make ci` while running (its own process group), for crash recovery
    pid_start: str | None = None
    result: dict | None = None  # status, failed_step, steps, duration once run: kept until recorded
    work: str | None = None  # the job's own folder (checkout, HOME, its DVC remote), outside the data dir


STALE_INCOMING_S = 60  # an incoming entry this old belongs to a hook that died: the runner takes it
RESULT_SLOT_BYTES = 4096  # reserved per claimed job for its result (one block, written in place)


class CiQueue:
    def __init__(self, ci_dir: Path) -> None:
        self.root = ci_dir
        self.queued, self.running, self.done = ci_dir / "queue", ci_dir / "running", ci_dir / "done"
        self.logs, self.work, self.incoming = ci_dir / "logs", ci_dir / "work", ci_dir / "incoming"
        self.claims = ci_dir / "claims"
        for path in (self.incoming, self.queued, self.running, self.done, self.logs, self.work, self.claims):
            path.mkdir(parents=True, exist_ok=True)

    def put(self, project: str, repo: str, commit: str, branch: str, run_id: str | None = None) -> Job:
        job = self.stage(project, repo, commit, branch)
        job.run_id = run_id
        self.publish(job)
        return job

    def stage(self, project: str, repo: str, commit: str, branch: str) -> Job:
        """Write the job durably where the runner does not take it yet (the hook records it next)."""
        job_id = f"{time.time_ns():020d}-{secrets.token_hex(3)}"  # sorts in queue order
        job = Job(job_id, project, repo, commit, branch, time.time())
        self._write(self.incoming / f"{job_id}.json", job)
        return job

    def publish(self, job: Job) -> None:
        """Hand a staged job (with its MLflow run id, when it could be recorded) to the runner."""
        self._write(self.incoming / f"{job.id}.json", job)
        os.replace(self.incoming / f"{job.id}.json", self.queued / f"{job.id}.json")

    def publish_stale(self, max_age: float = STALE_INCOMING_S) -> list[Job]:
        """Queue the staged jobs of hooks that died between staging and publishing."""
        found = []
        for path in sorted(self.incoming.glob("*.json")):
            try:
                if time.time() - path.stat().st_mtime < max_age:
                    continue
                job = self._read(path)
            except (OSError, ValueError, TypeError):
                self.set_aside(path)
                continue
            try:
                os.replace(path, self.queued / path.name)
            except OSError:  # the queue still cannot take it: it stays staged for the next try
                continue
            found.append(job)
        return found

    def probe_writable(self) -> None:
        """Raise OSError unless a job file can be written and handed to the runner (the pre-receive
        hook's check): staged in ``incoming/``, then renamed into ``queue/``, as a push's job is."""
        name = f".probe-{os.getpid()}-{secrets.token_hex(3)}"
        probe = self.incoming / name
        try:
            with open(probe, "w") as f:
                f.write("probe")
                f.flush()
                os.fsync(f.fileno())
            os.replace(probe, self.queued / name)
            (self.queued / name).unlink()
        finally:
            probe.unlink(missing_ok=True)

    def known_run_ids(self) -> set[str]:
        """Run ids of every job not yet done (incoming, queued, running)."""
        ids = set()
        for folder in (self.incoming, self.queued, self.running):
            for path in folder.glob("*.json"):
                try:
                    run_id = self._read(path).run_id
                except (OSError, ValueError, TypeError):
                    continue
                if run_id:
                    ids.add(run_id)
        return ids

    def next(self) -> Job | None:
        for path in sorted(self.queued.glob("*.json")):
            try:
                return self._read(path)
            except (OSError, ValueError, TypeError):
                self.set_aside(path)
        return None

    # --- claims: several workers, one run of a project at a time, in push order -----------------
    def claim(self, owner: str) -> Job | None:
        """The earliest queued job of a project nobody holds, moved to ``running/`` for ``owner``;
        None when there is none. A project with an older job still being handed over (``incoming/``)
        waits for it. The caller releases the project (:meth:`release`) once the job is done."""
        handing_over = self._handing_over()  # read before queue/: a job moves incoming -> queue only
        seen: set[str] = set()
        for path in sorted(self.queued.glob("*.json")):
            try:
                job = self._read(path)
            except FileNotFoundError:  # claimed by another worker meanwhile
                continue
            except (OSError, ValueError, TypeError):
                self.set_aside(path)
                continue
            if job.project in seen:
                continue  # only a project's earliest job may go
            seen.add(job.project)
            if any(p == job.project and i < job.id for i, p in handing_over):
                continue
            if not self._hold(job.project, owner, job.id):
                continue
            try:
                os.rename(path, self.running / path.name)
            except FileNotFoundError:  # another runner took it first
                self.release(job.project)
                continue
            return job
        return None

    def _handing_over(self) -> list[tuple[str, str]]:
        found = []
        for path in self.incoming.glob("*.json"):
            try:
                if time.time() - path.stat().st_mtime >= STALE_INCOMING_S:
                    continue  # its hook died: the runner queues it (publish_stale), it blocks nobody
                found.append((path.stem, self._read(path).project))
            except (OSError, ValueError, TypeError):
                continue
        return found

    def _claim_path(self, project: str) -> Path:
        return self.claims / urllib.parse.quote(project, safe="")

    def _hold(self, project: str, owner: str, job_id: str) -> bool:
        try:
            fd = os.open(self._claim_path(project), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        try:
            os.write(fd, f"{owner} {os.getpid()} {job_id}\n".encode())
        except OSError:  # a full disk: the empty file is the claim all the same
            pass
        finally:
            os.close(fd)
        return True

    def held(self) -> dict[str, str]:
        """Project -> what its claim file says (owner, runner pid, job id)."""
        out = {}
        for path in self.claims.iterdir():
            try:
                out[urllib.parse.unquote(path.name)] = path.read_text().strip()
            except OSError:
                continue
        return out

    def release(self, project: str) -> None:
        self._claim_path(project).unlink(missing_ok=True)

    def release_all(self) -> None:
        """At the runner's start: claims of a runner that stopped hold nothing any more."""
        for path in self.claims.iterdir():
            path.unlink(missing_ok=True)

    def unclaim(self, job: Job) -> None:
        """A claimed job that never started: back to ``queue/`` (same name, so same place in line)."""
        self.result_slot(job).unlink(missing_ok=True)
        os.replace(self.running / f"{job.id}.json", self.queued / f"{job.id}.json")

    # --- the result slot ------------------------------------------------------------------------
    def result_slot(self, job: Job) -> Path:
        return self.running / f"{job.id}.result"

    def reserve_result(self, job: Job) -> None:
        """Allocate the job's result block now, while the disk has room (OSError when it has not)."""
        path = self.result_slot(job)
        with open(path, "wb") as f:
            f.write(b" " * RESULT_SLOT_BYTES)
            f.flush()
            os.fsync(f.fileno())

    def write_result(self, job: Job) -> None:
        """``job.result`` into its reserved block, in place: no new blocks, so a full disk takes it."""
        assert job.result is not None
        result = dict(job.result)
        data = json.dumps(result).encode()
        while len(data) > RESULT_SLOT_BYTES and result.get("steps"):
            result["steps"] = result["steps"][-max(1, len(result["steps"]) // 2) :]  # the latest steps
            data = json.dumps(result).encode()
        fd = os.open(self.result_slot(job), os.O_WRONLY)
        try:
            os.pwrite(fd, data.ljust(RESULT_SLOT_BYTES), 0)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read_result(self, job: Job) -> dict | None:
        try:
            text = self.result_slot(job).read_bytes().strip()
            return json.loads(text) if text else None
        except (OSError, ValueError):
            return None

    def update_queued(self, job: Job) -> None:
        self._write(self.queued / f"{job.id}.json", job)

    def start(self, job: Job) -> None:
        self._write(self.queued / f"{job.id}.json", job)
        os.replace(self.queued / f"{job.id}.json", self.running / f"{job.id}.json")

    def update_running(self, job: Job) -> None:
        self._write(self.running / f"{job.id}.json", job)

    def finish(self, job: Job) -> None:
        src = self.running / f"{job.id}.json"
        if src.exists():
            os.replace(src, self.done / f"{job.id}.json")
        slot = self.result_slot(job)
        if slot.exists():  # the result the job file may lack (written on a full disk) goes with it
            os.replace(slot, self.done / slot.name)

    def in_running(self) -> list[Job]:
        """Claimed jobs, each with its result from the reserved block when its file has none."""
        jobs = []
        for job in self._read_listed(self.running):
            if job.result is None:
                job.result = self.read_result(job)
            jobs.append(job)
        return jobs

    def pending(self) -> list[Job]:
        return self._read_listed(self.queued)

    def _read_listed(self, folder: Path) -> list[Job]:
        """The jobs in ``folder``; a file a worker moved on between the listing and the read (claimed,
        finished) is in its next folder now, not lost: it is skipped here."""
        jobs = []
        for path in sorted(folder.glob("*.json")):
            try:
                jobs.append(self._read(path))
            except FileNotFoundError:
                continue
        return jobs

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
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w") as f:
                f.write(json.dumps(asdict(job)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
