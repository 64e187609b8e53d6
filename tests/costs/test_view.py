"""The Costs page's view model: months to pick, the first grouping per role, the cumulative trend."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from shipyard.costs import view


def test_months_start_with_this_one():
    assert view.months(dt.date(2026, 2, 10)) == [
        "2026-02",
        "2026-01",
        "2025-12",
        "2025-11",
        "2025-10",
        "2025-09",
    ]
    assert view.months()[0] == dt.date.today().strftime("%Y-%m")


def test_a_project_owner_sees_projects_first_the_others_teams():
    assert view.BY[view.default_by("project owner")] == "project"
    assert view.BY[view.default_by("manager")] == "team"


def test_the_trend_sums_each_key_from_the_first_day():
    series = pd.DataFrame(
        {"date": ["d1", "d1", "d2", "d3"], "key": ["a", "a", "b", "a"], "cost": [1.0, 2.0, 5.0, 1.5]}
    )
    trend = view.cumulative_trend(series)
    assert trend["a"].tolist() == [3.0, 3.0, 4.5]
    assert trend["b"].tolist() == [0.0, 5.0, 5.0]
    assert view.cumulative_trend(pd.DataFrame()) is None and view.cumulative_trend(None) is None
