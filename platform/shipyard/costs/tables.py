"""The cost tables as people read them (portal pages, their CSV downloads): every figure formatted by
:mod:`shipyard.formatting`, so one amount reads the same wherever it appears."""

from __future__ import annotations

from collections.abc import Iterable

from shipyard.costs.results import BudgetStatus, CostLine
from shipyard.formatting import count, hours, money, percent


def budget_rows(budgets: Iterable[BudgetStatus], currency: str) -> list[dict[str, object]]:
    """One row per team; ``used %`` stays a number (the page draws it as a progress bar)."""
    return [
        {
            "team": b.team,
            "alert": b.alert,
            f"budget ({currency})": money(b.budget),
            f"spent ({currency})": money(b.spent),
            f"forecast ({currency})": money(b.forecast),
            "forecast used": percent(b.forecast_percent),
            "used %": round(b.percent, 1),
        }
        for b in budgets
    ]


def cost_rows(lines: Iterable[CostLine], by: str, currency: str) -> list[dict[str, str]]:
    return [
        {
            by: line.key,
            "team": line.team,
            f"cost ({currency})": money(line.cost),
            f"storage ({currency})": money(line.storage_cost),
            "GPU hours": hours(line.gpu_hours),
            "runs": count(line.runs),
            "unpriced runs": count(line.unpriced_runs),
            "source": "estimated" if line.estimated else "actual",
        }
        for line in lines
    ]
