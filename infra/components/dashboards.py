"""Shipyard's Grafana dashboards as code (provisioned by the Grafana sidecar from ConfigMaps).

The platform's dashboards go to the `Shipyard` folder; each team gets a folder of its own with its
models' drift (the team is fixed in the queries, not a dropdown).
"""

from __future__ import annotations

import json

from shipyard.tags import METRIC_DRIFT_SHARE as DRIFT_SHARE
from shipyard.tags import METRIC_FEATURE_DRIFT as FEATURE_DRIFT


def _panel(pid: int, title: str, expr: str, unit: str, x: int, y: int, legend: str) -> dict[str, object]:
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": "A", "expr": expr, "legendFormat": legend}],
    }


PLATFORM_FOLDER = "Shipyard"
FOLDER_ANNOTATION = "grafana_folder"  # the sidecar files a ConfigMap's dashboards under this folder


def _dashboard(uid: str, title: str, panels: list[dict[str, object]], templated: bool = True) -> str:
    team_variable = {
        "name": "team",
        "type": "query",
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "query": f"label_values({DRIFT_SHARE}, team)",
        "includeAll": True,
        "multi": True,
    }
    return json.dumps(
        {
            "uid": uid,
            "title": title,
            "tags": ["shipyard"],
            "schemaVersion": 39,
            "time": {"from": "now-7d", "to": "now"},
            "templating": {"list": [team_variable] if templated else []},
            "panels": panels,
        },
        indent=1,
    )


def dashboards() -> dict[str, str]:
    """File name -> dashboard JSON."""
    drift = _dashboard(
        "shipyard-drift",
        "Shipyard / Model drift",
        [
            _panel(1, "Drift share by model", DRIFT_SHARE + '{team=~"$team"}', "percentunit", 0, 0,
                   "{{team}}/{{project}}/{{model}}"),
            _panel(2, "Drifted features", FEATURE_DRIFT + '{team=~"$team"}', "short", 12, 0,
                   "{{project}} {{feature}}"),
        ],
    )  # fmt: skip
    gpus = _dashboard(
        "shipyard-gpus",
        "Shipyard / GPUs",
        [
            _panel(1, "GPU utilisation", "avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL)", "percent", 0, 0,
                   "{{Hostname}} gpu{{gpu}}"),
            _panel(2, "GPU memory used", "sum by (Hostname) (DCGM_FI_DEV_FB_USED)", "decmbytes", 12, 0,
                   "{{Hostname}}"),
            _panel(3, "GPUs requested per team",
                   'sum by (namespace) (kube_pod_container_resource_requests{resource="nvidia_com_gpu"})',
                   "short", 0, 8, "{{namespace}}"),
        ],
    )  # fmt: skip
    return {"shipyard-drift.json": drift, "shipyard-gpus.json": gpus}


def team_dashboards(team: str) -> dict[str, str]:
    """File name -> dashboard JSON for one team's folder: its models' drift."""
    selector = f'team="{team}"'  # team names are spec-validated slugs: no quoting to escape
    drift = _dashboard(
        f"shipyard-drift-{team}",
        f"{team} / Model drift",
        [
            _panel(1, "Drift share by model", f"{DRIFT_SHARE}{{{selector}}}", "percentunit", 0, 0,
                   "{{project}}/{{model}}"),
            _panel(2, "Drifted features", f"{FEATURE_DRIFT}{{{selector}}}", "short", 12, 0,
                   "{{project}} {{feature}}"),
        ],
        templated=False,
    )  # fmt: skip
    return {f"shipyard-drift-{team}.json": drift}
