"""Project: CI history, runs and metrics across model versions, data versions, health, labeling."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
import ui
from shipyard import tags
from shipyard.catalog.drift import drift_by_source, production, source_rows
from shipyard.catalog.labeling import labeling_progress
from shipyard.catalog.views import project as view
from shipyard.catalog.views.common import owners
from shipyard.errors import ServiceUnavailable
from shipyard.formatting import fraction

cfg, role, portfolio = ui.portfolio_page("Project")
snap = portfolio.snapshot

owner = ui.owner_choice(owners(snap.projects)) if role == "project owner" else None
names = view.project_names(snap, role == "project owner", owner)
pick = view.first_pick(names, st.session_state.get("project_pick"), st.query_params.get("project"))
if pick is not None:  # first visit: the link's ?project=, else the first
    st.session_state["project_pick"] = pick
name = st.selectbox("Project", names, key="project_pick")
st.query_params["project"] = name
project = snap.project(name)
row = view.row_of(portfolio, name)
found = view.records(snap, name)
card = portfolio.scorecards[name]

c = st.columns(5)
c[0].metric("Status", row.status)
c[1].metric("Team", project.team or "-")
c[2].metric("Risk tier", project.risk_tier or "-")
c[3].metric("ML Test Score", f"{card.score:g} / 7")
c[4].metric("Champion", row.champion or "none")
st.badge(row.status.upper(), color={"amber": "orange"}.get(row.status, row.status))
st.caption(
    f"Owner {project.owner or '-'} · repo {project.repo or '-'} · template {row.template}"
    + (f" · {row.reasons}" if row.reasons else "")
)

# --- CI history ----------------------------------------------------------------------------------
st.subheader("CI history")
ci = found.ci
if ci:
    ci_df = pd.DataFrame(view.ci_rows(ci))
    scale = alt.Scale(
        domain=list(tags.CI_STATUSES), range=["#999", "#1f77b4", "#2e7d32", "#c62828", "#f39c12"]
    )
    st.altair_chart(
        alt.Chart(ci_df, title=f"{len(ci)} CI runs")
        .mark_circle(size=90)
        .encode(
            x=alt.X("started:T", title="started (UTC)", axis=ui.TIME_AXIS),
            y=alt.Y("duration (s):Q"),
            color=alt.Color("status:N", scale=scale),
            tooltip=[alt.Tooltip("started:T", format=ui.TIME_FORMAT), "status", "commit", "failed step"],
        ),
        width="stretch",
    )
    st.dataframe(ci_df, hide_index=True, width="stretch")
else:
    st.info("No CI run yet: push to the project's repository to run CI.")

# --- training runs and model versions ------------------------------------------------------------
st.subheader("Runs and metrics across model versions")
if found.versions:
    trend = pd.DataFrame(view.metric_trend(found))
    if not trend.empty:
        st.altair_chart(
            alt.Chart(trend, title="Metrics of each model version's training run")
            .mark_line(point=True)
            .encode(x="version:O", y="value:Q", color="metric:N"),
            width="stretch",
        )
train_df = pd.DataFrame(view.training_rows(found))
if train_df.empty:
    st.info("No training run yet.")
else:
    st.dataframe(train_df, hide_index=True, width="stretch")

# --- data versions -------------------------------------------------------------------------------
st.subheader("Data versions")
data_rows = view.data_version_rows(found)
if data_rows:
    st.dataframe(pd.DataFrame(data_rows), hide_index=True, width="stretch")
else:
    st.info("No training run recorded a DVC data hash.")

# --- health --------------------------------------------------------------------------------------
st.subheader("Health scorecard (ML Test Score)")
sec = st.columns(4)
for col, (section, value) in zip(sec, card.sections.items(), strict=True):
    col.metric(section.capitalize(), f"{value:g} / 7")
if card.note:
    st.warning(card.note)
st.dataframe(pd.DataFrame(view.evidence_rows(card)), hide_index=True, width="stretch")

# --- drift ---------------------------------------------------------------------------------------
st.subheader("Drift")
if not cfg.endpoints.prometheus:
    st.info("This platform has no Prometheus: drift is not monitored.")
else:
    try:
        by_source = drift_by_source(cfg.endpoints, name)
    except ServiceUnavailable as exc:
        st.warning(f"**Prometheus is unreachable** at {exc.url}: {exc.detail}. Drift cannot be shown.")
    else:
        if not by_source:
            st.info(f"No drift metrics pushed for this project ({tags.METRIC_DRIFT_SHARE}).")
        else:
            drift = production(by_source)
            limit = row.drift_limit
            st.metric(
                "Drift share",
                fraction(drift.share) if drift else "-",
                help="production: scored batches and served traffic"
                + (f", model {drift.model}" if drift else ": none pushed yet"),
            )
            st.caption(f"Risk tier {project.risk_tier or '-'} allows a drift share up to {fraction(limit)}.")
            shares = pd.DataFrame(source_rows(by_source, limit))
            bars = (
                alt.Chart(shares, title="Drift share by source, and the tier's limit")
                .mark_bar()
                .encode(
                    x=alt.X("source:N", title=None),
                    y=alt.Y("drift share:Q", scale=alt.Scale(domain=[0, 1])),
                    color=alt.Color("production:N", scale=alt.Scale(domain=[True, False],
                                    range=["#1f77b4", "#bbbbbb"])),
                )
            )  # fmt: skip
            rule = (
                alt.Chart(shares)
                .mark_rule(color="#c62828", strokeDash=[6, 3], size=2)
                .encode(y=alt.datum(limit))
            )
            st.altair_chart(bars + rule if limit is not None else bars, width="stretch")
            if drift and drift.features:
                st.bar_chart(pd.Series(drift.features, name="drift").sort_values(ascending=False))

# --- labeling ------------------------------------------------------------------------------------
if project.labeling:
    st.subheader("Labeling progress (Label Studio)")
    try:
        progress = labeling_progress(cfg.endpoints, name, project.tags.get(tags.LABEL_STUDIO_PROJECT))
    except ServiceUnavailable as exc:
        st.warning(f"**Label Studio is unreachable** at {exc.url or '(not configured)'}: {exc.detail}.")
    else:
        if progress is None:
            st.info("No Label Studio project with this name yet.")
        else:
            st.progress(
                view.labeled_fraction(progress), text=f"{progress.labeled} of {progress.tasks} tasks labeled"
            )
            st.caption(
                f"{progress.annotations} annotations in Label Studio project {progress.label_studio_id}"
            )
