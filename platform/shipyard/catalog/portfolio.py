"""The Overview: one row per project with health, CI, champion, drift and month-to-date cost."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field

from shipyard import tags
from shipyard.catalog import drift as drift_mod
from shipyard.catalog import snapshot_cache
from shipyard.catalog.snapshot_cache import DEFAULT_TTL_S, load_snapshot
from shipyard.costs import api as costs_api
from shipyard.errors import ServiceUnavailable, UserError
from shipyard.formatting import fraction
from shipyard.health import Scorecard, gather, score
from shipyard.platform.endpoints import Endpoints
from shipyard.records import Snapshot
from shipyard.spec.governance import RiskTier
from shipyard.spec.model import PlatformSpec

GREEN, AMBER, RED = "green", "amber", "red"
CI_STALE = dt.timedelta(days=14)


@dataclass(frozen=True)
class ProjectRow:
    project: str
    team: str
    owner: str
    risk_tier: str
    health: float
    last_ci: str  # CI status or "never"
    last_ci_at: dt.datetime | None
    champion: str  # "model v3" or ""
    champion_version: int | None
    drift_share: float | None
    drift: str  # ok | drifting | unmonitored | - | unknown
    cost_mtd: float | None
    budget_percent: float | None  # the team's budget burn this month
    budget_alert: str  # ok | warning | over | "" when unknown
    status: str  # green | amber | red
    reasons: str  # why not green, in words
    template_version: str = ""  # the template release the project is on ("" unknown)
    template_behind: int | None = None  # releases newer than it (None unknown)
    drift_limit: float | None = None  # the risk tier's max_drift_share

    @property
    def drift_text(self) -> str:
        """Production's drift against the tier's limit: ``ok (0.12 of max 0.30)``, or the state alone."""
        if self.drift_share is None:
            return self.drift
        limit = f" of max {fraction(self.drift_limit)}" if self.drift_limit is not None else ""
        return f"{self.drift} ({fraction(self.drift_share)}{limit})"

    @property
    def template(self) -> str:
        """``1.0.0 (behind by 2)``, ``1.1.0 (current)`` or ``-``."""
        if not self.template_version:
            return "-"
        if self.template_behind is None:
            return self.template_version
        lag = "current" if self.template_behind == 0 else f"behind by {self.template_behind}"
        return f"{self.template_version} ({lag})"


def without_ungoverned(rows: list[ProjectRow], ungoverned: dict[str, str]) -> list[ProjectRow]:
    """Rows whose champion no audit event explains (moved outside the registry): shown as none, red."""
    from dataclasses import replace

    out = []
    for r in rows:
        if r.project in ungoverned and r.champion_version is not None:
            why = f"champion v{r.champion_version} was not set through the platform (audit finding)"
            r = replace(r, champion="", champion_version=None, status="red",
                        reasons="; ".join(x for x in (why, r.reasons) if x))  # fmt: skip
        out.append(r)
    return out


def with_registry_facts(rows: list[ProjectRow], known: dict[str, dict[str, str]]) -> list[ProjectRow]:
    """Team, risk tier and owner as the registry records them (``project.facts`` in the audit log),
    not the experiment's tags, which anyone with EDIT on it can change."""
    from dataclasses import replace

    out = []
    for r in rows:
        f = known.get(r.project)
        out.append(replace(r, team=f["team"], risk_tier=f["tier"], owner=f["owner"]) if f else r)
    return out


@dataclass
class Portfolio:
    snapshot: Snapshot
    rows: list[ProjectRow]
    scorecards: dict[str, Scorecard]
    errors: dict[str, str] = field(default_factory=dict)  # service -> what went wrong
    currency: str = "USD"


def tier_of(spec: PlatformSpec, name: str) -> RiskTier:
    return spec.governance.risk_tiers.get(name) or RiskTier()  # type: ignore[call-overload]


