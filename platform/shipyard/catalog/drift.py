"""Drift as the projects' monitors push it (Pushgateway -> Prometheus), read with one instant query."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from shipyard import tags
from shipyard.endpoints import Endpoints
from shipyard.errors import ServiceUnavailable


@dataclass(frozen=True)
class Drift:
    project: str
    model: str
    share: float  # share of drifting features, 0..1
    features: dict[str, float]  # feature -> drift score (only in project_drift)


def query(prometheus: str | None, promql: str, timeout: float = 5.0) -> list[dict]:
    if not prometheus:
        raise ServiceUnavailable("Prometheus", None, "no Prometheus URL in the platform's endpoints")
    url = f"{prometheus.rstrip('/')}/api/v1/query"
    try:
        resp = requests.get(url, params={"query": promql}, timeout=timeout)
        body = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise ServiceUnavailable("Prometheus", prometheus, type(exc).__name__) from None
    if body.get("status") != "success":
        raise ServiceUnavailable("Prometheus", prometheus, body.get("error", f"HTTP {resp.status_code}"))
    return body["data"]["result"]


def drift_by_project(endpoints: Endpoints) -> dict[str, Drift]:
    """Latest drift share per project (the highest across its models)."""
    out: dict[str, Drift] = {}
    for sample in query(endpoints.prometheus, tags.METRIC_DRIFT_SHARE):
        labels, value = sample["metric"], float(sample["value"][1])
        project = labels.get("project", "")
        if project and (project not in out or value > out[project].share):
            out[project] = Drift(project, labels.get("model", ""), value, {})
    for sample in query(endpoints.prometheus, f"max by (project, feature) ({tags.METRIC_FEATURE_DRIFT})"):
        project = sample["metric"].get("project", "")
        if project in out:
            out[project].features[sample["metric"].get("feature", "?")] = float(sample["value"][1])
    return out


def project_drift(endpoints: Endpoints, project: str) -> Drift | None:
    """Drift share and per-feature drift of one project."""
    esc = project.replace("\\", "\\\\").replace('"', '\\"')
    shares = query(endpoints.prometheus, f'{tags.METRIC_DRIFT_SHARE}{{project="{esc}"}}')
    if not shares:
        return None
    features = {
        s["metric"].get("feature", "?"): float(s["value"][1])
        for s in query(endpoints.prometheus, f'{tags.METRIC_FEATURE_DRIFT}{{project="{esc}"}}')
    }
    top = max(shares, key=lambda s: float(s["value"][1]))
    return Drift(project, top["metric"].get("model", ""), float(top["value"][1]), features)


def drift_status(share: float | None, max_share: float, required: bool) -> str:
    """``ok``, ``drifting`` (over the tier's max share), ``unmonitored`` (required, absent), ``-``."""
    if share is None:
        return "unmonitored" if required else "-"
    return "drifting" if share > max_share else "ok"
