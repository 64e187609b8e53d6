"""The pre-receive hook refuses a push whose job cannot reach ``ci/queue`` (issue 35, item 3's queue
half). Only ``queue/`` is unwritable here; ``incoming/`` is fine. Root ignores chmod, so the rename into
the queue is patched to fail as an unwritable folder makes it."""

from __future__ import annotations

import errno
import io
import os
import sys

from shipyard.ci import hook
from shipyard.ci.queue import CiQueue


def test_pre_receive_refuses_a_push_when_only_the_queue_folder_is_unwritable(tmp_path, monkeypatch, capsys):
    queue = CiQueue(tmp_path / "ci")
    real_replace = os.replace

    def unwritable_queue(src, dst):
        if os.fspath(dst).startswith(os.fspath(queue.queued)):
            raise OSError(errno.EACCES, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", unwritable_queue)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{'0' * 40} {'a' * 40} refs/heads/main\n"))
    rc = hook.main(["--data-dir", str(tmp_path), "--project", "p", "--repo", "/r", "--check"])
    lines = capsys.readouterr().out.splitlines()
    assert rc == 1  # git rejects the push: no commit lands that would stay `queued` forever
    assert lines[0].startswith("shipyard: push refused: the CI queue") and "Permission denied" in lines[0]
    assert lines[1].startswith("shipyard: fix:")
    assert list(queue.incoming.iterdir()) == [] and list(queue.queued.iterdir()) == []
