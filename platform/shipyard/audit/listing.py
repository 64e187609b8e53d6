"""The audit log as the portal's Audit page lists it: newest first, filtered by project, actor, action
and date, each event summed up in one line (a gate's verdict and metrics, a reason, a change's before
and after), and the filtered view exported with the whole chain's head so it can be checked later."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shipyard.audit import names as audit
from shipyard.audit.store import Event, Verification
from shipyard.formatting import when

FINDING_MARK, OK_MARK = "red", "ok"
CSV_FIELDS = ["seq", "at", "actor", "action", "project", "model", "version", "details", "prev_hash", "hash"]


@dataclass(frozen=True)
class AuditFilter:
    projects: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    since: dt.date | None = None  # inclusive, UTC dates
    until: dt.date | None = None  # inclusive

    def keeps(self, event: Event) -> bool:
        day = event.at[:10]
        return (
            (not self.projects or event.project in self.projects)
            and (not self.actors or event.actor in self.actors)
            and (not self.actions or event.action in self.actions)
            and (self.since is None or day >= self.since.isoformat())
            and (self.until is None or day <= self.until.isoformat())
        )


@dataclass(frozen=True)
class Choices:
    projects: list[str]
    actors: list[str]
    actions: list[str]


def choices(events: Iterable[Event]) -> Choices:
    events = list(events)
    return Choices(
        projects=sorted({e.project for e in events if e.project}),
        actors=sorted({e.actor for e in events if e.actor}),
        actions=sorted({e.action for e in events}),
    )


def select(events: Iterable[Event], chosen: AuditFilter) -> list[Event]:
    """The events ``chosen`` keeps, newest first."""
    return sorted((e for e in events if chosen.keeps(e)), key=lambda e: e.seq, reverse=True)


def _metrics(values: dict | None) -> str:
    if not values:
        return "-"
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in values.items())


def summary(event: Event) -> str:
    """One line: what happened and why."""
    d = event.details or {}
    if event.action == audit.SUBMIT_UNCHANGED:
        return f"same data, parameters and code as v{event.version}: not registered again"
    if event.action in (audit.SUBMIT_DRY_RUN, audit.SUBMIT_REFUSED, audit.SUBMIT_REGISTERED):
        verdict = "passed" if d.get("passed") else "failed"
        where = f" on branch {d['branch']}" if d.get("branch") else ""
        champion = d.get("champion_version")
        against = f" vs champion v{champion} ({_metrics(d.get('champion'))})" if champion else ""
        line = f"gate {verdict}{where}: {_metrics(d.get('candidate'))}{against}"
        reasons = "; ".join(d.get("reasons", []))
        return f"{line}. {reasons}" if reasons else line
    if "before" in d or "after" in d:
        what = d.get("what", "")
        return f"{what}: {json.dumps(d.get('before'))} -> {json.dumps(d.get('after'))}".strip(": ")
    if d.get("reason"):
        return f"reason: {d['reason']}"
    return str(d.get("what") or d.get("note") or "; ".join(d.get("reasons", [])) or "")


def rows(events: Sequence[Event]) -> list[dict[str, object]]:
    """The table the page shows: one row per event, in the order given."""
    return [
        {
            "#": e.seq,
            "mark": FINDING_MARK if e.action.startswith("finding") else OK_MARK,
            "at (UTC)": when(e.at),
            "actor": e.actor,
            "action": e.action,
            "project": e.project,
            "model": e.model,
            "version": e.version,
            "what": summary(e),
            "hash": e.hash[:16],
        }
        for e in events
    ]


def _head(check: Verification, shown: int) -> dict:
    return {"chain_head": check.head, "events": check.count, "verified": check.ok, "shown": shown}


def export_jsonl(events: Sequence[Event], check: Verification) -> str:
    """The filtered events (newest first, each with its hashes) and the whole chain's head."""
    lines = [json.dumps(e.as_dict(), sort_keys=True) for e in events]
    lines.append(json.dumps(_head(check, len(events))))
    return "\n".join(lines) + "\n"


def export_csv(events: Sequence[Event], check: Verification) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for e in events:
        writer.writerow([e.seq, e.at, e.actor, e.action, e.project, e.model, e.version,
                         json.dumps(e.details, sort_keys=True), e.prev_hash, e.hash])  # fmt: skip
    writer.writerow(
        ["chain_head", "", "", "", "", "", "", json.dumps(_head(check, len(events))), "", check.head]
    )
    return buf.getvalue()
