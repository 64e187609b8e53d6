"""The audit log as a file to keep: every event, the witnessed checkpoints and the chain head, as
JSONL or CSV (``shipyard audit export`` and the portal's Audit page write the same text)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from shipyard.audit.store import AuditStore
from shipyard.audit.witness import checkpoints as witnessed_checkpoints


def render_export(store, fmt: str, checkpoints=()) -> str:
    """Every event, the witnessed checkpoints of the head (verify a copy against them later), and the
    chain head."""
    events = store.events()
    check = store.verify()
    head = {"chain_head": check.head, "events": check.count, "verified": check.ok}
    if checkpoints:
        head["checkpoints"] = [cp.as_dict() for cp in checkpoints]
    if fmt == "jsonl":
        lines = [json.dumps(e.as_dict(), sort_keys=True) for e in events]
        lines.append(json.dumps(head))
        return "\n".join(lines) + "\n"
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        ["seq", "at", "actor", "action", "project", "model", "version", "details", "prev_hash", "hash"]
    )
    for e in events:
        writer.writerow([e.seq, e.at, e.actor, e.action, e.project, e.model, e.version,
                         json.dumps(e.details, sort_keys=True), e.prev_hash, e.hash])  # fmt: skip
    for cp in checkpoints:
        row = ["checkpoint", cp.at, "", "", "", "", str(cp.count), json.dumps(cp.as_dict()), "", cp.head]
        writer.writerow(row)
    writer.writerow(["chain_head", "", "", "", "", "", "", json.dumps(head), "", check.head])
    return buf.getvalue()


@dataclass(frozen=True)
class LogExports:
    jsonl: str
    csv: str


def log_exports(data_dir: Path) -> LogExports:
    """The whole log of the platform under ``data_dir`` in both formats, with the checkpoints witnessed
    there."""
    store = AuditStore.of(data_dir)
    witnessed = witnessed_checkpoints(data_dir)
    return LogExports(render_export(store, "jsonl", witnessed), render_export(store, "csv", witnessed))
