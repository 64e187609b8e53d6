"""The Audit page's last reproduction per champion, from the log alone."""

from __future__ import annotations

from shipyard.audit import names as audit
from shipyard.audit.reproductions import last_reproductions
from shipyard.audit.store import Event


def _event(seq: int, action: str, model: str, version: str, actor: str = "a@x", **details) -> Event:
    return Event(seq, f"2026-12-0{seq}T10:00:00+00:00", actor, action, model, model, version, details, "", "")


def test_each_champion_shows_its_last_reproduction_or_never():
    events = [
        _event(1, audit.PROMOTE, "m", "1"),
        _event(2, audit.REPRODUCE_PASSED, "m", "1", "v@x"),
        _event(3, audit.PROMOTE, "m", "2"),
        _event(4, audit.REPRODUCE_PASSED, "m", "2", "v@x"),
        _event(5, audit.REPRODUCE_FAILED, "m", "2", "au@x", cause="data", message="file f is corrupted"),
        _event(6, audit.PROMOTE, "n", "3"),
        _event(7, audit.REPRODUCE_PASSED, "n", "1"),  # not the champion
    ]
    rows = {r.model: r for r in last_reproductions(events)}
    assert (rows["m"].version, rows["m"].result, rows["m"].cause) == ("2", "failed", "data")
    assert rows["m"].mark == "NOT reproduced ✘ 2026-12-05 (data)"
    assert rows["n"].result == "never" and rows["n"].mark == "never reproduced"
    events.append(_event(8, audit.REPRODUCE_PASSED, "n", "3", "v@x"))
    assert {r.model: r for r in last_reproductions(events)}["n"].mark == "reproduced ✔ 2026-12-08 by v@x"
