"""The audit log's hash chain, whatever database keeps it: the event, its hash, and the store interface
both backends (:mod:`.store`'s SQLite, :mod:`.postgres`) implement. The backends import this module;
:mod:`.store` picks one, so neither backend imports the other's module."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass

from shipyard.audit.names import GENESIS
from shipyard.platform.env import ENV_AUDIT_DATABASE_URL as ENV_DATABASE_URL  # postgresql://u:p@host/db

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


def database_url() -> str | None:
    """The Postgres audit database's URL, when this process keeps its audit log there."""
    return os.environ.get(ENV_DATABASE_URL, "").strip() or None


class ChainedStore:
    """The interface: ``append``, ``events``, ``head``, ``verify``. A backend implements ``_append_row``
    (in one serialised transaction: read the head, link, insert) and ``_rows``."""

    placeholder = "?"  # the backend's query parameter marker

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


def _event(row: tuple) -> Event:
    seq, at, actor, action, project, model, version, details, prev_hash, digest = row
    try:
        parsed = json.loads(details)
    except ValueError:
        parsed = {"unparsable": details}
    return Event(seq, at, actor, action, project, model, version, parsed, prev_hash, digest)
