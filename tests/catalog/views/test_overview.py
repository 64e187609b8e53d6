"""The Overview's view model: the audit log's record wins, filters, tallies and each role's columns."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from shipyard.audit.store import Verification
from shipyard.audit.view import AuditView
from shipyard.catalog.portfolio import ProjectRow
from shipyard.catalog.views import overview
from shipyard.catalog.views.common import owned_by, owners
from shipyard.formatting import money

NOW = dt.datetime.now(dt.UTC)


def row(project: str, team: str = "fraud", tier: str = "high", status: str = "green", **kw) -> ProjectRow:
    base = ProjectRow(project, team, f"{project}@example.com", tier, 5.0, "passed", NOW, "m v1", 1, 0.1, "ok",
                      12.5, 40.0, "ok", status, "")  # fmt: skip
    return replace(base, **kw)


ROWS = [
    row("a", status="green"),
    row("b", team="search", tier="low", status="red", last_ci="failed", champion="", champion_version=None),
    row("c", team="search", status="amber", owner=""),
]


def test_filters_select_and_owners():
    assert overview.filters(ROWS) == overview.Filters(["fraud", "search"], ["high", "low"])
    assert [r.project for r in overview.select(ROWS, ["search"], [])] == ["b", "c"]
    assert [r.project for r in overview.select(ROWS, ["search"], ["high"])] == ["c"]
    assert overview.select(ROWS, [], []) == ROWS
    assert owners(ROWS) == ["a@example.com", "b@example.com"]
    assert [r.project for r in owned_by(ROWS, "b@example.com")] == ["b"]
    assert owned_by(ROWS, None) == []


def test_tally_counts_each_status_production_and_failing_ci():
    assert overview.tally(ROWS) == overview.Tally(
        projects=3, in_production=2, green=1, amber=1, red=1, ci_failing=1
    )
    assert overview.tally([]) == overview.Tally(0, 0, 0, 0, 0, 0)


def test_table_and_each_roles_columns():
    (first,) = overview.table(ROWS[:1], "EUR")
    assert first["cost MTD (EUR)"] == money(12.5)
    assert first["champion"] == "m v1" and first["drift"].startswith("ok (")
    assert overview.table(ROWS[1:2], "EUR")[0]["champion"] == "-"
    for role in ("manager", "auditor", "project owner"):
        assert set(overview.columns(role, "EUR")) <= set(first)
    assert overview.columns("auditor", "EUR")[:4] == ["status", "project", "risk tier", "champion"]
    assert overview.status_by_team(ROWS) == {
        "team": ["fraud", "search", "search"],
        "status": ["green", "red", "amber"],
    }
    assert overview.scores(ROWS)["health"] == [5.0, 5.0, 5.0]


def test_governed_shows_an_unexplained_champion_as_none_and_red():
    view = AuditView(Verification(True, 0, ""), [], {"a": "alias moved outside the registry"})
    (a, *_) = overview.governed(ROWS, view)
    assert a.champion == "" and a.champion_version is None and a.status == "red"
    assert overview.governed(ROWS, None) == ROWS
