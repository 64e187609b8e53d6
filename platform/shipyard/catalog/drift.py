"""Drift as the projects' monitors push it (Pushgateway -> Prometheus), read with one instant query.

Each source is its own series (``tags.DRIFT_SOURCES``): the Overview and the alert rules read
production drift (scored batches, served traffic); the Project page shows every source next to the
tier's limit. CI's check on the held-out split is never production's figure."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard import tags
from shipyard.clients.prometheus import query
from shipyard.platform.endpoints import Endpoints


@dataclass(frozen=True)
class Drift:
    project: str
    model: str
    share: float  # share of drifting features, 0..1
    features: dict[str, float]  # feature -> drift score (only in project_drift)
    source: str = ""  # tags.DRIFT_SOURCES; "" from a template from before sources (counted as production)


def _source(labels: dict) -> str:
    return labels.get(tags.DRIFT_SOURCE, "")


def drift_by_project(endpoints: Endpoints) -> dict[str, Drift]:
    """Latest production drift share per project (the highest across its models and sources)."""
    out: dict[str, Drift] = {}
    for sample in query(endpoints.prometheus, f"{tags.METRIC_DRIFT_SHARE}{{{tags.PRODUCTION_DRIFT}}}"):
        labels, value = sample["metric"], float(sample["value"][1])
        project = labels.get("project", "")
        if project and (project not in out or value > out[project].share):
            out[project] = Drift(project, labels.get("model", ""), value, {}, _source(labels))
    features = f"max by (project, feature) ({tags.METRIC_FEATURE_DRIFT}{{{tags.PRODUCTION_DRIFT}}})"
    for sample in query(endpoints.prometheus, features):
        project = sample["metric"].get("project", "")
        if project in out:
            out[project].features[sample["metric"].get("feature", "?")] = float(sample["value"][1])
    return out


def drift_by_source(endpoints: Endpoints, project: str) -> dict[str, Drift]:
    """Every source's drift share and per-feature drift of one project (the highest across models)."""
    esc = project.replace("\\", "\\\\").replace('"', '\\"')
    out: dict[str, Drift] = {}
    for sample in query(endpoints.prometheus, f'{tags.METRIC_DRIFT_SHARE}{{project="{esc}"}}'):
        labels, value = sample["metric"], float(sample["value"][1])
        source = _source(labels)
        if source not in out or value > out[source].share:
            out[source] = Drift(project, labels.get("model", ""), value, {}, source)
    for sample in query(endpoints.prometheus, f'{tags.METRIC_FEATURE_DRIFT}{{project="{esc}"}}'):
        labels = sample["metric"]
        found = out.get(_source(labels))
        if found is not None and labels.get("model", "") == found.model:
            found.features[labels.get("feature", "?")] = float(sample["value"][1])
    return out


def project_drift(endpoints: Endpoints, project: str) -> Drift | None:
    """Production drift share and per-feature drift of one project (None: no production figure)."""
    return production(drift_by_source(endpoints, project))


def is_production(source: str) -> bool:
    return source != tags.DRIFT_SOURCE_HELD_OUT


SOURCE_NAMES = {
    tags.DRIFT_SOURCE_HELD_OUT: "held-out split (CI check)",
    tags.DRIFT_SOURCE_SCORED: "scored batches",
    tags.DRIFT_SOURCE_SERVED: "served traffic",
    "": "unlabelled (older template)",
}


def production(by_source: dict[str, Drift]) -> Drift | None:
    found = [d for source, d in by_source.items() if is_production(source)]
    return max(found, key=lambda d: d.share) if found else None


def source_rows(by_source: dict[str, Drift], limit: float | None) -> list[dict[str, object]]:
    """One row per source for the drift chart: its share, whether it is production, the tier's limit."""
    return [
        {
            "source": SOURCE_NAMES.get(source, source),
            "drift share": d.share,
            "production": is_production(source),
            "tier limit": limit,
        }
        for source, d in sorted(by_source.items())
    ]


def drift_status(share: float | None, max_share: float, required: bool) -> str:
    """``ok``, ``drifting`` (over the tier's max share), ``unmonitored`` (required, absent), ``-``."""
    if share is None:
        return "unmonitored" if required else "-"
    return "drifting" if share > max_share else "ok"
