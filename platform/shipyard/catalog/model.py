"""What the catalog holds: typed views of MLflow experiments, runs and model versions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property


def ms_to_datetime(ms: int | str | None) -> dt.datetime | None:
    if ms in (None, "", 0, "0"):
        return None
    return dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC)


@dataclass(frozen=True)
class Project:
    name: str
    experiment_id: str
    team: str
    risk_tier: str
    owner: str
    repo: str = ""
    labeling: bool = False
    tags: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class CiRun:
    run_id: str
    project: str
    status: str  # one of tags.CI_STATUSES, "unknown" when the tag is missing
    commit: str
    branch: str
    provider: str
    steps: tuple[str, ...]
    failed_step: str
    started: dt.datetime | None
    ended: dt.datetime | None

    @property
    def duration_s(self) -> float | None:
        if self.started and self.ended:
            return (self.ended - self.started).total_seconds()
        return None


@dataclass(frozen=True)
class TrainRun:
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
    started: dt.datetime | None
    metrics: dict[str, float] = field(default_factory=dict, compare=False)
    params: dict[str, str] = field(default_factory=dict, compare=False)


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
    tags: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_champion(self) -> bool:
        from shipyard import tags

        return tags.CHAMPION in self.aliases


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    project: str
    aliases: dict[str, int]  # alias -> version
    tags: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Snapshot:
    """Everything the Overview needs, read with a handful of paged searches."""

    projects: list[Project]
    ci_runs: list[CiRun]  # newest first
    train_runs: list[TrainRun]  # newest first
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


@dataclass(frozen=True)
class ProjectRecords:
    ci_runs: list[CiRun]
    train_runs: list[TrainRun]
    versions: list[ModelVersion]
    models: list[RegisteredModel]
