"""Names, tags and labels every component shares, and the pinned Helm charts."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

# AWS cost-allocation tags (activate them in the Billing console, see docs/platform-engineer.md).
TAG_PLATFORM = "shipyard:platform"
TAG_TEAM = "shipyard:team"
TAG_COMPONENT = "shipyard:component"
# Kubernetes label keys cannot hold ':', so the same three facts use the shipyard.io/ prefix.
LABEL_PLATFORM = "shipyard.io/platform"
LABEL_TEAM = "shipyard.io/team"
LABEL_COMPONENT = "shipyard.io/component"
LABEL_POOL = "shipyard.io/pool"
LABEL_GPU_TYPE = "shipyard.io/gpu-type"

SYSTEM_NAMESPACE = "shipyard-system"
MONITORING_NAMESPACE = "shipyard-monitoring"
TEAM_SERVICE_ACCOUNT = "shipyard-runner"  # CI/training jobs of a team run as this service account
DEV_STACK = re.compile(r"(^|[-_.])dev($|[-_.])")


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


def is_dev_stack(stack: str) -> bool:
    """Dev stacks (name contains a 'dev' word) may be deleted without a final snapshot."""
    return bool(DEV_STACK.search(stack))


def aws_tags(platform: str, component: str, team: str | None = None) -> dict[str, str]:
    tags = {TAG_PLATFORM: platform, TAG_COMPONENT: component}
    if team:
        tags[TAG_TEAM] = team
    return tags


def k8s_labels(platform: str, component: str, team: str | None = None, **extra: str) -> dict[str, str]:
    labels = {LABEL_PLATFORM: platform, LABEL_COMPONENT: component, **extra}
    if team:
        labels[LABEL_TEAM] = team
    return labels


def child(parent: pulumi.Resource, **kwargs: object) -> pulumi.ResourceOptions:
    """Options for a resource created inside a component."""
    return pulumi.ResourceOptions(parent=parent, **kwargs)  # type: ignore[arg-type]


def container_resources(cpu: str, memory: str, cpu_limit: str | None = None) -> dict[str, dict[str, str]]:
    """Requests and limits (the policy pack requires both on every container)."""
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit or cpu, "memory": memory},
    }


GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
GPU_NODE_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": LABEL_GPU_TYPE, "operator": "Exists"}]}]
        }
    }
}
