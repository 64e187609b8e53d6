"""Health: the ML Test Score (Breck et al. 2017) of every project, with its evidence."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from shipyard.catalog import health_csv, health_json
from shipyard.catalog.views import health as view

JSON = "application/json"

cfg, role, portfolio = ui.portfolio_page("Health")

st.caption(
    "ML Test Score (Breck et al., 2017): 28 tests in 4 sections. A test counts 1 when the platform sees it "
    "automated, 0.5 when done by hand and documented (experiment tag `shipyard.mltest.<test>` links the "
    "document), 0 otherwise. The score is the lowest of the four section sums (0-7)."
)
cards = portfolio.scorecards
if role == "project owner":
    owners = view.project_owners(portfolio.snapshot)
    cards = view.cards_of(cards, owners, ui.owner_choice(view.owner_choices(owners)))

summary = pd.DataFrame(view.summary(cards))
st.dataframe(summary, hide_index=True, width="stretch")

if role == "auditor":
    st.subheader("Export the evidence")
    e1, e2 = st.columns(2)
    e1.download_button("Health evidence (CSV)", health_csv(cards), "health-evidence.csv", "text/csv")
    e2.download_button("Health evidence (JSON)", health_json(cards), "health-evidence.json", JSON)

if cards:
    name = st.selectbox("Project", list(cards))
    card = cards[name]
    st.metric("ML Test Score", f"{card.score:g} / 7")
    if card.note:
        st.warning(card.note)
    seen, missing = view.seen_rows(card), view.missing_rows(card)
    st.markdown(f"**Evidence seen ({len(seen)})**")
    st.dataframe(pd.DataFrame(seen), hide_index=True, width="stretch")
    st.markdown(f"**Missing tests ({len(missing)})** and the evidence that would count")
    st.dataframe(pd.DataFrame(missing), hide_index=True, width="stretch")
