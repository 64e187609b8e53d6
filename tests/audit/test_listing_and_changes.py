"""What the Audit page lists and what changes of the rules the log keeps (issue 34), on a real SQLite
audit store: newest first, filters by project, actor, action and date, the filtered view's export with
the chain head; governance changes of the spec with before/after; a project's tier change."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from shipyard.audit import listing
from shipyard.audit import names as audit
from shipyard.audit.changes import record_governance
from shipyard.audit.store import AuditStore
from shipyard.spec import load_spec

from tests.fixtures.embedded_platform import REPO

DAY1 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path):
    s = AuditStore.of(tmp_path / "data")
    s.append(
        "ci-fraud",
        audit.SUBMIT_REGISTERED,
        "fraud",
        "fraud",
        1,
        {"passed": True, "candidate": {"accuracy": 0.93}, "branch": "main", "reasons": ["ok"]},
        at=DAY1,
    )
    s.append("ci-fraud", audit.SUBMIT_DRY_RUN, "fraud", "fraud", "",
             {"passed": False, "candidate": {"accuracy": 0.61}, "champion": {"accuracy": 0.93},
              "champion_version": "1", "branch": "try-smaller", "reasons": ["accuracy 0.61 is below 0.7"]},
             at=DAY2)  # fmt: skip
    s.append("manager@example.com", audit.PROMOTE, "fraud", "fraud", 1, {"reason": "beats v0"}, at=DAY2)
    s.append("ci-churn", audit.SUBMIT_REFUSED, "churn", "churn", "", {"passed": False}, at=DAY2)
    return s


def test_newest_first_and_every_filter(store):
    events = store.events()
    assert [e.seq for e in listing.select(events, listing.AuditFilter())] == [4, 3, 2, 1]
    by_project = listing.select(events, listing.AuditFilter(projects=("fraud",)))
    assert [e.seq for e in by_project] == [3, 2, 1]
    by_actor = listing.select(events, listing.AuditFilter(actors=("manager@example.com",)))
    assert [e.action for e in by_actor] == [audit.PROMOTE]
    by_action = listing.select(events, listing.AuditFilter(actions=(audit.SUBMIT_DRY_RUN,)))
    assert [e.seq for e in by_action] == [2]
    since = listing.select(events, listing.AuditFilter(since=dt.date(2026, 12, 2)))
    until = listing.select(events, listing.AuditFilter(until=dt.date(2026, 12, 2)))
    assert [e.seq for e in since] == [4, 3, 2] and [e.seq for e in until] == [1]
    chosen = listing.choices(events)
    assert chosen.projects == ["churn", "fraud"] and "manager@example.com" in chosen.actors


def test_rows_sum_up_a_dry_run_and_a_reason_in_one_line(store):
    rows = {r["#"]: r for r in listing.rows(listing.select(store.events(), listing.AuditFilter()))}
    dry = rows[2]["what"]
    assert dry.startswith("gate failed on branch try-smaller: accuracy=0.61 vs champion v1 (accuracy=0.93)")
    assert "below 0.7" in dry
    assert rows[3]["what"] == "reason: beats v0"
    assert rows[1]["at (UTC)"] == "2026-12-01 09:00"


def test_the_export_holds_only_the_shown_events_and_the_chain_head(store):
    shown = listing.select(store.events(), listing.AuditFilter(projects=("fraud",)))
    check = store.verify()
    lines = listing.export_jsonl(shown, check).splitlines()
    assert [json.loads(line)["seq"] for line in lines[:-1]] == [3, 2, 1]
    head = json.loads(lines[-1])
    assert head == {"chain_head": check.head, "events": 4, "verified": True, "shown": 3}
    table = list(csv.reader(io.StringIO(listing.export_csv(shown, check))))
    assert table[0] == listing.CSV_FIELDS and [r[0] for r in table[1:]] == ["3", "2", "1", "chain_head"]


def test_a_changed_gate_is_recorded_with_before_and_after(tmp_path):
    store = AuditStore.of(tmp_path / "data")
    spec = load_spec(REPO / "platform.yaml")
    first = record_governance(store, spec, "admin@example.com", "platform.yaml")
    assert first is not None and first.details["before"] is None
    assert record_governance(store, spec, "admin@example.com") is None  # unchanged: nothing new
    gate = spec.governance.gates[0].model_copy(update={"min": 0.95})
    governance = spec.governance.model_copy(update={"gates": [gate, *spec.governance.gates[1:]]})
    stricter = spec.model_copy(update={"governance": governance})
    changed = record_governance(store, stricter, "admin@example.com")
    assert changed is not None and changed.action == audit.GOVERNANCE_CHANGED
    assert changed.details["what"] == "governance gates"
    assert changed.details["before"]["gates"][0]["min"] == spec.governance.gates[0].min
    assert changed.details["after"]["gates"][0]["min"] == 0.95
    assert store.verify().ok
