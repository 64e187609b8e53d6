"""Data versions of a project: the DVC data hashes its training runs used, and the model versions
trained on each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shipyard.records import ModelVersion, TrainingRun

_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass
class DataVersion:
    data_hash: str  # DVC md5 of the training inputs
    path: str
    first_used: dt.datetime | None
    runs: int = 0
    model_versions: list[int] = field(default_factory=list)


def data_versions(runs: list[TrainingRun], versions: list[ModelVersion]) -> list[DataVersion]:
    """One entry per data hash, in the order first used (runs without a hash are left out)."""
    by_hash: dict[str, DataVersion] = {}
    for run in sorted(runs, key=lambda r: r.started_at or _NEVER):
        if run.data_hash:
            entry = by_hash.setdefault(
                run.data_hash, DataVersion(run.data_hash, run.data_path, run.started_at)
            )
            entry.runs += 1
    for version in versions:
        if version.data_hash in by_hash:
            by_hash[version.data_hash].model_versions.append(version.version)
    return list(by_hash.values())
