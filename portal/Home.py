"""Overview: the portfolio at a glance (health, CI, production model, drift, cost vs budget)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
import ui
from shipyard.catalog.views import overview
from shipyard.catalog.views.common import owned_by, owners
from shipyard.formatting import count

cfg, role, portfolio = ui.portfolio_page("Shipyard · Overview", with_costs=True)

audit_view = ui.audit_view(cfg, required=False)  # the registry's record over MLflow's copies
rows = overview.governed(portfolio.rows, audit_view)
choices = overview.filters(rows)
if role == "project owner":
    rows = owned_by(rows, ui.owner_choice(owners(rows)))

left, right = st.columns(2)
team_filter = left.multiselect("Team", choices.teams, placeholder="all teams")
tier_filter = right.multiselect("Risk tier", choices.tiers, placeholder="all risk tiers")
rows = overview.select(rows, team_filter, tier_filter)

tally = overview.tally(rows)
m = st.columns(6)
m[0].metric("Projects", count(tally.projects))
m[1].metric("In production", count(tally.in_production))
m[2].metric(":green[Green]", count(tally.green))
m[3].metric(":orange[Amber]", count(tally.amber))
m[4].metric(":red[Red]", count(tally.red))
m[5].metric("CI failing", count(tally.ci_failing))

table = pd.DataFrame(overview.table(rows, portfolio.currency))
if role == "auditor":
    st.caption(
        "Auditor view: risk tier and production model first. Exports are on the Models and Health pages."
    )
if rows:
    st.dataframe(
        ui.colored(table[overview.columns(role, portfolio.currency)], "status"),
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
    chart_data = pd.DataFrame(overview.status_by_team(rows))
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
    health = pd.DataFrame(overview.scores(rows))
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
