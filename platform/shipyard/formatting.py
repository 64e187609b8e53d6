"""How figures are shown to people: one module for every portal page, CLI table and readable export.

- money: the currency's cents (``1,500.00``); an amount under one cent keeps two significant digits
  (``0.0034``), since a laptop CI run costs fractions of a cent and ``0.00`` would hide that it was priced;
- shares (a fraction 0..1) and percentages (already x100) with a ``%`` sign;
- counts as integers with thousands separators;
- one time format, UTC, to the minute (``2026-12-07 14:05``), also as the charts' axis format.
"""

from __future__ import annotations

import datetime as dt
import math

TIME_FORMAT = "%Y-%m-%d %H:%M"
DATE_FORMAT = "%Y-%m-%d"
# the same format for Vega-Lite (Altair) time axes: d3's strftime directives
CHART_TIME_FORMAT = TIME_FORMAT
CHART_DATE_FORMAT = DATE_FORMAT
NONE = "-"
_MAX_DECIMALS = 8  # below 10^-8 of a currency unit an amount reads as "<0.00000001"


def _decimals(value: float) -> int:
    """2 for cents and more; for a sub-cent amount as many as two significant digits need."""
    size = abs(value)
    if size == 0 or size >= 0.01:
        return 2
    return min(_MAX_DECIMALS, -math.floor(math.log10(size)) + 1)


def money(value: float | None, currency: str = "", grouping: bool = True) -> str:
    """``1,500.00``, ``0.01``, ``0.0034``; ``currency`` appended when given (``1,500.00 USD``).

    ``grouping=False`` drops the thousands separator (CSV cells that spreadsheets read as numbers)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NONE
    value = float(value)
    decimals = _decimals(value)
    if abs(value) < 10**-_MAX_DECIMALS and value != 0:
        text = f"<{10**-_MAX_DECIMALS:.{_MAX_DECIMALS}f}"
    else:
        text = f"{value:,.{decimals}f}" if grouping else f"{value:.{decimals}f}"
        if decimals > 2:  # significant digits only: 0.0030 -> 0.003
            text = text.rstrip("0")
    return f"{text} {currency}" if currency else text


def share(value: float | None, digits: int = 0) -> str:
    """A fraction as a percentage: 0.62 -> ``62%``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NONE
    return percent(float(value) * 100, digits)


def fraction(value: float | None) -> str:
    """A statistic between 0 and 1 compared with the spec's own (a drift share and its limit): ``0.12``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NONE
    return f"{float(value):.2f}"


def percent(value: float | None, digits: int = 0) -> str:
    """A percentage (already x100): 41.66 -> ``42%`` (``digits`` decimals)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NONE
    return f"{float(value):,.{digits}f}%"


def count(value: float | int | None) -> str:
    """An integer count: ``1,234``."""
    if value is None:
        return NONE
    return f"{round(value):,d}"


def hours(value: float | None) -> str:
    """Hours of compute to a tenth: ``12.5``; under a tenth two significant digits (``0.012``)."""
    if value is None:
        return NONE
    size = abs(value)
    if size == 0 or size >= 0.1:
        return f"{value:,.1f}"
    return f"{value:.{min(_MAX_DECIMALS, -math.floor(math.log10(size)) + 1)}f}".rstrip("0")


def when(value: dt.datetime | dt.date | str | None) -> str:
    """The one time format (UTC, to the minute); an ISO string is parsed first; a date stays a date."""
    if value is None or value == "":
        return NONE
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime(TIME_FORMAT)
    return value.strftime(DATE_FORMAT)


def ratio(have: int, needed: int) -> str:
    """``2 of 3 required``; ``none required`` when the tier asks none (never "1 of 0 required")."""
    if needed <= 0:
        return "none required"
    return f"{have} of {needed} required"
