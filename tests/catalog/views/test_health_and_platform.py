"""The Health and Platform pages' view models."""

from __future__ import annotations

import datetime as dt

from shipyard.catalog.services import ServiceHealth
from shipyard.catalog.views import health, platform
from shipyard.health import SECTIONS
from shipyard.health.ml_test_score import Scorecard
from shipyard.health.ml_test_score import TestResult as Result
from shipyard.records import Project, Snapshot
from shipyard.spec import load_spec

from tests.fixtures.embedded_platform import REPO

RESULTS = [
    Result("data-1", "data", "Schema", 1.0, "automated", "seen"),
    Result("data-2", "data", "Docs", 0.5, "manual", "wiki"),
    Result("data-3", "data", "Privacy", 0.0, "missing", "a privacy review"),
]
CARDS = {
    "p": Scorecard("p", RESULTS, dict.fromkeys(SECTIONS, 1.5), 1.5, True),
    "q": Scorecard("q", RESULTS[2:], dict.fromkeys(SECTIONS, 0.0), 0.0, True),
}
SNAP = Snapshot([Project("p", "1", "t", "high", "ann@x"), Project("q", "2", "t", "low", "")], [], [], [], [],
                dt.datetime(2026, 11, 1, tzinfo=dt.UTC))  # fmt: skip


def test_health_summary_counts_how_each_test_was_met():
    p, q = health.summary(CARDS)
    assert (p["automated"], p["manual"], p["missing"]) == (1, 1, 1)
    assert (q["automated"], q["manual"], q["missing"]) == (0, 0, 1)
    assert all(p[s] == 1.5 for s in SECTIONS) and p["score"] == 1.5


def test_health_for_an_owner_and_one_cards_evidence():
    owners = health.project_owners(SNAP)
    assert health.owner_choices(owners) == ["ann@x"]
    assert list(health.cards_of(CARDS, owners, "ann@x")) == ["p"]
    assert [r["test"] for r in health.seen_rows(CARDS["p"])] == ["data-1", "data-2"]
    assert health.missing_rows(CARDS["p"]) == [
        {"test": "data-3", "title": "Privacy", "what would count": "a privacy review"}
    ]


def test_platform_services_and_teams():
    checked = [
        ServiceHealth("mlflow", "http://m", "up", "", 12.0),
        ServiceHealth("prometheus", "", "down", "refused"),
    ]
    assert platform.down(checked) == ["prometheus"]
    rows = platform.service_rows(checked)
    assert rows[1]["URL"] == "-" and rows[0]["service"] == "mlflow"
    spec = load_spec(REPO / "platform.yaml")
    teams = platform.team_rows(spec)
    assert [t["team"] for t in teams] == [t.name for t in spec.teams]
    assert f"monthly budget ({spec.platform.currency})" in teams[0]
