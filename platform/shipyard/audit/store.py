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

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shipyard.audit.chain import (  # re-exported: callers read the chain's names here
    ENV_DATABASE_URL,
    FIELDS,
    ChainedStore,
    Event,
    Verification,
    database_url,
    event_hash,
)
from shipyard.audit.names import GENESIS
from shipyard.errors import UserError

__all__ = [
    "ENV_DATABASE_URL",
    "FIELDS",
    "AuditStore",
    "ChainedStore",
    "Event",
    "SqliteAuditStore",
    "Verification",
    "audit_db",
    "database_url",
    "event_hash",
    "open_store",
]

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


def audit_db(data_dir: Path) -> Path:
    return Path(data_dir) / "audit" / "audit.db"


def open_store(data_dir: Path) -> ChainedStore | None:
    """The audit log in use: Postgres when its URL is set, else SQLite when the file exists (None if not)."""
    if database_url():
        return AuditStore.of(data_dir)
    return AuditStore.of(data_dir) if audit_db(data_dir).exists() else None


class AuditStore(ChainedStore):
    """The audit log in use (:meth:`of`); either backend is a :class:`ChainedStore`."""

    @classmethod
    def of(cls, data_dir: Path) -> ChainedStore:
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
        try:
            return self._insert(fields)
        except sqlite3.OperationalError as exc:  # a full disk, a read-only mount: nothing was appended
            raise UserError(
                f"the audit log {self.path} cannot be written ({exc}); nothing was recorded",
                "free space on its disk (df -h) or make the data dir writable, then try again",
            ) from None

    def _insert(self, fields: tuple[str, ...]) -> tuple[int, str, str]:
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
