"""The Overview page (portal/Home.py): the portfolio's rows after the audit log's record, filtered by
team and risk tier, the tallies above the table and the columns each role sees first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipyard.audit import facts
from shipyard.audit.view import AuditView
from shipyard.catalog.portfolio import (
    AMBER,
    GREEN,
    RED,
    ProjectRow,
    age,
    with_registry_facts,
    without_ungoverned,
)
from shipyard.formatting import money, percent

STATUSES = (GREEN, AMBER, RED)


def governed(rows: list[ProjectRow], audit_view: AuditView | None) -> list[ProjectRow]:
    """The registry's record over MLflow's copies; champions no audit event explains shown as none."""
    if audit_view is None:
        return rows
    rows = with_registry_facts(rows, {p: f.as_dict() for p, f in facts.known(audit_view.events).items()})
    return without_ungoverned(rows, audit_view.ungoverned_champions)


@dataclass(frozen=True)
class Filters:
    teams: list[str]
    tiers: list[str]


def filters(rows: Sequence[ProjectRow]) -> Filters:
    return Filters(sorted({r.team for r in rows}), sorted({r.risk_tier for r in rows}))


def select(rows: Sequence[ProjectRow], teams: Sequence[str], tiers: Sequence[str]) -> list[ProjectRow]:
    """The rows of the chosen teams and tiers (none chosen: all)."""
    return [r for r in rows if (not teams or r.team in teams) and (not tiers or r.risk_tier in tiers)]


@dataclass(frozen=True)
class Tally:
    projects: int
    in_production: int
    green: int
    amber: int
    red: int
    ci_failing: int


def tally(rows: Sequence[ProjectRow]) -> Tally:
    by_status = {s: sum(1 for r in rows if r.status == s) for s in STATUSES}
    return Tally(
        projects=len(rows),
        in_production=sum(1 for r in rows if r.champion_version is not None),
        green=by_status[GREEN],
        amber=by_status[AMBER],
        red=by_status[RED],
        ci_failing=sum(1 for r in rows if r.last_ci == "failed"),
    )


def cost_column(currency: str) -> str:
    return f"cost MTD ({currency})"


def table(rows: Sequence[ProjectRow], currency: str) -> list[dict[str, object]]:
    cost = cost_column(currency)
    return [
        {
            "status": r.status,
            "project": r.project,
            "team": r.team,
            "owner": r.owner,
            "risk tier": r.risk_tier,
            "template": r.template,
            "health": r.health,
            "last CI": r.last_ci,
            "CI age": age(r.last_ci_at),
            "champion": r.champion or "-",
            "drift": r.drift_text,  # production's drift (scored batches, served traffic) vs the tier's limit
            cost: money(r.cost_mtd),
            "team budget used %": percent(r.budget_percent),
            "why": r.reasons,
        }
        for r in rows
    ]


def columns(role: str, currency: str) -> list[str]:
    """The table's columns for ``role``, most relevant first."""
    cost = cost_column(currency)
    return {
        "manager": ["status", "project", "team", "owner", cost, "team budget used %", "health", "last CI",
                    "CI age", "champion", "drift", "template", "why"],
        "auditor": ["status", "project", "risk tier", "champion", "health", "drift", "last CI", "CI age",
                    "owner", "team", "why"],
        "project owner": ["status", "project", "last CI", "CI age", "health", "champion", "drift", cost,
                          "template", "why"],
    }[role]  # fmt: skip


def status_by_team(rows: Sequence[ProjectRow]) -> dict[str, list[str]]:
    """The chart of projects by team and status: one entry per project."""
    return {"team": [r.team for r in rows], "status": [r.status for r in rows]}


def scores(rows: Sequence[ProjectRow]) -> dict[str, list[object]]:
    """The ML Test Score distribution: one entry per project."""
    return {"project": [r.project for r in rows], "health": [r.health for r in rows]}
