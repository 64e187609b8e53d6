"""What the platform can see about one project, gathered for the ML Test Score."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shipyard import tags
from shipyard.records import CiRun, ModelVersion, Project, RegisteredModel, Snapshot, TrainingRun


@dataclass(frozen=True)
class Evidence:
    project: Project
    ci_runs: list[CiRun]  # newest first
    train_runs: list[TrainingRun]  # newest first
    versions: list[ModelVersion]
    models: list[RegisteredModel]
    drift_share: float | None = None  # None: nothing pushed (or Prometheus unknown)
    feature_drift: bool = False
    prometheus_error: str | None = None  # set when Prometheus could not be read
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def passed_ci(self) -> CiRun | None:
        return next((r for r in self.ci_runs if r.status == "passed"), None)

    def passed_step(self, match) -> str | None:
        """The first step of the latest passed CI run that ``match`` accepts."""
        run = self.passed_ci
        return next((s for s in run.steps if match(s.lower())), None) if run else None

    @property
    def champion(self) -> ModelVersion | None:
        return next((v for v in self.versions if tags.CHAMPION in v.aliases), None)

    @property
    def documented(self) -> dict[str, str]:
        return {
            k[len(tags.MLTEST_PREFIX) :]: v
            for k, v in self.project.tags.items()
            if k.startswith(tags.MLTEST_PREFIX) and v.strip()
        }


def gather(snapshot: Snapshot, project: Project, drift: dict | None, prometheus_error: str | None = None):
    """Evidence for ``project`` from a snapshot and the drift read from Prometheus (``drift`` maps
    project -> catalog.drift.Drift)."""
    d = (drift or {}).get(project.name)
    records = snapshot.by_project[project.name]
    return Evidence(
        project=project,
        ci_runs=records.ci_runs,
        train_runs=records.train_runs,
        versions=records.versions,
        models=records.models,
        drift_share=d.share if d else None,
        feature_drift=bool(d and d.features),
        prometheus_error=prometheus_error,
    )
