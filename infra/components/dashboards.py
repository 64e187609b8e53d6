"""Shipyard's Grafana dashboards as code (provisioned by the Grafana sidecar from ConfigMaps)."""

from __future__ import annotations

import json


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


def _dashboard(uid: str, title: str, panels: list[dict[str, object]]) -> str:
    return json.dumps(
        {
            "uid": uid,
            "title": title,
            "tags": ["shipyard"],
            "schemaVersion": 39,
            "time": {"from": "now-7d", "to": "now"},
            "templating": {
                "list": [
                    {
                        "name": "team",
                        "type": "query",
                        "datasource": {"type": "prometheus", "uid": "prometheus"},
                        "query": "label_values(shipyard_drift_share, team)",
                        "includeAll": True,
                        "multi": True,
                    }
                ]
            },
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
            _panel(1, "Drift share by model", 'shipyard_drift_share{team=~"$team"}', "percentunit", 0, 0,
                   "{{team}}/{{project}}/{{model}}"),
            _panel(2, "Drifted features", 'shipyard_feature_drift{team=~"$team"}', "short", 12, 0,
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
