"""A cost view scoped to some projects (the portal's ``--prefix``): only the spec's teams and, below
the team view, only the projects named ``prefix*``."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from shipyard.costs.results import CostLine, CostReport
from shipyard.spec.model import PlatformSpec


@dataclass(frozen=True)
class ScopedCosts:
    lines: list[CostLine]
    unpriced_runs: int
    series: pd.DataFrame | None  # the daily series of the lines shown
    scoped: bool

    @property
    def total(self) -> float:
        return sum(line.cost for line in self.lines)

    @property
    def gpu_hours(self) -> float:
        return sum(line.gpu_hours for line in self.lines)


def scope(
    report: CostReport, spec: PlatformSpec, prefix: str | None, series: pd.DataFrame | None = None
) -> ScopedCosts:
    """The report's lines (and series) as a portal scoped to ``prefix`` shows them; all without one."""
    if not prefix:
        return ScopedCosts(list(report.lines), report.unpriced_runs, series, scoped=False)
    teams = {t.name for t in spec.teams}
    lines = [
        line
        for line in report.lines
        if line.team in teams and (report.by == "team" or (line.project or "").startswith(prefix))
    ]
    if isinstance(series, pd.DataFrame) and not series.empty:
        series = series[series["key"].isin({line.key for line in lines})]
    return ScopedCosts(lines, sum(line.unpriced_runs for line in lines), series, scoped=True)
