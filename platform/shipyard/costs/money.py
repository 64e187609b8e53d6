"""How money is shown: cents, except for amounts under one unit, which would all read 0.00.

A laptop CI run costs fractions of a cent; showing it as 0.00 would hide that it was priced.
"""

from __future__ import annotations

from collections.abc import Iterable


def money(value: float) -> str:
    if value == 0 or abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:,.4f}"


def money_printf(values: Iterable[float | None]) -> str:
    """A printf format for a column of amounts: 4 decimals when every amount is under one unit."""
    amounts = [abs(v) for v in values if v]
    return "%.4f" if amounts and max(amounts) < 1 else "%.2f"
