"""The audit store in Postgres (a cluster's registry service: ``SHIPYARD_AUDIT_DATABASE_URL``).

Same columns (text, so the hashes are computed over the very strings SQLite stores), same chain, same
`verify`. A statement trigger refuses UPDATE, DELETE and TRUNCATE for every role, the owner's included;
appends hold a transaction-scoped advisory lock while they read the head and insert, and ``seq`` is the
primary key, so two writers (two registry pods, the CLI's reconcile) can never fork the chain.

The schema is created by the first store that finds it missing, which must then be the database's owner.
The application role needs only CONNECT, SELECT and INSERT (docs/platform-engineer.md); it can then
neither drop the trigger nor change a row. The owner (or a superuser) still can: the chain *detects*
such an edit, it cannot prevent it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

from shipyard.audit.chain import ENV_DATABASE_URL, FIELDS, ChainedStore, event_hash
from shipyard.audit.names import GENESIS
from shipyard.errors import BadInput, Refused, ServiceUnavailable

CONNECT_TIMEOUT_S = 5
SERVICE = "the audit database"
# one lock key for every writer of this database's audit chain (pg_advisory_xact_lock takes a bigint)
LOCK_KEY = int.from_bytes(hashlib.sha256(b"shipyard.audit.events").digest()[:8], "big", signed=True)
TRIGGER = "events_append_only"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS events (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    project TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{{}}',
    prev_hash TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL UNIQUE
);
CREATE OR REPLACE FUNCTION shipyard_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP;
END
$$;
CREATE OR REPLACE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION shipyard_audit_refuse();
"""
SCHEMA_IN_PLACE = (
    "SELECT to_regclass('events') IS NOT NULL, EXISTS (SELECT 1 FROM pg_trigger "
    f"WHERE tgrelid = to_regclass('events') AND tgname = '{TRIGGER}' AND tgenabled <> 'D')"
)
LOCK_WAIT = "SET LOCAL lock_timeout = '30s'"  # a writer stuck behind a hung one says so, bounded


def redacted(url: str) -> str:
    """The URL without its password or query (which may hold one): safe in a message or a log."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "(an unparsable URL)"


class PostgresAuditStore(ChainedStore):
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        if urlsplit(url).scheme not in ("postgresql", "postgres"):
            raise BadInput(
                f"{ENV_DATABASE_URL} is not a Postgres URL: {redacted(url)}",
                f"set {ENV_DATABASE_URL}=postgresql://USER:PASSWORD@HOST:5432/DATABASE, or unset it for "
                "the SQLite audit log",
            )
        self.url = url
        self.where = redacted(url)
        self._ensure_schema()

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection]:
        """One connection, one transaction (committed on success); a database that does not answer is
        a ServiceUnavailable, never a traceback."""
        try:
            with psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                yield conn
        except psycopg.OperationalError as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()
            raise ServiceUnavailable(
                SERVICE,
                self.where,
                detail.replace(self.url, self.where),
                f"start the database or correct {ENV_DATABASE_URL} (unset it for the SQLite audit log)",
            ) from None
        except psycopg.ProgrammingError as exc:
            if not isinstance(exc, psycopg.errors.InsufficientPrivilege | psycopg.errors.UndefinedTable):
                raise
            raise Refused(
                f"{SERVICE} at {self.where} refused the audit store: {str(exc).strip().splitlines()[0]}",
                "the database owner creates the events table once and grants the app role "
                "CONNECT, SELECT and INSERT (docs/platform-engineer.md, 'Audit log in Postgres')",
            ) from None

    def _ensure_schema(self) -> None:
        with self._connect() as conn:
            table, trigger = conn.execute(SCHEMA_IN_PLACE).fetchone()
            if table and trigger:
                return
            conn.execute(LOCK_WAIT)
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))  # two first starts at once
            try:
                conn.execute(SCHEMA)
            except psycopg.errors.InsufficientPrivilege:
                if not table:
                    raise
                raise Refused(
                    f"{SERVICE} at {self.where}: the audit log's append-only trigger is missing or "
                    "disabled (someone with the owner's rights removed it)",
                    "the database owner restores it (run `shipyard audit verify` once with the owner's URL),"
                    " then check the chain with `shipyard audit verify`",
                ) from None

    def _append_row(self, fields: tuple[str, ...]) -> tuple[int, str, str]:
        with self._connect() as conn:
            # held until commit: the next writer reads the head only after this event is in
            conn.execute(LOCK_WAIT)
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            row = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            last, prev = row if row else (0, GENESIS)
            digest = event_hash(prev, *fields)
            conn.execute(
                "INSERT INTO events (seq, at, actor, action, project, model, version, details, prev_hash,"
                " hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (last + 1, *fields, prev, digest),
            )
            return last + 1, prev, digest

    def _rows(self, where: str = "", params: tuple = ()) -> list[tuple]:
        with self._connect() as conn:
            query = f"SELECT {', '.join(FIELDS)} FROM events {where} ORDER BY seq"
            return conn.execute(query, params).fetchall()
