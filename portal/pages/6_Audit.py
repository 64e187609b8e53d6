"""Audit: the platform's append-only, hash-chained event log, its chain status and exports."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from shipyard.audit.access import READERS, may_read
from shipyard.audit.store import AuditStore
from shipyard.audit.view import home
from shipyard.audit.witness import checkpoints
from shipyard.cli.audit_cmd import render_export

ui.page("Audit")
cfg = ui.config()
ui.role(cfg)
if not may_read(cfg.spec, st.session_state["user"]):
    st.warning(f"The audit log is read by {READERS} only: ask an auditor for an export.")
    st.stop()
view = ui.audit_view(cfg, required=True)
if view is None:
    st.info("No audit log on this platform yet: `shipyard up` creates it.")
    st.stop()
check = view.verification
if check.ok:
    st.success(f"Chain verified: {check.count} events, head `{check.head[:16]}`")
else:
    st.error(f"Chain BROKEN at event {check.bad_seq}: {check.reason}")
if view.error:
    st.warning(view.error)
for model, what in view.ungoverned_champions.items():
    st.error(f"**{model}**: the champion did not arrive through the platform. {what}")

events = view.events
f1, f2, f3 = st.columns(3)
projects = f1.multiselect("Project", sorted({e.project for e in events if e.project}), placeholder="all")
actions = f2.multiselect("Action", sorted({e.action for e in events}), placeholder="all")
since = f3.date_input("Since", value=None)
shown = [
    e
    for e in events
    if (not projects or e.project in projects)
    and (not actions or e.action in actions)
    and (since is None or e.at[:10] >= since.isoformat())
]
df = pd.DataFrame(
    [
        {
            "#": e.seq,
            "mark": "red" if e.action.startswith("finding") else "ok",
            "at (UTC)": e.at[:19],
            "actor": e.actor,
            "action": e.action,
            "model": e.model,
            "version": e.version,
            "what": e.details.get("what") or e.details.get("note") or "; ".join(e.details.get("reasons", [])),
            "hash": e.hash[:16],
        }
        for e in shown
    ]
)
if df.empty:
    st.info("No events match.")
else:
    st.dataframe(ui.colored(df, "mark"), hide_index=True, width="stretch")

st.subheader("Export (with the chain head, for `shipyard audit verify` later)")
store = AuditStore.of(home())
witnessed = checkpoints(home())
e1, e2 = st.columns(2)
e1.download_button("Audit log (JSONL)", render_export(store, "jsonl", witnessed), "audit-log.jsonl",
                   "application/json")  # fmt: skip
e2.download_button("Audit log (CSV)", render_export(store, "csv", witnessed), "audit-log.csv", "text/csv")
