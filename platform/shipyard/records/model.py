"""The typed records Shipyard keeps in MLflow: projects (experiments), CI runs, training runs,
registered models and model versions. One type per record; :mod:`shipyard.records.parse` builds them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from shipyard import tags

TERMINAL_CI_STATUSES = ("passed", "failed", "interrupted")


def ms_to_datetime(ms: int | str | None) -> dt.datetime | None:
    if ms in (None, "", 0, "0"):
        return None
    return dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC)


@dataclass(frozen=True)
class Project:
    """An MLflow experiment tagged ``shipyard.project``."""

    name: str
    experiment_id: str
    team: str
    risk_tier: str
    owner: str
    repo: str = ""
    labeling: bool = False
    artifact_location: str = ""
    lifecycle_stage: str = "active"
    tags: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label_studio_project(self) -> str:
        return self.tags.get(tags.LABEL_STUDIO_PROJECT, "")


@dataclass(frozen=True)
class CiRun:
    """One CI pipeline execution: a run with ``run_kind=ci`` in its project's experiment."""

    run_id: str
    project: str
    status: str  # one of tags.CI_STATUSES, "unknown" when the tag is missing
    commit: str
    branch: str
    provider: str
    steps: tuple[str, ...]
    failed_step: str  # "" when no step failed
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    experiment_id: str = ""
    pushed_by: str = ""  # the verified signed-in account whose push started it ("" unknown)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_CI_STATUSES

    @property
    def duration_s(self) -> float | None:
        """Start to end; for a run still going, start to now."""
        if not self.started_at:
            return None
        end = self.ended_at or (None if self.finished else dt.datetime.now(dt.UTC))
        return (end - self.started_at).total_seconds() if end else None

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "project": self.project,
            "commit": self.commit,
            "branch": self.branch,
            "status": self.status,
            "provider": self.provider,
            "steps": list(self.steps),
            "failed_step": self.failed_step or None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "duration_s": round(self.duration_s, 1) if self.duration_s is not None else None,
        }


@dataclass(frozen=True)
class TrainingRun:
    """A run with ``run_kind=train``: lineage (data hash, commit, CI run), cost inputs, gate, metrics."""

    run_id: str
    project: str
    ci_run_id: str
    commit: str
    data_hash: str
    data_path: str
    label_export: str
    instance_type: str
    gpu_count: int
    gate_result: str
    gate_reason: str
    started_at: dt.datetime | None
    metrics: dict[str, float] = field(default_factory=dict, compare=False)
    params: dict[str, str] = field(default_factory=dict, compare=False)
    experiment_id: str = ""
    tags: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    project: str
    aliases: dict[str, int]  # alias -> version
    tags: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: int
    project: str
    run_id: str
    data_hash: str
    commit: str
    gate_result: str
    model_card: str
    approved_by: tuple[str, ...]
    approved_at: tuple[str, ...]
    aliases: tuple[str, ...]
    created_by: str
    created_at: dt.datetime | None
    status: str
    source: str
    risk_tier: str = ""  # the project's risk tier, where the reader knows it
    tags: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_champion(self) -> bool:
        return tags.CHAMPION in self.aliases


@dataclass(frozen=True)
class ProjectRecords:
    ci_runs: list[CiRun]
    train_runs: list[TrainingRun]
    versions: list[ModelVersion]
    models: list[RegisteredModel]


@dataclass(frozen=True)
class Snapshot:
    """Every record of a set of projects, read with a handful of paged searches."""

    projects: list[Project]
    ci_runs: list[CiRun]  # newest first
    train_runs: list[TrainingRun]  # newest first
    models: list[RegisteredModel]
    versions: list[ModelVersion]
    loaded_at: dt.datetime
    requests: int = 0

    def project(self, name: str) -> Project | None:
        return next((p for p in self.projects if p.name == name), None)

    @cached_property
    def by_project(self) -> dict[str, ProjectRecords]:
        """Runs, versions and models grouped per project, built once (health needs them per project)."""
        groups = {p.name: ProjectRecords([], [], [], []) for p in self.projects}
        for items, attr in ((self.ci_runs, "ci_runs"), (self.train_runs, "train_runs"),
                            (self.versions, "versions"), (self.models, "models")):  # fmt: skip
            for item in items:
                if item.project in groups:
                    getattr(groups[item.project], attr).append(item)
        return groups
