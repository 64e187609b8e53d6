"""Platform: each service's health and URL."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from shipyard.catalog import service_health
from shipyard.formatting import count, money

ui.page("Platform")
cfg = ui.config()
ui.role()

spec = cfg.spec
st.caption(f"Platform **{spec.platform.name}** ({spec.platform.environment}) · spec {cfg.spec_path}")
health = service_health(cfg.endpoints, cfg.dvc_remote_root, cfg.git_root)
down = [h.service for h in health if h.status == "down"]
if down:
    st.error(f"Unreachable: {', '.join(down)}. Pages that need them say so and show what they can.")
else:
    st.success("Every configured service answers.")
services = pd.DataFrame(
    [
        {
            "service": h.service,
            "status": h.status,
            "URL": h.url or "-",
            "detail": h.detail,
            "latency (ms)": count(h.latency_ms),
        }
        for h in health
    ]
)
st.dataframe(ui.colored(services, "status"), hide_index=True, width="stretch")
st.subheader("Teams")
st.dataframe(
    pd.DataFrame(
        [
            {
                "team": t.name,
                "owners": ", ".join(t.owners),
                f"monthly budget ({spec.platform.currency})": money(t.monthly_budget),
                "GPUs": count(t.quota.gpus),
            }
            for t in spec.teams
        ]
    ),
    hide_index=True,
    width="stretch",
)
