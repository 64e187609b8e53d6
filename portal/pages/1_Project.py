"""Project: CI history, runs and metrics across model versions, data versions, health, labeling."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
import ui
from shipyard import tags
from shipyard.catalog.data_versions import data_versions
from shipyard.catalog.drift import drift_by_source, production, source_rows
from shipyard.catalog.labeling import labeling_progress
from shipyard.errors import ServiceUnavailable
from shipyard.formatting import fraction

cfg, role, portfolio = ui.portfolio_page("Project")
snap = portfolio.snapshot

names = [p.name for p in snap.projects]
if role == "project owner":
    owner = ui.owner_choice(sorted({p.owner for p in snap.projects if p.owner}))
    names = [p.name for p in snap.projects if p.owner == owner] or names
wanted = st.query_params.get("project")
if st.session_state.get("project_pick") not in names:  # first visit: the link's ?project=, else the first
    st.session_state["project_pick"] = wanted if wanted in names else names[0]
name = st.selectbox("Project", names, key="project_pick")
st.query_params["project"] = name
project = snap.project(name)
row = next(r for r in portfolio.rows if r.project == name)
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
ci = [r for r in snap.ci_runs if r.project == name]
if ci:
    ci_df = pd.DataFrame(
        [
            {
                "started": r.started_at,
                "status": r.status,
                "commit": r.commit[:8],
                "branch": r.branch,
                "provider": r.provider,
                "duration (s)": r.duration_s,
                "steps": " → ".join(r.steps),
                "failed step": r.failed_step,
            }
            for r in ci
        ]
    )
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
runs = {r.run_id: r for r in snap.train_runs if r.project == name}
versions = [v for v in snap.versions if v.project == name]
if versions:
    trend = pd.DataFrame(
        [
            {"version": v.version, "metric": k, "value": val}
            for v in versions
            if v.run_id in runs
            for k, val in runs[v.run_id].metrics.items()
        ]
    )
    if not trend.empty:
        st.altair_chart(
            alt.Chart(trend, title="Metrics of each model version's training run")
            .mark_line(point=True)
            .encode(x="version:O", y="value:Q", color="metric:N"),
            width="stretch",
        )
train_df = pd.DataFrame(
    [
        {
            "started": r.started_at,
            "run": r.run_id[:8],
            "gate": r.gate_result or "-",
            "data hash": r.data_hash[:10],
            "commit": r.commit[:8],
            "instance": r.instance_type,
            **{k: round(v, 4) for k, v in sorted(r.metrics.items())},
        }
        for r in runs.values()
    ]
)
if train_df.empty:
    st.info("No training run yet.")
else:
    st.dataframe(train_df, hide_index=True, width="stretch")

# --- data versions -------------------------------------------------------------------------------
st.subheader("Data versions")
found = data_versions(list(runs.values()), versions)
if found:
    data_df = pd.DataFrame(
        [
            {
                "data hash (DVC md5)": d.data_hash,
                "path": d.path,
                "first used": d.first_used,
                "runs": d.runs,
                "model versions": ", ".join(f"v{v}" for v in d.model_versions),
            }
            for d in found
        ]
    )
    st.dataframe(data_df, hide_index=True, width="stretch")
else:
    st.info("No training run recorded a DVC data hash.")

# --- health --------------------------------------------------------------------------------------
st.subheader("Health scorecard (ML Test Score)")
sec = st.columns(4)
for col, (section, value) in zip(sec, card.sections.items(), strict=True):
    col.metric(section.capitalize(), f"{value:g} / 7")
if card.note:
    st.warning(card.note)
st.dataframe(
    pd.DataFrame([{"test": r.id, "title": r.title, "points": r.points, "how": r.how, "evidence": r.evidence}
                  for r in card.results]),
    hide_index=True,
    width="stretch",
)  # fmt: skip

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
                min(progress.percent / 100, 1.0), text=f"{progress.labeled} of {progress.tasks} tasks labeled"
            )
            st.caption(
                f"{progress.annotations} annotations in Label Studio project {progress.label_studio_id}"
            )
