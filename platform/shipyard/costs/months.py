"""Calendar months as the cost views name them (``YYYY-MM``)."""

from __future__ import annotations

import datetime as dt


def recent_months(today: dt.date, count: int = 6) -> list[str]:
    """``today``'s month and the ``count - 1`` before it, newest first, none skipped."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months
