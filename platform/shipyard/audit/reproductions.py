"""The last reproduction of each champion, from the audit log alone (the portal's Audit page).

The champion is the version of each model's last promotion or rollback event; its last
``reproduce.passed`` / ``reproduce.failed`` event (registry/reproduce.py) is its result."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.audit import names as audit
from shipyard.audit.store import Event

REPRODUCTIONS = (audit.REPRODUCE_PASSED, audit.REPRODUCE_FAILED)


@dataclass(frozen=True)
class ChampionReproduction:
    model: str
    version: str
    result: str  # "passed", "failed" or "never"
    at: str
    by: str
    cause: str
    message: str

    @property
    def mark(self) -> str:
        if self.result == "passed":
            return f"reproduced ✔ {self.at[:10]} by {self.by}"
        if self.result == "failed":
            return f"NOT reproduced ✘ {self.at[:10]} ({self.cause})"
        return "never reproduced"


def champions(events: list[Event]) -> dict[str, str]:
    """model -> champion version, as the promotions and rollbacks in the log left it."""
    found: dict[str, str] = {}
    for e in sorted(events, key=lambda e: e.seq):
        if e.action in (audit.PROMOTE, audit.ROLLBACK) and e.model:
            found[e.model] = e.version
    return found


def last_reproductions(events: list[Event]) -> list[ChampionReproduction]:
    """One row per champion: its last reproduction (or ``never``), by model name."""
    last: dict[tuple[str, str], Event] = {}
    for e in sorted(events, key=lambda e: e.seq):
        if e.action in REPRODUCTIONS:
            last[(e.model, e.version)] = e
    rows = []
    for model, version in sorted(champions(events).items()):
        e = last.get((model, version))
        if e is None:
            rows.append(ChampionReproduction(model, version, "never", "", "", "", ""))
            continue
        result = "passed" if e.action == audit.REPRODUCE_PASSED else "failed"
        d = e.details
        rows.append(ChampionReproduction(model, version, result, e.at, e.actor, str(d.get("cause", "")),
                                         str(d.get("message", ""))))  # fmt: skip
    return rows


def reproduction_rows(reproduced) -> list[dict[str, str]]:
    """The portal's table of the last reproduction per champion."""
    return [
        {
            "model": r.model,
            "champion": f"v{r.version}",
            "last reproduction": r.mark,
            "why not": r.message if r.result == "failed" else "",
        }
        for r in reproduced
    ]
