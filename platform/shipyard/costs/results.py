"""The typed records the cost sources produce and the API returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Literal

By = Literal["team", "project", "model"]
BY_CHOICES: tuple[str, ...] = ("team", "project", "model")
Alert = Literal["ok", "warning", "over"]

NO_MODEL = "(no model)"  # runs not (yet) linked to a registered model version
STORAGE = "(storage)"  # storage lines in the model view
SHARED = "(platform)"  # cloud costs tagged with no team: shared platform parts
IDLE = "(idle)"  # cluster capacity nobody used (OpenCost's __idle__)


@dataclass(frozen=True)
class CostLine:
    key: str
    team: str
    project: str | None
    model: str | None
    cost: float
    gpu_hours: float = 0.0
    unpriced_runs: int = 0
    estimated: bool = True  # False when the figure comes from cloud actuals (Cost Explorer, OpenCost)
    runs: int = 0
    storage_cost: float = 0.0


@dataclass(frozen=True)
class UnpricedRun:
    run_id: str
    team: str
    project: str
    instance_type: str | None
    reason: str


@dataclass(frozen=True)
class CostReport:
    by: str
    month: str  # YYYY-MM
    currency: str
    price_date: dt.date
    lines: list[CostLine]
    total: float
    gpu_hours: float
    unpriced_runs: int
    unpriced: list[UnpricedRun] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # which sources gave figures
    notes: list[str] = field(default_factory=list)

    @property
    def any_estimated(self) -> bool:
        return any(line.estimated for line in self.lines)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["price_date"] = self.price_date.isoformat()
        return data


@dataclass(frozen=True)
class BudgetStatus:
    team: str
    budget: float
    spent: float  # month to date
    forecast: float  # to month end, see budgets.FORECAST_METHOD
    percent: float  # spent / budget * 100
    forecast_percent: float
    alert: Alert  # from percent: >= 80 warning, >= 100 over
    currency: str
    price_date: dt.date
    month: str
    estimated: bool = True

    def to_dict(self) -> dict:
        data = asdict(self)
        data["price_date"] = self.price_date.isoformat()
        return data
