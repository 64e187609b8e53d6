"""The audit log as a file: both formats carry every event, the witnessed checkpoints and the chain
head; the portal's download and ``shipyard audit export`` write the same text."""

from __future__ import annotations

import csv
import io
import json

from shipyard.audit import names as audit
from shipyard.audit.export import log_exports, render_export
from shipyard.audit.store import AuditStore
from shipyard.audit.witness import checkpoint, checkpoints


def test_log_exports_carry_every_event_the_checkpoints_and_the_head(tmp_path, monkeypatch):
    monkeypatch.delenv("SHIPYARD_AUDIT_DATABASE_URL", raising=False)
    store = AuditStore.of(tmp_path)
    store.append("ci-p", audit.SUBMIT_REGISTERED, "p", "p", 1, {"candidate": {"accuracy": 0.93}})
    store.append("manager@example.com", audit.PROMOTE, "p", "p", 1, {"previous": None})
    checkpoint(store, tmp_path)

    exports = log_exports(tmp_path)

    lines = [json.loads(line) for line in exports.jsonl.splitlines()]
    assert [e["action"] for e in lines[:-1]] == [audit.SUBMIT_REGISTERED, audit.PROMOTE]
    head = lines[-1]
    assert head["events"] == 2 and head["verified"] is True and len(head["checkpoints"]) == 1
    rows = list(csv.reader(io.StringIO(exports.csv)))
    assert [r[0] for r in rows] == ["seq", "1", "2", "checkpoint", "chain_head"]
    assert exports.jsonl == render_export(store, "jsonl", checkpoints(tmp_path))
    assert exports.csv == render_export(store, "csv", checkpoints(tmp_path))
