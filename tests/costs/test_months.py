"""The Costs page's month list: every month, none skipped, across a year boundary and February."""

from __future__ import annotations

import datetime as dt

from shipyard.costs.months import recent_months


def test_march_offers_february():
    """The old list (today.replace(day=1) - 31 days x i) offered 03, 01, 12 in March: no February."""
    assert recent_months(dt.date(2027, 3, 31)) == [
        "2027-03",
        "2027-02",
        "2027-01",
        "2026-12",
        "2026-11",
        "2026-10",
    ]


def test_across_the_year_boundary():
    assert recent_months(dt.date(2027, 1, 1), 3) == ["2027-01", "2026-12", "2026-11"]


def test_a_year_of_months_are_all_different_and_consecutive():
    months = recent_months(dt.date(2028, 2, 29), 13)  # a leap day
    assert months[0] == "2028-02" and months[-1] == "2027-02"
    assert len(set(months)) == 13
    assert months[1] == "2028-01" and months[2] == "2027-12"