def age(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if not when:
        return "-"
    seconds = ((now or dt.datetime.now(dt.UTC)) - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"


def _costs(spec: PlatformSpec, endpoints: Endpoints, errors: dict[str, str]):
    try:
        mtd = costs_api.project_costs_mtd(spec, endpoints)
        budgets = {b.team: b for b in costs_api.budget_status(spec, endpoints)}
        return mtd, budgets
    except UserError as exc:  # a source the cost service reads failed: it degrades one column
        errors["Costs"] = f"cost service unavailable: {exc.message}"
        return {}, {}


def build_portfolio(
    spec: PlatformSpec,
    endpoints: Endpoints,
    snapshot: Snapshot,
    with_costs: bool = True,
    now: dt.datetime | None = None,
) -> Portfolio:
    now = now or dt.datetime.now(dt.UTC)
    errors: dict[str, str] = {}
    drift: dict[str, drift_mod.Drift] = {}
    prom_error = None
    if endpoints.prometheus:
        try:
            drift = drift_mod.drift_by_project(endpoints)
        except ServiceUnavailable as exc:
            prom_error = exc.detail
            errors["Prometheus"] = exc.message
    mtd, budgets = _costs(spec, endpoints, errors) if with_costs else ({}, {})
    last_ci = last_default_branch_ci(snapshot.ci_runs)
    # a project's champion is the alias on the model the registry made for it (named as the project,
    # only the registry moves its aliases); any other model's `champion` is ungoverned, never shown
    champions = {v.model: v for v in snapshot.versions if tags.CHAMPION in v.aliases}
    templates = template_lag(snapshot.projects)
    rows, cards = [], {}
    for p in snapshot.projects:
        card = score(gather(snapshot, p, drift, prom_error))
        cards[p.name] = card
        tier = tier_of(spec, p.risk_tier)
        ci, champ, d = last_ci.get(p.name), champions.get(p.name), drift.get(p.name)
        share = d.share if d else None
        drift_state = (
            "unknown"
            if prom_error
            else drift_mod.drift_status(share, tier.max_drift_share, tier.drift_monitoring_required)
        )
        budget = budgets.get(p.team)
        status, reasons = _rag(card.score, ci, now, champ is not None, drift_state, budget)
        rows.append(
            ProjectRow(
                project=p.name,
                team=p.team,
                owner=p.owner,
                risk_tier=p.risk_tier,
                health=card.score,
                last_ci=ci.status if ci else "never",
                last_ci_at=(ci.ended_at or ci.started_at) if ci else None,
                champion=f"{champ.model} v{champ.version}" if champ else "",
                champion_version=champ.version if champ else None,
                drift_share=d.share if d else None,
                drift=drift_state,
                cost_mtd=mtd.get(p.name) if mtd else None,
                budget_percent=getattr(budget, "percent", None),
                budget_alert=getattr(budget, "alert", "") or "",
                status=status,
                reasons=reasons,
                template_version=templates.get(p.name, ("", None))[0],
                template_behind=templates.get(p.name, ("", None))[1],
                drift_limit=tier.max_drift_share,
            )
        )
    return Portfolio(snapshot, rows, cards, errors, spec.platform.currency)


def template_lag(projects) -> dict[str, tuple[str, int | None]]:
    """Per project: the template version it is on (its repository's main branch where the platform
    hosts it, else the version recorded at generation) and how many releases of the template
    repository it names are newer. The template repositories are read once each."""
    from shipyard.templates.fleet import repo_template_version
    from shipyard.templates.repo import behind, releases

    published: dict[str, list | None] = {}
    found = {}
    for p in projects:
        url, repo = p.tags.get(tags.TEMPLATE_URL, ""), p.repo
        version = (repo_template_version(repo) if repo and "://" not in repo else None) or p.tags.get(
            tags.TEMPLATE_VERSION, ""
        )
        if url and url not in published:
            try:
                published[url] = releases(url)
            except UserError:
                published[url] = None  # unreachable: the lag is unknown, the version still shown
        known = published.get(url) if url else None
        found[p.name] = (version, behind(version, known) if known else None)
    return found


DEFAULT_BRANCHES = ("main", "master")


def last_default_branch_ci(ci_runs) -> dict:
    """Each project's newest CI run on its default branch (like a repository's status badge): a
    failing experiment branch, e.g. one the gate stopped, does not make the project red. A project
    whose CI only ever ran on other branches shows its newest run."""
    newest, newest_default = {}, {}
    for run in ci_runs:  # newest first
        newest.setdefault(run.project, run)
        if run.branch in DEFAULT_BRANCHES:
            newest_default.setdefault(run.project, run)
    return {**newest, **newest_default}


def _rag(health, ci, now, has_champion, drift_state, budget) -> tuple[str, str]:
    red, amber = [], []
    if ci is None:
        amber.append("no CI run yet")
    elif ci.status == "failed":
        red.append(f"last CI failed{' at ' + ci.failed_step if ci.failed_step else ''}")
    elif (ci.ended_at or ci.started_at) and now - (ci.ended_at or ci.started_at) > CI_STALE:
        amber.append("no CI in 14 days")
    if drift_state == "drifting":
        red.append("drifting")
    elif drift_state == "unmonitored":
        red.append("drift not monitored (required by risk tier)")
    alert = getattr(budget, "alert", "")
    if alert == "over":
        red.append("team over budget")
    elif alert == "warning":
        amber.append("team budget warning")
    if health < 1:
        amber.append(f"ML Test Score {health:g} < 1")
    if not has_champion:
        amber.append("no champion model")
    if red:
        return RED, "; ".join(red + amber)
    return (AMBER, "; ".join(amber)) if amber else (GREEN, "")


_cache: dict[tuple, tuple[float, Portfolio]] = {}
_lock = threading.Lock()


def load_portfolio(
    spec: PlatformSpec,
    endpoints: Endpoints,
    prefix: str | None = None,
    with_costs: bool = True,
    ttl_s: float = DEFAULT_TTL_S,
    refresh: bool = False,
) -> Portfolio:
    """The Overview's data, cached for ``ttl_s`` (MLflow down raises ServiceUnavailable)."""
    key = (endpoints, prefix or "", with_costs, spec.model_dump_json())
    with _lock:
        hit = _cache.get(key)
    if hit and not refresh and time.monotonic() < hit[0]:
        return hit[1]
    snap = load_snapshot(endpoints, prefix, ttl_s=ttl_s, refresh=refresh)
    portfolio = build_portfolio(spec, endpoints, snap, with_costs=with_costs)
    with _lock:
        _cache[key] = (time.monotonic() + ttl_s, portfolio)
    return portfolio


def clear_cache() -> None:
    snapshot_cache.clear_cache()
    with _lock:
        _cache.clear()
