"""How figures read: one format per kind of figure, whatever page, table or export shows it."""

from __future__ import annotations

import datetime as dt

import pytest
from shipyard.formatting import count, hours, money, percent, ratio, share, when


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (500.0, "500.00"),
        (1500, "1,500.00"),
        (0.0, "0.00"),
        (0.0112, "0.01"),  # the same spend read 0.0112, 0.01 and 0.010000 on one page
        (0.01, "0.01"),
        (0.0034, "0.0034"),  # under a cent: two significant digits, not 0.00
        (0.003, "0.003"),
        (0.0000123, "0.000012"),
        (-2.5, "-2.50"),
        (None, "-"),
        (float("nan"), "-"),
    ],
)
def test_money(value, shown):
    assert money(value) == shown


def test_money_with_currency_and_for_csv():
    assert money(1500, "USD") == "1,500.00 USD"
    assert money(12345.678, grouping=False) == "12345.68"


def test_shares_percentages_counts_hours():
    assert share(0.62) == "62%"
    assert share(0.125, 1) == "12.5%"
    assert percent(41.66) == "42%" and percent(41.66, 1) == "41.7%"
    assert count(1234) == "1,234" and count(3.0) == "3"
    assert hours(12.345) == "12.3" and hours(0.0123) == "0.012" and hours(0) == "0.0"


def test_one_time_format_in_utc():
    at = dt.datetime(2026, 12, 7, 18, 5, 33, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert when(at) == "2026-12-07 16:05"
    assert when("2026-12-07T16:05:33+00:00") == "2026-12-07 16:05"
    assert when(dt.date(2026, 12, 7)) == "2026-12-07"
    assert when(None) == "-"


def test_approvals_never_read_one_of_zero():
    assert ratio(1, 0) == "none required"
    assert ratio(1, 2) == "1 of 2 required"
