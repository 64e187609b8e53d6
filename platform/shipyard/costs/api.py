"""The cost service the CLI and the portal's Costs page use.

Every result carries the currency and the price table's date. Sources, in order of precedence:
cloud actuals (AWS Cost Explorer, OpenCost; by team only) over estimates (MLflow run usage x the
spec's prices, plus measured storage x the storage price). Lines and series say which figures are
estimated. Project and model figures are always estimates: the bill does not know projects.
"""

from __future__ import annotations

import calendar
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from shipyard.costs import actuals as actuals_mod
from shipyard.costs import budgets, storage, usage
from shipyard.costs.actuals import ActualsConfig
from shipyard.costs.results import (
    BY_CHOICES,
    NO_MODEL,
    SHARED,
    STORAGE,
    BudgetStatus,
    CostLine,
    CostReport,
    UnpricedRun,
)
from shipyard.costs.rollup import price_runs, rollup
from shipyard.errors import BadInput
from shipyard.platform.endpoints import Endpoints
from shipyard.records import MlflowApi
from shipyard.spec.model import PlatformSpec

ITEM_COLUMNS = ["date", "team", "project", "model", "cost", "gpu_hours", "runs", "unpriced_runs", "estimated"]


@dataclass
class _Gathered:
    month: str
    items: pd.DataFrame  # ITEM_COLUMNS, one row per source, day and team/project/model
    unpriced: list[UnpricedRun]
    actual_teams: set[str]
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def cost_report(
    spec: PlatformSpec,
    endpoints: Endpoints,
    by: str = "team",
    month: str | None = None,
    *,
    actuals: ActualsConfig | None = None,
    now: dt.datetime | None = None,
) -> CostReport:
    """Costs of one month (default: this month, to date) per team, project or model."""
    _check_by(by)
    g = _gather(spec, endpoints, month, now, actuals)
    items = _view(g, by)
    lines = []
    if not items.empty:
        items = items.assign(estimated=items["estimated"].astype(bool))
        summed = items.groupby(["key", "team", "project", "model"], dropna=False, sort=True).agg(
            cost=("cost", "sum"),
            gpu_hours=("gpu_hours", "sum"),
            runs=("runs", "sum"),
            unpriced_runs=("unpriced_runs", "sum"),
            storage_cost=("storage_cost", "sum"),
            estimated=("estimated", "any"),
        )
        for (key, team, project, model), row in summed.iterrows():
            lines.append(
                CostLine(
                    key=key,
                    team=team,
                    project=None if pd.isna(project) else project,
                    model=None if pd.isna(model) else model,
                    cost=round(float(row["cost"]), 4),
                    gpu_hours=round(float(row["gpu_hours"]), 4),
                    unpriced_runs=int(row["unpriced_runs"]),
                    estimated=bool(row["estimated"]),
                    runs=int(row["runs"]),
                    storage_cost=round(float(row["storage_cost"]), 4),
                )
            )
    if by == "team":  # every team of the spec appears, spending or not
        seen = {line.team for line in lines}
        lines += [CostLine(key=t.name, team=t.name, project=None, model=None, cost=0.0)
                  for t in spec.teams if t.name not in seen]  # fmt: skip
        lines.sort(key=lambda line: line.key)
    return CostReport(
        by=by,
        month=g.month,
        currency=spec.pricing.currency,
        price_date=spec.pricing.as_of,
        lines=lines,
        total=round(sum(line.cost for line in lines), 4),
        gpu_hours=round(sum(line.gpu_hours for line in lines), 4),
        unpriced_runs=len(g.unpriced),
        unpriced=list(g.unpriced),
        sources=list(g.sources),
        notes=list(g.notes),
    )


