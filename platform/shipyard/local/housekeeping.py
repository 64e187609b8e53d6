"""What runs leave behind on the embedded platform, tidied by the CI runner: the checkouts of runs that
no longer run (an interrupted run's stayed in ``ci/work``), finished runs' job files and logs past the
spec's retention (``local.retention.ci_runs_days``), and service logs rotated past
``local.retention.log_max_mb`` (``logs_kept`` copies).

Service logs are held open by their processes (append mode), so a log is rotated by copy and truncate:
the process goes on writing at the start of the emptied file; a line written between the copy and the
truncation may be lost, never the file.
"""

from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.ci.queue import CiQueue
from shipyard.spec.local import Retention
from shipyard.spec.model import PlatformSpec

EVERY_S = 600.0  # how often the runner tidies (first right after its crash recovery)
DAY_S = 86_400


@dataclass
class Tidied:
    checkouts: list[str] = field(default_factory=list)  # run ids whose checkout was removed
    runs: list[str] = field(default_factory=list)  # job files of finished runs pruned
    logs: list[str] = field(default_factory=list)  # CI run logs pruned
    rotated: list[str] = field(default_factory=list)  # service logs rotated

    def summary(self) -> str:
        parts = [
            f"{len(self.checkouts)} checkout(s) of runs that no longer run",
            f"{len(self.runs)} finished run(s) and {len(self.logs)} CI log(s) past retention",
            f"{len(self.rotated)} service log(s) rotated",
        ]
        return "housekeeping: removed " + ", ".join(parts)

    def __bool__(self) -> bool:
        return bool(self.checkouts or self.runs or self.logs or self.rotated)


def retention_of(spec: PlatformSpec | None) -> Retention:
    return spec.local.retention if spec is not None else Retention()


def remove_stale_checkouts(queue: CiQueue) -> list[str]:
    """Remove ``ci/work/<run id>`` unless that run's job is running now (no result yet)."""
    active = set()
    for path in queue.running.glob("*.json"):
        try:
            job = queue._read(path)
        except (OSError, ValueError, TypeError):
            continue
        if job.run_id and job.result is None:
            active.add(job.run_id)
    removed = []
    for work in sorted(queue.work.iterdir()):
        if work.name in active:
            continue
        if work.is_dir() and not work.is_symlink():
            shutil.rmtree(work, ignore_errors=True)
        else:
            work.unlink(missing_ok=True)
        removed.append(work.name)
    return removed


def prune_finished(queue: CiQueue, days: int, now: float | None = None) -> tuple[list[str], list[str]]:
    """Job files in ``ci/done`` and CI logs older than ``days``; a log of a run still waiting or running
    is kept whatever its age."""
    cutoff = (time.time() if now is None else now) - days * DAY_S
    runs, logs = [], []
    for path in sorted(queue.done.iterdir()):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            runs.append(path.name)
    pending = queue.known_run_ids()
    for path in sorted(queue.logs.glob("*.log")):
        if path.stem not in pending and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            logs.append(path.name)
    return runs, logs


def rotate_log(path: Path, max_bytes: int, keep: int) -> bool:
    """``path`` -> ``path.1`` (older copies shift up to ``path.<keep>``) when it is larger than
    ``max_bytes``; the file itself is truncated in place (its writer keeps its handle)."""
    try:
        if path.stat().st_size <= max_bytes:
            return False
    except FileNotFoundError:
        return False
    path.with_name(f"{path.name}.{keep}").unlink(missing_ok=True)
    for n in range(keep - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{n + 1}"))
    shutil.copyfile(path, path.with_name(f"{path.name}.1"))
    with open(path, "r+b") as log:
        log.truncate(0)
    return True


def tidy(data_dir: Path, retention: Retention, now: float | None = None) -> Tidied:
    queue = CiQueue(data_dir / "ci")
    done = Tidied(checkouts=remove_stale_checkouts(queue))
    done.runs, done.logs = prune_finished(queue, retention.ci_runs_days, now)
    max_bytes = retention.log_max_mb * 1024 * 1024
    for log in sorted((data_dir / "logs").glob("*.log")):
        if rotate_log(log, max_bytes, retention.logs_kept):
            done.rotated.append(log.name)
    return done


class Housekeeper:
    """Tidies a data dir at most every ``every_s`` seconds (the runner calls it while idle)."""

    def __init__(
        self, data_dir: Path, spec_of: Callable[[], PlatformSpec | None], every_s: float = EVERY_S
    ) -> None:
        self.data_dir, self.spec_of, self.every_s = data_dir, spec_of, every_s
        self._next = 0.0

    def maybe_run(self) -> Tidied | None:
        if time.monotonic() < self._next:
            return None
        self._next = time.monotonic() + self.every_s
        try:
            try:
                spec = self.spec_of()
            except Exception:  # no readable spec: the defaults
                spec = None
            done = tidy(self.data_dir, retention_of(spec))
        except Exception:  # tidying must never stop the runner: it says so and tries again later
            traceback.print_exc()
            return None
        if done:
            print(done.summary(), flush=True)
        return done
