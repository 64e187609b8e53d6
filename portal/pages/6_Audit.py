"""Audit: the platform's append-only, hash-chained event log, its chain status and exports."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from shipyard.audit import listing
from shipyard.audit.access import READERS, may_read
from shipyard.audit.export import log_exports
from shipyard.audit.reproductions import last_reproductions, reproduction_rows

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

options = listing.choices(view.events)
f1, f2, f3, f4 = st.columns(4)
chosen = listing.AuditFilter(
    projects=tuple(f1.multiselect("Project", options.projects, placeholder="all")),
    actors=tuple(f2.multiselect("Actor", options.actors, placeholder="all")),
    actions=tuple(f3.multiselect("Action", options.actions, placeholder="all")),
    since=f4.date_input("Since", value=None),
)
shown = listing.select(view.events, chosen)  # newest first
df = pd.DataFrame(listing.rows(shown))
if df.empty:
    st.info("No events match.")
else:
    st.caption(f"{len(shown)} of {len(view.events)} events, newest first")
    st.dataframe(ui.colored(df, "mark"), hide_index=True, width="stretch")

reproduced = last_reproductions(view.events)
if reproduced:
    st.subheader("Champions reproduced from their lineage (`shipyard audit reproduce --champions`)")
    st.dataframe(pd.DataFrame(reproduction_rows(reproduced)), hide_index=True, width="stretch")

st.subheader("Export (with the chain head, for `shipyard audit verify` later)")
log = log_exports(cfg.platform.data_dir)
e1, e2, e3, e4 = st.columns(4)
e1.download_button("Audit log (JSONL)", log.jsonl, "audit-log.jsonl", "application/json")
e2.download_button("Audit log (CSV)", log.csv, "audit-log.csv", "text/csv")
e3.download_button("Shown events (JSONL)", listing.export_jsonl(shown, check), "audit-shown.jsonl",
                   "application/json")  # fmt: skip
e4.download_button("Shown events (CSV)", listing.export_csv(shown, check), "audit-shown.csv", "text/csv")
