"""The Costs page's choices and chart: the months to pick from (this one first) and the month's
cumulative cost per key, day by day."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from shipyard.costs.months import recent_months

BY = ("team", "project", "model")


def months(today: dt.date | None = None) -> list[str]:
    """This month and the five before it, newest first."""
    return recent_months(today or dt.date.today())


def default_by(role: str) -> int:
    """The grouping a role sees first: its projects for a project owner, teams for the others."""
    return BY.index("project") if role == "project owner" else BY.index("team")


def cumulative_trend(series: object) -> pd.DataFrame | None:
    """Date x key, each key's cost summed from the month's first day; None without daily costs."""
    if not isinstance(series, pd.DataFrame) or series.empty:
        return None
    daily = series.pivot_table(index="date", columns="key", values="cost", aggfunc="sum")
    return daily.fillna(0).cumsum()
