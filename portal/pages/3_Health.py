"""Health: the ML Test Score (Breck et al. 2017) of every project, with its evidence."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from shipyard.catalog import health_csv, health_json
from shipyard.health import SECTIONS

JSON = "application/json"

cfg, role, portfolio = ui.portfolio_page("Health")

st.caption(
    "ML Test Score (Breck et al., 2017): 28 tests in 4 sections. A test counts 1 when the platform sees it "
    "automated, 0.5 when done by hand and documented (experiment tag `shipyard.mltest.<test>` links the "
    "document), 0 otherwise. The score is the lowest of the four section sums (0-7)."
)
cards = portfolio.scorecards
if role == "project owner":
    owners = {p.name: p.owner for p in portfolio.snapshot.projects}
    owner = ui.owner_choice(sorted({o for o in owners.values() if o}))
    cards = {k: v for k, v in cards.items() if owners.get(k) == owner}

summary = pd.DataFrame(
    [
        {
            "project": c.project,
            "score": c.score,
            **{s: c.sections[s] for s in SECTIONS},
            "automated": sum(1 for r in c.results if r.how == "automated"),
            "manual": sum(1 for r in c.results if r.how == "manual"),
            "missing": len(c.missing),
        }
        for c in cards.values()
    ]
)
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
    seen, missing = [r for r in card.results if r.how != "missing"], card.missing
    st.markdown(f"**Evidence seen ({len(seen)})**")
    st.dataframe(
        pd.DataFrame([{"test": r.id, "title": r.title, "points": r.points, "how": r.how,
                       "evidence": r.evidence} for r in seen]),
        hide_index=True, width="stretch",
    )  # fmt: skip
    st.markdown(f"**Missing tests ({len(missing)})** and the evidence that would count")
    st.dataframe(
        pd.DataFrame([{"test": r.id, "title": r.title, "what would count": r.evidence} for r in missing]),
        hide_index=True, width="stretch",
    )  # fmt: skip
