"""An append-only, hash-chained event store: SQLite (``<data dir>/audit/audit.db``) by default, Postgres
when ``SHIPYARD_AUDIT_DATABASE_URL`` is set (a cluster's registry service; :mod:`shipyard.audit.postgres`).

Each event's hash is SHA-256 over the previous event's hash and the event's canonical JSON, so an
edited or deleted row breaks the chain from that event on. Both backends compute the same hashes from
the same text columns, so `verify`, the export and the chain head do not depend on the backend.
Triggers make the database refuse UPDATE and DELETE (and TRUNCATE on Postgres); someone who owns the
file or the database can still drop them: the chain then *detects* the edit, it does not prevent it
(docs/manager-auditor.md). Appends are serialised (SQLite: an exclusive transaction; Postgres: an
advisory lock in the append's transaction), so concurrent writers never fork the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from shipyard.audit.names import GENESIS
from shipyard.platform.env import ENV_AUDIT_DATABASE_URL as ENV_DATABASE_URL

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


def database_url() -> str | None:
    """The Postgres audit database's URL, when this process keeps its audit log there."""
    return os.environ.get(ENV_DATABASE_URL, "").strip() or None


def open_store(data_dir: Path) -> AuditStore | None:
    """The audit log in use: Postgres when its URL is set, else SQLite when the file exists (None if not)."""
    if database_url():
        return AuditStore.of(data_dir)
    return AuditStore.of(data_dir) if audit_db(data_dir).exists() else None


class AuditStore:
    """The interface: ``append``, ``events``, ``head``, ``verify``. A backend implements ``_append_row``
    (in one serialised transaction: read the head, link, insert) and ``_rows``."""

    placeholder = "?"  # the backend's query parameter marker

    @classmethod
    def of(cls, data_dir: Path) -> AuditStore:
        """Postgres when ``SHIPYARD_AUDIT_DATABASE_URL`` is set, else SQLite under the data dir."""
        url = database_url()
        if url:
            try:
                from shipyard.audit.postgres import PostgresAuditStore
            except ImportError:  # psycopg is the `postgres` extra: the registry's image has it
                from shipyard.errors import BadInput

                raise BadInput(
                    f"{ENV_DATABASE_URL} names a Postgres audit log, but psycopg is not installed",
                    "pip install 'shipyard[postgres]', or unset it for the data dir's SQLite log",
                ) from None
            return PostgresAuditStore(url)
        return SqliteAuditStore(audit_db(data_dir))

    def append(self, actor: str, action: str, project: str = "", model: str = "", version: str | int = "",
               details: dict | None = None, at: dt.datetime | None = None) -> Event:  # fmt: skip
        when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")
        details_json = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), default=str)
        version = str(version)
        fields = (when, actor, action, project, model, version, details_json)
        seq, prev, digest = self._append_row(fields)
        return Event(seq, when, actor, action, project, model, version, details or {}, prev, digest)

    def _append_row(self, fields: tuple[str, ...]) -> tuple[int, str, str]:
        """Insert (at, actor, action, project, model, version, details) after the current head, in one
        transaction no other append interleaves with; return (seq, prev_hash, hash)."""
        raise NotImplementedError

    def _rows(self, where: str = "", params: tuple = ()) -> list[tuple]:
        raise NotImplementedError

    def events(self, project: str | None = None, model: str | None = None, since: str | None = None,
               action: str | None = None) -> list[Event]:  # fmt: skip
        clauses, params = [], []
        for column, value in (("project", project), ("model", model), ("action", action)):
            if value:
                clauses.append(f"{column} = {self.placeholder}")
                params.append(value)
        if since:
            clauses.append(f"at >= {self.placeholder}")
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


class SqliteAuditStore(AuditStore):
    """One SQLite file (0600) under the data dir: the default, and a cluster's without a database."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path.parent.chmod(0o700)  # the WAL and shm files come and go with the umask's mode
        with self._connect() as conn:
            conn.executescript(SCHEMA)
        for file in (self.path, *(self.path.with_name(self.path.name + x) for x in ("-wal", "-shm"))):
            if file.exists():
                file.chmod(0o600)

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

    def _append_row(self, fields: tuple[str, ...]) -> tuple[int, str, str]:
        with self._tx() as conn:
            row = conn.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            prev = row[0] if row else GENESIS
            digest = event_hash(prev, *fields)
            cur = conn.execute(
                "INSERT INTO events (at, actor, action, project, model, version, details, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*fields, prev, digest),
            )
            return cur.lastrowid, prev, digest

    def _rows(self, where: str = "", params: tuple = ()) -> list[tuple]:
        conn = self._connect()
        try:
            return conn.execute(
                f"SELECT {', '.join(FIELDS)} FROM events {where} ORDER BY seq", params
            ).fetchall()
        finally:
            conn.close()


def _event(row: tuple) -> Event:
    seq, at, actor, action, project, model, version, details, prev_hash, digest = row
    try:
        parsed = json.loads(details)
    except ValueError:
        parsed = {"unparsable": details}
    return Event(seq, at, actor, action, project, model, version, parsed, prev_hash, digest)
