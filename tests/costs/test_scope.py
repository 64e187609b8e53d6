"""A portal scoped to a prefix shows only the spec's teams and the prefix's projects."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from shipyard.costs.results import CostLine, CostReport
from shipyard.costs.scope import scope
from shipyard.spec import parse_spec

SPEC = parse_spec(
    "platform: {name: t}\nteams:\n  - {name: risk, owners: [a@example.com], monthly_budget: 100}\n"
)


def report(by: str, lines: list[CostLine]) -> CostReport:
    return CostReport(by=by, month="2026-11", currency="USD", price_date=dt.date(2026, 11, 1), lines=lines,
                      total=sum(ln.cost for ln in lines), gpu_hours=0.0, unpriced_runs=5)  # fmt: skip


LINES = [
    CostLine("p-a", "risk", "p-a", None, 2.0, gpu_hours=1.0, unpriced_runs=1),
    CostLine("q-b", "risk", "q-b", None, 3.0, unpriced_runs=2),
    CostLine("p-c", "other", "p-c", None, 4.0),
]


def test_project_view_keeps_the_prefix_projects_of_the_spec_teams():
    series = pd.DataFrame(
        {"date": [dt.date(2026, 11, 1)] * 3, "key": ["p-a", "q-b", "p-c"], "cost": [2.0, 3, 4]}
    )
    got = scope(report("project", LINES), SPEC, "p-", series)
    assert [ln.key for ln in got.lines] == ["p-a"] and got.scoped
    assert got.total == 2.0 and got.gpu_hours == 1.0 and got.unpriced_runs == 1
    assert list(got.series["key"]) == ["p-a"]


def test_team_view_keeps_every_spec_team():
    got = scope(report("team", LINES), SPEC, "p-")
    assert [ln.key for ln in got.lines] == ["p-a", "q-b"]


def test_without_a_prefix_everything_and_the_report_unpriced_count():
    got = scope(report("project", LINES), SPEC, None)
    assert len(got.lines) == 3 and got.unpriced_runs == 5 and not got.scoped
