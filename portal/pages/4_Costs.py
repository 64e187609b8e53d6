"""Costs: per team / project / model, the month's trend, budget burn and GPU hours (cost service)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from shipyard.costs import api as costs
from shipyard.costs import view
from shipyard.costs.scope import scope
from shipyard.costs.tables import budget_rows, cost_rows
from shipyard.errors import UserError
from shipyard.formatting import DATE_FORMAT, count, hours, money

ui.page("Costs")
cfg = ui.config()
role = ui.role()

c1, c2 = st.columns(2)
month = c1.selectbox("Month", view.months())
by = c2.radio("By", view.BY, horizontal=True, index=view.default_by(role))

try:
    report = costs.cost_report(cfg.spec, cfg.endpoints, by=by, month=month)
    budgets = costs.budget_status(cfg.spec, cfg.endpoints, month=month)
    series = costs.daily_series(cfg.spec, cfg.endpoints, month, by)
except UserError as exc:  # the cost service reads MLflow and the cloud: say which failed, never a traceback
    st.warning(f"**cost service unavailable**: {exc.message}")
    st.stop()

cur = report.currency
scoped = scope(report, cfg.spec, cfg.prefix, series)
shown, series = scoped.lines, scoped.series
if scoped.scoped:
    st.caption(f"Scoped to the spec's teams and projects named `{cfg.prefix}*`.")
m = st.columns(4)
m[0].metric(f"Total {month} ({cur})", money(scoped.total))
m[1].metric("GPU hours", hours(scoped.gpu_hours))
m[2].metric("Unpriced runs", count(scoped.unpriced_runs))
m[3].metric("Prices as of", report.price_date.strftime(DATE_FORMAT))
if report.any_estimated:
    st.caption("Figures marked estimated come from MLflow run usage × the spec's price table.")
for note in report.notes:
    st.caption(note)

st.subheader("Budget burn")
if budgets:
    budget_df = pd.DataFrame(budget_rows(budgets, cur))
    st.dataframe(
        ui.colored(budget_df, "alert"),
        hide_index=True,
        width="stretch",
        column_config={"used %": st.column_config.ProgressColumn(max_value=100, format="%.0f%%")},
    )

st.subheader(f"Cost by {by}")
lines = pd.DataFrame(cost_rows(shown, by, cur))
if lines.empty:
    st.info("No costs recorded this month.")
else:
    st.dataframe(lines, hide_index=True, width="stretch")
    st.download_button("Costs (CSV)", lines.to_csv(index=False), f"costs-{by}-{month}.csv", "text/csv")

st.subheader("Month trend")
trend = view.cumulative_trend(series)
if trend is not None:
    st.line_chart(trend)
else:
    st.info("No daily costs this month yet.")
