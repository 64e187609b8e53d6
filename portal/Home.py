"""Overview: the portfolio at a glance (health, CI, production model, drift, cost vs budget)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
import ui
from shipyard.audit import facts
from shipyard.catalog.portfolio import age, with_registry_facts, without_ungoverned
from shipyard.formatting import count, money, percent

cfg, role, portfolio = ui.portfolio_page("Shipyard · Overview", with_costs=True)

rows = portfolio.rows
audit_view = ui.audit_view(cfg, required=False)  # the registry's record over MLflow's copies
if audit_view is not None:
    rows = with_registry_facts(rows, {p: f.as_dict() for p, f in facts.known(audit_view.events).items()})
    rows = without_ungoverned(rows, audit_view.ungoverned_champions)  # champions no event explains
teams = sorted({r.team for r in rows})
tiers = sorted({r.risk_tier for r in rows})
if role == "project owner":
    owner = ui.owner_choice(sorted({r.owner for r in rows if r.owner}))
    rows = [r for r in rows if r.owner == owner]

left, right = st.columns(2)
team_filter = left.multiselect("Team", teams, placeholder="all teams")
tier_filter = right.multiselect("Risk tier", tiers, placeholder="all risk tiers")
rows = [
    r
    for r in rows
    if (not team_filter or r.team in team_filter) and (not tier_filter or r.risk_tier in tier_filter)
]

counts = {s: sum(1 for r in rows if r.status == s) for s in ("green", "amber", "red")}
m = st.columns(6)
m[0].metric("Projects", count(len(rows)))
m[1].metric("In production", count(sum(1 for r in rows if r.champion_version is not None)))
m[2].metric(":green[Green]", count(counts["green"]))
m[3].metric(":orange[Amber]", count(counts["amber"]))
m[4].metric(":red[Red]", count(counts["red"]))
m[5].metric("CI failing", count(sum(1 for r in rows if r.last_ci == "failed")))

cur = portfolio.currency
table = pd.DataFrame(
    [
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
            f"cost MTD ({cur})": money(r.cost_mtd),
            "team budget used %": percent(r.budget_percent),
            "why": r.reasons,
        }
        for r in rows
    ]
)
by_role = {
    "manager": ["status", "project", "team", "owner", f"cost MTD ({cur})", "team budget used %", "health",
                "last CI", "CI age", "champion", "drift", "template", "why"],
    "auditor": ["status", "project", "risk tier", "champion", "health", "drift", "last CI", "CI age", "owner",
                "team", "why"],
    "project owner": ["status", "project", "last CI", "CI age", "health", "champion", "drift",
                      f"cost MTD ({cur})", "template", "why"],
}  # fmt: skip
if role == "auditor":
    st.caption(
        "Auditor view: risk tier and production model first. Exports are on the Models and Health pages."
    )
if rows:
    st.dataframe(
        ui.colored(table[by_role[role]], "status"),
        hide_index=True,
        width="stretch",
        column_config={
            "health": st.column_config.ProgressColumn(
                "ML Test Score",
                min_value=0,
                max_value=7,
                format="%.1f",
                help="min of the 4 section sums (0-7)",
            ),
        },
    )
    status_scale = alt.Scale(domain=["green", "amber", "red"], range=["#2e7d32", "#f39c12", "#c62828"])
    chart_data = pd.DataFrame({"team": [r.team for r in rows], "status": [r.status for r in rows]})
    c1, c2 = st.columns(2)
    c1.altair_chart(
        alt.Chart(chart_data, title="Projects by team and status")
        .mark_bar()
        .encode(
            x=alt.X("count()", title="projects", axis=ui.COUNT_AXIS),
            y="team:N",
            color=alt.Color("status:N", scale=status_scale),
        ),
        width="stretch",
    )
    health = pd.DataFrame({"project": [r.project for r in rows], "health": [r.health for r in rows]})
    c2.altair_chart(
        alt.Chart(health, title="ML Test Score distribution")
        .mark_bar()
        .encode(
            x=alt.X("health:Q", bin=ui.SCORE_BINS, title="ML Test Score (0-7)"),
            y=alt.Y("count()", title="projects", axis=ui.COUNT_AXIS),
        ),
        width="stretch",
    )
else:
    st.info("No project matches the filters.")
