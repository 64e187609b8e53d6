"""The Models page's view model: filters, tallies, each role's table, gate evidence, approvers."""

from __future__ import annotations

from dataclasses import replace

from shipyard.audit import names as audit
from shipyard.audit.store import Event
from shipyard.catalog.inventory import InventoryRow
from shipyard.catalog.views import models as view
from shipyard.spec import load_spec

from tests.fixtures.embedded_platform import REPO

BASE = InventoryRow("m", 1, "champion", "p", "fraud", "high", "ann@x", "passed", "", "accuracy=0.9", "",
                    "ci-p", "2026-11-01T00:00:00+00:00", "md5", "abc", "run1", "ci1", "")  # fmt: skip
ROWS = [
    BASE,
    replace(BASE, version=2, aliases="", gate="failed"),
    replace(BASE, model="n", project="q", version=1, aliases="challenger"),
]


def event(action: str, version: str, **details) -> Event:
    return Event(1, "2026-11-01T00:00:00+00:00", "ci-p", action, "p", "m", version, details, "", "")


def test_filters_and_tallies():
    assert view.projects(ROWS) == ["p", "q"]
    assert [r.version for r in view.select(ROWS, ["p"], False)] == [1, 2]
    assert [(r.model, r.version) for r in view.select(ROWS, [], True)] == [("m", 1)]
    assert view.tally(ROWS) == view.Tally(models=2, versions=3, champions=1, failed_gate=1)


def test_the_auditor_sees_governance_columns_first():
    manager = view.table(ROWS, "manager")[0]
    auditor = view.table(ROWS, "auditor")[0]
    assert manager == auditor  # same cells
    assert list(auditor)[:7] == view.AUDITOR_FIRST
    assert list(manager)[:4] == ["model", "version", "aliases", "gate"]
    assert view.table(ROWS, "manager")[1]["aliases"] == "-"
    assert view.version_label(ROWS[0]) == "m v1 (champion)" and view.version_label(ROWS[1]) == "m v2"


def test_gate_evidence_is_the_last_registration_of_the_version():
    history = [
        event(audit.SUBMIT_REGISTERED, "1", eval_rows=10, eval_hash="a" * 64, candidate={"acc": 0.8}),
        event(audit.SUBMIT_REGISTERED, "1", eval_rows=20, eval_hash="b" * 64, candidate={"acc": 0.9},
              reasons=["better", "held"], validation={"rows": 5, "sha256": "c" * 64, "registered_by": "v@x",
                                                      "candidate": {"acc": 0.7}}),
        event(audit.PROMOTE, "1", previous=None),
    ]  # fmt: skip
    ev = view.gate_evidence(history, 1)
    assert ev.rows == 20 and ev.sha256 == "b" * 16 and ev.reasons == "better; held"
    assert ev.candidate_vs_champion == {"candidate": {"acc": 0.9}, "champion then": {}}
    assert ev.validation == {"rows": 5, "sha256": "c" * 16, "by": "v@x",
                             "comparison": {"candidate": {"acc": 0.7}, "champion then": {}}}  # fmt: skip
    assert view.gate_evidence(history, 2) is None
    rows = view.history_rows(history)
    assert rows[2]["from"] == "-" and rows[2]["action"] == audit.PROMOTE


def test_only_approvers_may_decide():
    spec = load_spec(REPO / "platform.yaml")
    approver = spec.governance.people.approvers[0]
    assert view.may_decide(spec, approver)
    assert not view.may_decide(spec, "stranger@example.com")
