"""Budget arithmetic: thresholds at 79.9 / 80 / 100 %, the run-rate forecast, and the push to a real
Prometheus Pushgateway (the Debian ``prometheus-pushgateway`` binary, started on a free port)."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from shipyard.costs import budgets

D = dt.date(2025, 7, 1)


@pytest.mark.parametrize(
    ("spent", "alert"),
    [(799.0, "ok"), (799.99, "ok"), (800.0, "warning"), (999.99, "warning"), (1000.0, "over")],
)
def test_alert_thresholds(spent, alert):
    s = budgets.status("t", 1000.0, spent, "2026-11", dt.date(2026, 11, 30), "USD", D)
    assert s.alert == alert
    assert s.percent == pytest.approx(spent / 10)


def test_alert_at_exact_percentages():
    assert budgets.alert_for(79.9) == "ok"
    assert budgets.alert_for(80.0) == "warning"
    assert budgets.alert_for(100.0) == "over"


def test_forecast_is_linear_run_rate():
    # 300 spent by the end of 10 Nov: 30 per day x 30 days = 900
    s = budgets.status("t", 1000.0, 300.0, "2026-11", dt.date(2026, 11, 10), "USD", D)
    assert (s.forecast, s.forecast_percent, s.alert) == (900.0, 90.0, "ok")
    assert budgets.forecast(300.0, "2026-10", dt.date(2026, 11, 10)) == 300.0  # a past month is done
    assert budgets.forecast(0.0, "2026-12", dt.date(2026, 11, 10)) == 0.0
    assert budgets.forecast(280.0, "2024-02", dt.date(2024, 2, 28)) == pytest.approx(290.0)  # leap year


@pytest.mark.services
def test_push_budget_ratio_to_real_pushgateway(pushgateway):
    statuses = [
        budgets.status("alpha", 1000.0, 850.0, "2026-11", dt.date(2026, 11, 20), "USD", D),
        budgets.status("beta", 200.0, 250.0, "2026-11", dt.date(2026, 11, 20), "USD", D),
    ]
    budgets.push(statuses, pushgateway)
    metrics = requests.get(f"{pushgateway}/metrics", timeout=5).text
    lines = [line for line in metrics.splitlines() if line.startswith("shipyard_budget_used_ratio{")]
    values = {line.split('team="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1]) for line in lines}
    assert values == {"alpha": 0.85, "beta": 1.25}
    assert all('job="shipyard_budget"' in line for line in lines)
