"""NVIDIA device plugin and DCGM exporter (pinned charts), only on GPU nodes, scraped by Prometheus.

On EKS the node groups label GPU nodes with the spec's gpu type. On an existing cluster nothing
Shipyard controls labels nodes, so GPU feature discovery (with NFD) labels them and the device
plugin keeps its label-free default placement; where the NVIDIA GPU Operator already runs
(``platform.cluster.gpu_operator``) it owns both and Shipyard installs neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.common import (
    DCGM_EXPORTER_CHART,
    DEVICE_PLUGIN_CHART,
    GPU_NODE_AFFINITY,
    GPU_TOLERATION,
    Component,
    child,
    container_resources,
    k8s_labels,
)


@dataclass(frozen=True)
class GpuSupportArgs:
    platform: str
    namespace: str  # where the DCGM exporter runs (next to Prometheus)
    gpu_types: list[str]
    labelled_nodes: bool = True  # EKS node groups label GPU nodes (shipyard.io/gpu-type)
    service_monitor: bool = True  # Prometheus (and its CRDs) is part of the platform
    after: Sequence[pulumi.Resource] = ()  # the release that installs the ServiceMonitor CRD


def _node_has(label: str) -> dict[str, object]:
    return {"matchExpressions": [{"key": label, "operator": "In", "values": ["true"]}]}


# GPU nodes as NFD and GPU feature discovery label them (the device plugin chart's own default terms):
# NFD's NVIDIA PCI vendor label, or GFD's (also set by hand to force a node in)
DISCOVERED_GPU_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                _node_has("feature.node.kubernetes.io/pci-10de.present"),
                _node_has("nvidia.com/gpu.present"),
            ]
        }
    }
}


class GpuSupport(Component):
    def __init__(self, name: str, args: GpuSupportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:GpuSupport", name, opts)
        labels = k8s_labels(args.platform, "gpu")
        placement: dict[str, object] = {"tolerations": [GPU_TOLERATION]}
        plugin: dict[str, object] = {"resources": container_resources("50m", "64Mi", "200m")}
        exporter: dict[str, object] = {}
        if args.labelled_nodes:
            placement["affinity"] = GPU_NODE_AFFINITY
        else:  # label GPU nodes (NFD + GPU feature discovery); the chart's default affinity reads them
            plugin["gfd"] = {"enabled": True}
            # the exporter's chart has no default placement: without it the DaemonSet lands on every
            # untainted CPU node too, where NVML is missing and it crash-loops
            exporter["affinity"] = DISCOVERED_GPU_AFFINITY
        k8s.helm.v3.Release(
            f"{name}-device-plugin",
            name="nvidia-device-plugin",
            chart=DEVICE_PLUGIN_CHART.chart,
            version=DEVICE_PLUGIN_CHART.version,
            repository_opts={"repo": DEVICE_PLUGIN_CHART.repo},
            namespace="kube-system",
            values={**placement, **plugin},
            opts=child(self),
        )
        # the chart renders a ServiceMonitor unless told not to: it needs the operator's CRDs first
        k8s.helm.v3.Release(
            f"{name}-dcgm-exporter",
            name="dcgm-exporter",
            chart=DCGM_EXPORTER_CHART.chart,
            version=DCGM_EXPORTER_CHART.version,
            repository_opts={"repo": DCGM_EXPORTER_CHART.repo},
            namespace=args.namespace,
            values={
                **placement,
                **exporter,
                "serviceMonitor": {"enabled": args.service_monitor, "interval": "15s"},
                "resources": container_resources("100m", "256Mi", "500m"),
                "podLabels": labels,
            },
            opts=child(self, depends_on=list(args.after)),
        )
        self.register_outputs({"gpuTypes": args.gpu_types})
