"""Models: the inventory of registered model versions with aliases, gate, approvals and lineage."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from shipyard.catalog import inventory, inventory_csv, inventory_json, model_card_text
from shipyard.errors import ServiceUnavailable, UserError
from shipyard.formatting import count, when
from shipyard.identity.people import person
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
    owner = ui.owner_choice(sorted({r.owner for r in rows if r.owner}))
    rows = [r for r in rows if r.owner == owner]
f1, f2 = st.columns([3, 1])
names = sorted({r.project for r in rows if r.project})
projects = f1.multiselect("Project", names, placeholder="all projects")
champions_only = f2.toggle("Champions only", value=False)
rows = [r for r in rows if not projects or r.project in projects]
rows = [r for r in rows if not champions_only or "champion" in r.aliases]

m = st.columns(4)
m[0].metric("Registered models", count(len({r.model for r in rows})))
m[1].metric("Versions", count(len(rows)))
m[2].metric("Champions", count(sum(1 for r in rows if "champion" in r.aliases)))
m[3].metric("Failed the gate", count(sum(1 for r in rows if r.gate == "failed")))

if not rows:
    st.info("No model versions yet: a project's CI registers one when training passes.")
    st.stop()

df = pd.DataFrame(
    [
        {
            "model": r.model,
            "version": r.version,
            "aliases": r.aliases or "-",
            "gate": r.gate or "-",
            "key metrics": r.metrics,
            "risk tier": r.risk_tier,
            "owner": r.owner,
            "approvals": r.approvals or "-",
            "reproduced": r.reproduced or "-",
            "created by": r.created_by or "(not recorded)",
            "created at (UTC)": when(r.created_at),
            "lineage": r.lineage,
        }
        for r in rows
    ]
)
if role == "auditor":
    first = ["model", "version", "aliases", "risk tier", "gate", "approvals", "lineage"]
    df = df[first + [c for c in df.columns if c not in first]]
st.dataframe(df, hide_index=True, width="stretch")

if role == "auditor":
    st.subheader("Export for audit")
    e1, e2 = st.columns(2)
    e1.download_button("Model inventory (CSV)", inventory_csv(rows), "model-inventory.csv", "text/csv")
    e2.download_button("Model inventory (JSON)", inventory_json(rows), "model-inventory.json", JSON)

st.subheader("Lineage and model card")
labels = [f"{r.model} v{r.version}" + (f" ({r.aliases})" if r.aliases else "") for r in rows]
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
        st.dataframe(
            pd.DataFrame(
                [{"at (UTC)": when(e.at), "who": e.actor, "action": e.action, "version": e.version,
                  "from": e.details.get("previous") or "-", "note": e.details.get("note", "")}
                 for e in history]
            ),
            hide_index=True,
            width="stretch",
        )  # fmt: skip
    registered = [e for e in history if e.action == "submit.registered" and e.version == str(picked.version)]
    if registered:
        ev = registered[-1].details
        st.markdown(f"**Platform gate evidence** (same data: {ev.get('eval_rows')} rows, sha256 "
                    f"`{str(ev.get('eval_hash', ''))[:16]}`)")  # fmt: skip
        side = pd.DataFrame({"candidate": ev.get("candidate", {}), "champion then": ev.get("champion") or {}})
        st.dataframe(side, width="stretch")
        other = ev.get("validation")
        if other:
            sha, by = str(other.get("sha256", ""))[:16], other.get("registered_by")
            st.markdown(f"**Independent validation set** ({other.get('rows')} rows, sha256 `{sha}`, by {by})")
            both = {"candidate": other.get("candidate", {}), "champion then": other.get("champion") or {}}
            st.dataframe(pd.DataFrame(both), width="stretch")
        st.caption("; ".join(ev.get("reasons", [])))
approver = "approver" in (getattr(person(cfg.spec, st.session_state.get("user", "")), "roles", None) or ())
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
version = next(v for v in snap.versions if v.model == picked.model and v.version == picked.version)
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
