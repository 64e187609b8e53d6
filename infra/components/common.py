"""Names, tags and labels every component shares, and the pinned Helm charts."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from shipyard.spec.labels import (  # noqa: F401  (the label contract, re-exported for components)
    GPU_TAINT_KEY,
    LABEL_GPU_TYPE,
    LABEL_POOL,
    aws_tags,
    is_dev_stack,
    k8s_labels,
)

SYSTEM_NAMESPACE = "shipyard-system"
MONITORING_NAMESPACE = "shipyard-monitoring"
TEAM_SERVICE_ACCOUNT = "shipyard-runner"  # CI/training jobs of a team run as this service account


@dataclass(frozen=True)
class ChartPin:
    chart: str
    version: str
    repo: str


# Pinned chart versions: bump them here (one place), then `pulumi preview` shows the upgrade.
DEVICE_PLUGIN_CHART = ChartPin("nvidia-device-plugin", "0.17.1", "https://nvidia.github.io/k8s-device-plugin")
DCGM_EXPORTER_CHART = ChartPin("dcgm-exporter", "4.1.1", "https://nvidia.github.io/dcgm-exporter/helm-charts")
PUSHGATEWAY_CHART = ChartPin(
    "prometheus-pushgateway", "3.0.0", "https://prometheus-community.github.io/helm-charts"
)
PROMETHEUS_STACK_REPO = "https://prometheus-community.github.io/helm-charts"
LABEL_STUDIO_REPO = "https://charts.heartex.com/"
OAUTH2_PROXY_IMAGE = "quay.io/oauth2-proxy/oauth2-proxy:v7.8.1"


def child(parent: pulumi.Resource, **kwargs: object) -> pulumi.ResourceOptions:
    """Options for a resource created inside a component."""
    return pulumi.ResourceOptions(parent=parent, **kwargs)  # type: ignore[arg-type]


def container_resources(cpu: str, memory: str, cpu_limit: str | None = None) -> dict[str, dict[str, str]]:
    """Requests and limits (the policy pack requires both on every container)."""
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit or cpu, "memory": memory},
    }


GPU_TOLERATION = {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}
GPU_NODE_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": LABEL_GPU_TYPE, "operator": "Exists"}]}]
        }
    }
}
