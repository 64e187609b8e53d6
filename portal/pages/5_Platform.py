"""Platform: each service's health and URL."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from shipyard.catalog import service_health
from shipyard.catalog.views import platform as view

ui.page("Platform")
cfg = ui.config()
ui.role()

spec = cfg.spec
st.caption(f"Platform **{spec.platform.name}** ({spec.platform.environment}) · spec {cfg.spec_path}")
health = service_health(cfg.endpoints, cfg.dvc_remote_root, cfg.git_root)
down = view.down(health)
if down:
    st.error(f"Unreachable: {', '.join(down)}. Pages that need them say so and show what they can.")
else:
    st.success("Every configured service answers.")
services = pd.DataFrame(view.service_rows(health))
st.dataframe(ui.colored(services, "status"), hide_index=True, width="stretch")
st.subheader("Teams")
st.dataframe(pd.DataFrame(view.team_rows(spec)), hide_index=True, width="stretch")
