"""An append-only, hash-chained event store in SQLite (``<data dir>/audit/audit.db``).

Each event's hash is SHA-256 over the previous event's hash and the event's canonical JSON, so an
edited or deleted row breaks the chain from that event on. Triggers make SQLite refuse UPDATE and
DELETE; someone with the file can still drop them: the chain then *detects* the edit, it does not
prevent it (docs/manager-auditor.md). Appends take an exclusive transaction, so concurrent writers
(the registry service, the CLI's reconcile) never fork the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from shipyard.audit.names import GENESIS

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    project TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE is refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE is refused'); END;
"""
FIELDS = ("seq", "at", "actor", "action", "project", "model", "version", "details", "prev_hash", "hash")


@dataclass(frozen=True)
class Event:
    seq: int
    at: str  # UTC, ISO 8601
    actor: str
    action: str
    project: str
    model: str
    version: str
    details: dict
    prev_hash: str
    hash: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Verification:
    ok: bool
    count: int
    head: str
    bad_seq: int | None = None
    reason: str = ""

    def summary(self) -> str:
        if self.ok:
            return f"verified: {self.count} events, head {self.head[:16]}"
        return f"BROKEN at event {self.bad_seq}: {self.reason}"


def event_hash(prev_hash: str, at: str, actor: str, action: str, project: str, model: str, version: str,
               details_json: str) -> str:  # fmt: skip
    body = json.dumps(
        [prev_hash, at, actor, action, project, model, version, details_json], separators=(",", ":")
    )
    return hashlib.sha256(body.encode()).hexdigest()


def audit_db(data_dir: Path) -> Path:
    return Path(data_dir) / "audit" / "audit.db"


class AuditStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(SCHEMA)
        self.path.chmod(0o600)

    @classmethod
    def of(cls, data_dir: Path) -> AuditStore:
        return cls(audit_db(data_dir))

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def append(self, actor: str, action: str, project: str = "", model: str = "", version: str | int = "",
               details: dict | None = None, at: dt.datetime | None = None) -> Event:  # fmt: skip
        when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")
        details_json = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), default=str)
        version = str(version)
        with self._tx() as conn:
            row = conn.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            prev = row[0] if row else GENESIS
            digest = event_hash(prev, when, actor, action, project, model, version, details_json)
            cur = conn.execute(
                "INSERT INTO events (at, actor, action, project, model, version, details, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (when, actor, action, project, model, version, details_json, prev, digest),
            )
            seq = cur.lastrowid
        return Event(seq, when, actor, action, project, model, version, details or {}, prev, digest)

    def _rows(self, where: str = "", params: tuple = ()) -> list[tuple]:
        conn = self._connect()
        try:
            return conn.execute(
                f"SELECT {', '.join(FIELDS)} FROM events {where} ORDER BY seq", params
            ).fetchall()
        finally:
            conn.close()

    def events(self, project: str | None = None, model: str | None = None, since: str | None = None,
               action: str | None = None) -> list[Event]:  # fmt: skip
        clauses, params = [], []
        for column, value in (("project", project), ("model", model), ("action", action)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since:
            clauses.append("at >= ?")
            params.append(since)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return [_event(r) for r in self._rows(where, tuple(params))]

    def head(self) -> str:
        rows = self._rows("WHERE seq = (SELECT MAX(seq) FROM events)")
        return rows[0][-1] if rows else GENESIS

    def verify(self) -> Verification:
        """Recompute the chain; the first event whose stored hash or link is wrong is named."""
        prev, count, last_seq = GENESIS, 0, 0
        for row in self._rows():
            seq, at, actor, action, project, model, version, details, prev_hash, digest = row
            if seq != last_seq + 1:
                return Verification(False, count, prev, last_seq + 1, f"event {last_seq + 1} is missing")
            if prev_hash != prev:
                return Verification(False, count, prev, seq, "its link to the previous event is wrong")
            if event_hash(prev_hash, at, actor, action, project, model, version, details) != digest:
                return Verification(False, count, prev, seq, "its content does not match its hash")
            prev, count, last_seq = digest, count + 1, seq
        return Verification(True, count, prev)


def _event(row: tuple) -> Event:
    seq, at, actor, action, project, model, version, details, prev_hash, digest = row
    try:
        parsed = json.loads(details)
    except ValueError:
        parsed = {"unparsable": details}
    return Event(seq, at, actor, action, project, model, version, parsed, prev_hash, digest)
