"""Models: the inventory of registered model versions with aliases, gate, approvals and lineage."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from shipyard.catalog import inventory, inventory_csv, inventory_json, model_card_text
from shipyard.catalog.views import models as view
from shipyard.catalog.views.common import owned_by, owners
from shipyard.errors import ServiceUnavailable, UserError
from shipyard.formatting import count
from shipyard.registry.client import version_action

JSON = "application/json"

cfg, role, portfolio = ui.portfolio_page("Models")
snap = portfolio.snapshot

rows = inventory(cfg.spec, snap)
audit_view = ui.audit_view(cfg, required=False)
if audit_view is not None:
    for model, what in audit_view.ungoverned_champions.items():
        st.error(f"**{model}**: the champion did not arrive through the platform. {what}")
if role == "project owner":
    rows = owned_by(rows, ui.owner_choice(owners(rows)))
f1, f2 = st.columns([3, 1])
projects = f1.multiselect("Project", view.projects(rows), placeholder="all projects")
champions_only = f2.toggle("Champions only", value=False)
rows = view.select(rows, projects, champions_only)

tally = view.tally(rows)
m = st.columns(4)
m[0].metric("Registered models", count(tally.models))
m[1].metric("Versions", count(tally.versions))
m[2].metric("Champions", count(tally.champions))
m[3].metric("Failed the gate", count(tally.failed_gate))

if not rows:
    st.info("No model versions yet: a project's CI registers one when training passes.")
    st.stop()

st.dataframe(pd.DataFrame(view.table(rows, role)), hide_index=True, width="stretch")

if role == "auditor":
    st.subheader("Export for audit")
    e1, e2 = st.columns(2)
    e1.download_button("Model inventory (CSV)", inventory_csv(rows), "model-inventory.csv", "text/csv")
    e2.download_button("Model inventory (JSON)", inventory_json(rows), "model-inventory.json", JSON)

st.subheader("Lineage and model card")
labels = [view.version_label(r) for r in rows]
picked = rows[st.selectbox("Model version", range(len(rows)), format_func=lambda i: labels[i])]
st.graphviz_chart(
    f"""digraph {{ rankdir=LR; node [shape=box, style=rounded, fontname=Helvetica];
    d [label="DVC data\\n{picked.data_hash[:12] or "unknown"}"];
    c [label="git commit\\n{picked.commit[:10] or "unknown"}"];
    r [label="MLflow run\\n{picked.run_id[:12] or "unknown"}"];
    v [label="{picked.model}\\nversion {picked.version}"];
    d -> r; c -> r; r -> v; }}"""
)
st.caption(
    f"gate: {picked.gate or '-'} {('(' + picked.gate_reason + ')') if picked.gate_reason else ''} · "
    f"CI run {picked.ci_run_id[:12] or '-'} · approvals: {picked.approvals or 'none'}"
)
if audit_view is not None:
    history = audit_view.history(picked.model)
    if history:
        st.markdown("**Promotion history** (from the audit log)")
        st.dataframe(pd.DataFrame(view.history_rows(history)), hide_index=True, width="stretch")
    evidence = view.gate_evidence(history, picked.version)
    if evidence:
        st.markdown(
            f"**Platform gate evidence** (same data: {evidence.rows} rows, sha256 `{evidence.sha256}`)"
        )
        st.dataframe(pd.DataFrame(evidence.candidate_vs_champion), width="stretch")
        other = evidence.validation
        if other:
            st.markdown(f"**Independent validation set** ({other['rows']} rows, sha256 `{other['sha256']}`, "
                        f"by {other['by']})")  # fmt: skip
            st.dataframe(pd.DataFrame(other["comparison"]), width="stretch")
        st.caption(evidence.reasons)
approver = view.may_decide(cfg.spec, st.session_state.get("user", ""))
if approver and cfg.endpoints.registry:
    st.markdown(f"**Your decision on {picked.model} v{picked.version}** (recorded in the audit log)")
    note = st.text_input("Note", key="decision_note")
    b1, b2 = st.columns(2)
    decision = "approve" if b1.button("Approve") else ("reject" if b2.button("Reject") else None)
    if decision:
        try:
            creds, on_behalf_of = ui.registry_caller()
            version_action(cfg.endpoints.registry, creds, picked.model, picked.version, decision, note,
                           on_behalf_of=on_behalf_of)  # fmt: skip
            st.success(f"{decision} of {picked.model} v{picked.version} recorded")
        except UserError as exc:
            st.error(exc.message)
version = view.model_version(snap, picked)
if not version.model_card:
    st.info("This version has no model card (tag shipyard.model_card).")
else:
    try:
        card = model_card_text(cfg.endpoints, version)
    except ServiceUnavailable as exc:
        st.warning(f"The model card could not be read: {exc.detail}")
    else:
        with st.expander(f"Model card ({version.model_card})", expanded=True):
            st.markdown(card or "(empty)")