def daily_series(
    spec: PlatformSpec,
    endpoints: Endpoints,
    month: str | None,
    by: str = "team",
    *,
    actuals: ActualsConfig | None = None,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """Cost per day and key: columns ``date, key, cost, estimated, currency, price_date``.

    Every key has a row for every day from the 1st to today (or the month's end), 0 when idle, so
    a trend or burn-down chart needs no gap filling.
    """
    _check_by(by)
    g = _gather(spec, endpoints, month, now, actuals)
    items = _view(g, by)
    days = _days_so_far(g.month, now)
    keys = sorted(set(items["key"])) if not items.empty else []
    if by == "team":
        keys = sorted(set(keys) | {t.name for t in spec.teams})
    grid = pd.MultiIndex.from_product([days, keys], names=["date", "key"])
    if items.empty:
        summed = pd.DataFrame({"cost": 0.0, "estimated": True}, index=grid)
    else:
        grouped = items.groupby(["date", "key"])
        summed = pd.DataFrame({"cost": grouped["cost"].sum(), "estimated": grouped["estimated"].any()})
        summed = summed.reindex(grid)
        summed["cost"] = summed["cost"].fillna(0.0)
        summed["estimated"] = summed["estimated"].fillna(True).astype(bool)
    frame = summed.reset_index()
    frame["currency"] = spec.pricing.currency
    frame["price_date"] = spec.pricing.as_of
    return frame[["date", "key", "cost", "estimated", "currency", "price_date"]]


def budget_status(
    spec: PlatformSpec,
    endpoints: Endpoints,
    month: str | None = None,
    today: dt.date | None = None,
    *,
    actuals: ActualsConfig | None = None,
    now: dt.datetime | None = None,
) -> list[BudgetStatus]:
    """Per team: month-to-date spend, forecast (see budgets.FORECAST_METHOD), percent and alert."""
    if today is None:
        today = (now or dt.datetime.now(dt.UTC)).date()
    elif now is None:
        now = _end_of(today)
    report = cost_report(spec, endpoints, "team", month or f"{today:%Y-%m}", actuals=actuals, now=now)
    spent = {line.team: line for line in report.lines}
    return [
        budgets.status(
            team=t.name,
            budget=t.monthly_budget,
            spent=spent[t.name].cost if t.name in spent else 0.0,
            month=report.month,
            today=today,
            currency=report.currency,
            price_date=report.price_date,
            estimated=spent[t.name].estimated if t.name in spent else True,
        )
        for t in spec.teams
    ]


def project_costs_mtd(
    spec: PlatformSpec, endpoints: Endpoints, *, now: dt.datetime | None = None
) -> dict[str, float]:
    """This month's cost so far per project (estimates: runs and storage), in the spec's currency."""
    report = cost_report(spec, endpoints, "project", None, now=now)  # project figures are estimates
    totals: dict[str, float] = {}
    for line in report.lines:
        if line.project:
            totals[line.project] = round(totals.get(line.project, 0.0) + line.cost, 4)
    return totals


# --- gathering --------------------------------------------------------------------------------


CACHE_SECONDS = 15.0  # a page asks for a report, budgets and a series at once: read the sources once
_cache: dict[tuple, tuple[float, _Gathered]] = {}


def _gather(
    spec: PlatformSpec,
    endpoints: Endpoints,
    month: str | None,
    now: dt.datetime | None,
    actuals: ActualsConfig | None,
) -> _Gathered:
    if now is not None or actuals is not None:  # explicit inputs: always fresh
        return _read(spec, endpoints, month, now, actuals)
    key = (spec.model_dump_json(), endpoints, month or f"{dt.datetime.now(dt.UTC):%Y-%m}")
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    gathered = _read(spec, endpoints, month, None, None)
    _cache.clear()  # one entry is enough for one page; never grows
    _cache[key] = (time.monotonic(), gathered)
    return gathered


def _read(
    spec: PlatformSpec,
    endpoints: Endpoints,
    month: str | None,
    now: dt.datetime | None,
    actuals: ActualsConfig | None,
) -> _Gathered:
    now = now or dt.datetime.now(dt.UTC)
    month = month or f"{now:%Y-%m}"
    start, end = usage.month_bounds(month)
    g = _Gathered(month=month, items=pd.DataFrame(columns=ITEM_COLUMNS), unpriced=[], actual_teams=set())
    frames = []
    if start > now:
        g.notes.append(f"{month} has not started yet")
        return g

    api = MlflowApi.of(endpoints)  # an unreachable server raises ServiceUnavailable: the user's to fix
    project_list = usage.projects(api)
    runs = usage.read_runs(api, start, min(end, now), now=now, project_list=project_list)
    priced = price_runs(runs, spec.pricing, spec.local.instance_type)
    g.sources.append(f"MLflow runs at {endpoints.mlflow} ({len(priced)} runs)")
    if not priced.empty:
        priced["date"] = priced["start"].dt.date
        summed = rollup(priced, keys=["date", "team", "project", "model"])
        summed["estimated"] = True
        frames.append(summed)
        for row in priced[priced["unpriced"]].itertuples():
            instance = row.instance_type if isinstance(row.instance_type, str) else None
            g.unpriced.append(UnpricedRun(row.run_id, row.team, row.project, instance, row.unpriced_reason))

    frames.append(_storage_items(spec, endpoints, project_list, month, start, end, now, g))

    config = actuals or ActualsConfig.for_platform(str(spec.platform.environment))
    found, notes = actuals_mod.collect(
        config, start, min(end, now), {t.name for t in spec.teams}, spec.pricing.currency
    )
    g.notes += notes
    if found:
        g.sources += sorted({f"actuals: {a.source}" for a in found})
        g.actual_teams = {a.team for a in found}
        frames.append(
            pd.DataFrame(
                {
                    "date": [a.date for a in found],
                    "team": [a.team for a in found],
                    "project": None,
                    "model": None,
                    "cost": [a.cost for a in found],
                    "gpu_hours": [a.gpu_hours for a in found],
                    "runs": 0,
                    "unpriced_runs": 0,
                    "estimated": False,
                }
            )
        )
        g.notes.append("teams with cloud actuals show the bill; project and model figures stay estimates")
        idle_gpu = sum(a.idle_gpu_cost for a in found)
        if idle_gpu:
            g.notes.append(f"idle GPU cost (OpenCost __idle__): {idle_gpu:.2f} {spec.pricing.currency}")
    frames = [f for f in frames if not f.empty]
    if frames:
        g.items = pd.concat(frames, ignore_index=True)
        g.items["storage_cost"] = g.items.get("storage_cost", 0.0)
        g.items["storage_cost"] = g.items["storage_cost"].fillna(0.0)
    if g.unpriced:
        g.notes.append(f"{len(g.unpriced)} run(s) unpriced (cost 0): tag shipyard.instance_type on them")
    return g


def _storage_items(spec, endpoints, project_list, month, start, end, now, g: _Gathered) -> pd.DataFrame:
    """Storage measured now, spread over the days of the month so far (a month's price per GB)."""
    artifacts_root = Path(endpoints.mlflow_artifacts) if endpoints.mlflow_artifacts else None
    measured = storage.measure(endpoints, project_list, artifacts_root=artifacts_root)
    if not measured:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    days = _days_so_far(month, now)
    days_in_month = (end - start).days
    rows = []
    for s in measured:
        if s.bytes is None:
            g.notes.append(f"{s.store} storage of {s.project} at {s.location} not measured")
            continue
        if not s.bytes:
            continue
        per_day = storage.storage_cost(s.bytes, spec.pricing) / days_in_month
        rows += [{"date": d, "team": s.team, "project": s.project, "model": STORAGE, "cost": per_day,
                  "storage_cost": per_day} for d in days]  # fmt: skip
    g.sources.append("storage: DVC remotes and MLflow artifact stores (current bytes)")
    g.notes.append("storage is priced from the bytes stored now, spread evenly over the month")
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["gpu_hours"], frame["runs"], frame["unpriced_runs"], frame["estimated"] = 0.0, 0, 0, True
    return frame


def _view(g: _Gathered, by: str) -> pd.DataFrame:
    """Items of one view with their ``key``: actuals replace a team's estimates in the team view."""
    items = g.items.copy()
    if items.empty:
        return items.assign(key=pd.Series(dtype=object), storage_cost=pd.Series(dtype=float))
    actual = ~items["estimated"].astype(bool)
    if by == "team":
        # a team with actuals: the bill's cost; its runs still count (runs, unpriced, and GPU hours
        # unless the actuals carry GPU hours themselves, as OpenCost's do)
        replaced = ~actual & items["team"].isin(g.actual_teams)
        gpu_teams = set(items.loc[actual & (items["gpu_hours"] > 0), "team"])
        items.loc[replaced, ["cost", "storage_cost"]] = 0.0
        items.loc[replaced, "estimated"] = False
        items.loc[replaced & items["team"].isin(gpu_teams), "gpu_hours"] = 0.0
        return items.assign(project=None, model=None, key=items["team"])
    items = items[~actual]
    if by == "project":
        return items.assign(model=None, key=items["project"])
    special = items["model"].isin([NO_MODEL, STORAGE])
    key = items["model"].where(~special, items["project"] + "/" + items["model"])
    return items.assign(key=key)


def _days_so_far(month: str, now: dt.datetime | None) -> list[dt.date]:
    now = now or dt.datetime.now(dt.UTC)
    year, mon = (int(x) for x in month.split("-"))
    last = dt.date(year, mon, calendar.monthrange(year, mon)[1])
    end = min(last, now.date())
    first = dt.date(year, mon, 1)
    return [first + dt.timedelta(days=i) for i in range((end - first).days + 1)] if end >= first else []


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), dt.UTC)


def _check_by(by: str) -> None:
    if by not in BY_CHOICES:
        raise BadInput(f"cannot break costs down by {by!r}", f"use one of: {', '.join(BY_CHOICES)}")


__all__ = ["cost_report", "budget_status", "daily_series", "project_costs_mtd", "SHARED"]
