"""The Project page: which projects to pick from, and one project's CI history, training runs, metric
trend across model versions, data versions, scorecard and labeling progress as rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipyard.catalog.data_versions import data_versions
from shipyard.catalog.labeling import LabelingProgress
from shipyard.catalog.portfolio import Portfolio, ProjectRow
from shipyard.health import Scorecard
from shipyard.records.model import CiRun, ModelVersion, Snapshot, TrainingRun


def project_names(snap: Snapshot, owner_view: bool, owner: str | None) -> list[str]:
    """Every project; in the project-owner view the owner's (all when the owner has none)."""
    names = [p.name for p in snap.projects]
    if owner_view:
        names = [p.name for p in snap.projects if p.owner == owner] or names
    return names


def first_pick(names: Sequence[str], current: str | None, linked: str | None) -> str | None:
    """The project to show: the one picked before if still listed, else the link's ?project=, else
    the first; None when the current pick stands."""
    if current in names:
        return None
    return linked if linked in names else names[0]


def row_of(portfolio: Portfolio, name: str) -> ProjectRow:
    return next(r for r in portfolio.rows if r.project == name)


@dataclass(frozen=True)
class ProjectHistory:
    ci: list[CiRun]
    runs: dict[str, TrainingRun]  # run id -> the project's training run
    versions: list[ModelVersion]


def records(snap: Snapshot, name: str) -> ProjectHistory:
    return ProjectHistory(
        ci=[r for r in snap.ci_runs if r.project == name],
        runs={r.run_id: r for r in snap.train_runs if r.project == name},
        versions=[v for v in snap.versions if v.project == name],
    )


def ci_rows(ci: Sequence[CiRun]) -> list[dict[str, object]]:
    return [
        {
            "started": r.started_at,
            "status": r.status,
            "commit": r.commit[:8],
            "branch": r.branch,
            "provider": r.provider,
            "duration (s)": r.duration_s,
            "steps": " → ".join(r.steps),
            "failed step": r.failed_step,
        }
        for r in ci
    ]


def metric_trend(found: ProjectHistory) -> list[dict[str, object]]:
    """Each model version's training-run metrics (versions whose run is not recorded are left out)."""
    return [
        {"version": v.version, "metric": k, "value": val}
        for v in found.versions
        if v.run_id in found.runs
        for k, val in found.runs[v.run_id].metrics.items()
    ]


def training_rows(found: ProjectHistory) -> list[dict[str, object]]:
    return [
        {
            "started": r.started_at,
            "run": r.run_id[:8],
            "gate": r.gate_result or "-",
            "data hash": r.data_hash[:10],
            "commit": r.commit[:8],
            "instance": r.instance_type,
            **{k: round(v, 4) for k, v in sorted(r.metrics.items())},
        }
        for r in found.runs.values()
    ]


def data_version_rows(found: ProjectHistory) -> list[dict[str, object]]:
    return [
        {
            "data hash (DVC md5)": d.data_hash,
            "path": d.path,
            "first used": d.first_used,
            "runs": d.runs,
            "model versions": ", ".join(f"v{v}" for v in d.model_versions),
        }
        for d in data_versions(list(found.runs.values()), found.versions)
    ]


def evidence_rows(card: Scorecard) -> list[dict[str, object]]:
    return [
        {"test": r.id, "title": r.title, "points": r.points, "how": r.how, "evidence": r.evidence}
        for r in card.results
    ]


def labeled_fraction(progress: LabelingProgress) -> float:
    """The progress bar's value (0-1; a project labeled past its task count shows full)."""
    return min(progress.percent / 100, 1.0)
