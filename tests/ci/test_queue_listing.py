"""The queue's listings while workers move job files: a file that moved on is skipped, never an error."""

from __future__ import annotations

from pathlib import Path

from shipyard.ci.queue import CiQueue


def test_a_job_that_moves_on_between_the_listing_and_the_read_is_skipped(tmp_path, monkeypatch):
    queue = CiQueue(tmp_path)
    first = queue.put("p", "/r", "a" * 40, "main", run_id="run-1")
    queue.put("p", "/r", "b" * 40, "main", run_id="run-2")
    read = CiQueue._read

    def racing_read(path: Path):
        if first.id in path.name:
            path.unlink()  # a worker claimed it right after the listing
        return read(path)

    monkeypatch.setattr(CiQueue, "_read", staticmethod(racing_read))
    assert [j.run_id for j in queue.pending()] == ["run-2"]
    assert queue.in_running() == []
