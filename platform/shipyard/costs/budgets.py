"""Budgets: month-to-date spend per team against the spec's ``monthly_budget``.

Forecast method (``FORECAST_METHOD``): linear run-rate. Month-to-date spend divided by the days
elapsed (today counts as a whole day) times the days in the month. A past month's forecast is its
spend. Alerts come from spend so far: ``warning`` at 80 % of the budget, ``over`` at 100 %.
``shipyard_budget_used_ratio{team}`` (spent / budget) is pushed to the pushgateway so Prometheus
and Grafana can alert on it.
"""

from __future__ import annotations

import calendar
import datetime as dt

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from shipyard import tags
from shipyard.costs.results import Alert, BudgetStatus

WARNING_PERCENT = 80.0
OVER_PERCENT = 100.0
PUSH_JOB = "shipyard_budget"
FORECAST_METHOD = (
    "linear run-rate: month-to-date spend / days elapsed (today counted whole) x days in the month"
)


def alert_for(percent: float) -> Alert:
    if percent >= OVER_PERCENT:
        return "over"
    if percent >= WARNING_PERCENT:
        return "warning"
    return "ok"


def forecast(spent: float, month: str, today: dt.date) -> float:
    year, mon = (int(x) for x in month.split("-"))
    days = calendar.monthrange(year, mon)[1]
    if (today.year, today.month) > (year, mon):
        return spent
    if (today.year, today.month) < (year, mon):
        return 0.0
    return spent / today.day * days


def status(
    team: str,
    budget: float,
    spent: float,
    month: str,
    today: dt.date,
    currency: str,
    price_date: dt.date,
    estimated: bool = True,
) -> BudgetStatus:
    fc = forecast(spent, month, today)
    percent = spent / budget * 100
    return BudgetStatus(
        team=team,
        budget=budget,
        spent=round(spent, 4),
        forecast=round(fc, 4),
        percent=percent,
        forecast_percent=fc / budget * 100,
        alert=alert_for(percent),
        currency=currency,
        price_date=price_date,
        month=month,
        estimated=estimated,
    )


def push(statuses: list[BudgetStatus], pushgateway_url: str, timeout: float = 10) -> None:
    """Replace the ``shipyard_budget`` job's metrics on the pushgateway with these ratios."""
    registry = CollectorRegistry()
    gauge = Gauge(
        tags.METRIC_BUDGET_RATIO,
        "Month-to-date spend divided by the team's monthly budget (1.0 = budget used)",
        ["team"],
        registry=registry,
    )
    for s in statuses:
        gauge.labels(team=s.team).set(s.spent / s.budget)
    push_to_gateway(pushgateway_url, job=PUSH_JOB, registry=registry, timeout=timeout)
