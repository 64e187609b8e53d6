"""Cloud actuals: what was really billed, by team.

* AWS Cost Explorer (boto3 ``get_cost_and_usage``), daily, grouped by the cost-allocation tags infra
  sets on every resource: ``shipyard:team`` and ``shipyard:component``. Costs with no team tag are
  shared platform costs.
* OpenCost's ``/allocation`` API, daily sets aggregated by namespace (a team's namespace is named
  after the team), with ``includeIdle=true``: the ``__idle__`` allocation is capacity nobody used,
  and its ``gpuCost`` is the idle GPU cost.

Where a team has actuals they replace its estimate (see api.py). Cost Explorer wins over OpenCost
for the same team (it is the bill; OpenCost prices the cluster at list prices).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from shipyard.clients import opencost as opencost_api
from shipyard.costs.results import IDLE as IDLE_TEAM
from shipyard.costs.results import SHARED
from shipyard.errors import UserError
from shipyard.platform.env import ENV_COST_EXPLORER, ENV_OPENCOST
from shipyard.spec.labels import TAG_COMPONENT, TAG_TEAM

TEAM_TAG = TAG_TEAM
COMPONENT_TAG = TAG_COMPONENT
IDLE = "__idle__"
SOURCE_CE = "aws-cost-explorer"
SOURCE_OPENCOST = "opencost"


@dataclass(frozen=True)
class ActualCost:
    date: dt.date
    team: str  # a team name, or SHARED for untagged/shared and idle costs
    component: str
    cost: float
    currency: str
    source: str
    gpu_hours: float = 0.0
    idle_gpu_cost: float = 0.0


@dataclass(frozen=True)
class ActualsConfig:
    """Which actuals sources a report asks. ``ce_client``: a boto3 Cost Explorer client to use."""

    cost_explorer: bool = False
    opencost_url: str | None = None
    ce_client: object | None = None

    @classmethod
    def for_platform(cls, environment: str) -> ActualsConfig:
        return cls(
            cost_explorer=environment == "aws" and os.environ.get(ENV_COST_EXPLORER, "") != "off",
            opencost_url=os.environ.get(ENV_OPENCOST) or None,
        )


def cost_explorer(
    start: dt.date, end: dt.date, client=None, metric: str = "UnblendedCost"
) -> list[ActualCost]:
    """Daily costs in ``[start, end)`` grouped by team and component tag, all pages."""
    if client is None:
        import boto3

        client = boto3.client("ce", region_name="us-east-1")  # Cost Explorer's one endpoint
    found: list[ActualCost] = []
    token = None
    while True:
        kwargs = dict(
            TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
            Granularity="DAILY",
            Metrics=[metric],
            GroupBy=[{"Type": "TAG", "Key": TEAM_TAG}, {"Type": "TAG", "Key": COMPONENT_TAG}],
        )
        if token:
            kwargs["NextPageToken"] = token
        page = client.get_cost_and_usage(**kwargs)
        for period in page.get("ResultsByTime", []):
            day = dt.date.fromisoformat(period["TimePeriod"]["Start"])
            for group in period.get("Groups", []):
                values = dict(_tag_value(key) for key in group.get("Keys", []))
                amount = group["Metrics"][metric]
                found.append(
                    ActualCost(
                        date=day,
                        team=values.get(TEAM_TAG) or SHARED,
                        component=values.get(COMPONENT_TAG) or "(untagged)",
                        cost=float(amount["Amount"]),
                        currency=amount.get("Unit", "USD"),
                        source=SOURCE_CE,
                    )
                )
        token = page.get("NextPageToken")
        if not token:
            return found


def _tag_value(key: str) -> tuple[str, str]:
    """Cost Explorer writes a tag group key as ``tagkey$value`` (empty value: untagged)."""
    name, _, value = key.partition("$")
    return name, value


def opencost(
    url: str, start: dt.datetime, end: dt.datetime, teams: set[str], currency: str, timeout: float = 30
) -> list[ActualCost]:
    """Daily namespace allocations in ``[start, end)`` from OpenCost; namespaces map to teams."""
    window = f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"
    params = {"window": window, "aggregate": "namespace", "step": "1d", "accumulate": "false",
              "includeIdle": "true"}  # fmt: skip
    fix = f"check the URL in ${ENV_OPENCOST} (the OpenCost API, port 9003) or unset it"
    body = opencost_api.allocation(url, params, timeout, fix)
    found = []
    for allocation_set in body.get("data") or []:
        for name, alloc in (allocation_set or {}).items():
            if not alloc:
                continue
            stamp = alloc.get("start") or (alloc.get("window") or {}).get("start")
            day = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).date() if stamp else start.date()
            idle = name == IDLE
            found.append(
                ActualCost(
                    date=day,
                    team=IDLE_TEAM if idle else (name if name in teams else SHARED),
                    component="idle" if idle else f"namespace {name}",
                    cost=float(alloc.get("totalCost", 0.0)),
                    currency=currency,
                    source=SOURCE_OPENCOST,
                    gpu_hours=0.0 if idle else float(alloc.get("gpuHours", 0.0)),
                    idle_gpu_cost=float(alloc.get("gpuCost", 0.0)) if idle else 0.0,
                )
            )
    return found


def collect(
    config: ActualsConfig, start: dt.datetime, end: dt.datetime, teams: set[str], currency: str
) -> tuple[list[ActualCost], list[str]]:
    """Actuals from every configured source, and notes on sources that could not answer.

    Per team, Cost Explorer's figures replace OpenCost's (the bill over list-price allocation).
    """
    notes: list[str] = []
    ce: list[ActualCost] = []
    oc: list[ActualCost] = []
    if config.cost_explorer:
        try:
            last_day = (end - dt.timedelta(microseconds=1)).date()  # today, while the month runs
            ce = cost_explorer(start.date(), last_day + dt.timedelta(days=1), config.ce_client)
        except Exception as exc:  # no credentials, no permission, no network: estimates stand
            notes.append(f"AWS Cost Explorer not read ({type(exc).__name__}: {exc}); figures are estimates")
    if config.opencost_url:
        try:
            oc = opencost(config.opencost_url, start, end, teams, currency)
        except UserError as exc:
            notes.append(f"{exc.message}; figures are estimates")
    ce_teams = {a.team for a in ce}
    return ce + [a for a in oc if a.team not in ce_teams], notes
