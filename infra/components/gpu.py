"""NVIDIA device plugin and DCGM exporter (pinned charts), only on GPU nodes, scraped by Prometheus."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.common import (
    DCGM_EXPORTER_CHART,
    DEVICE_PLUGIN_CHART,
    GPU_NODE_AFFINITY,
    GPU_TOLERATION,
    child,
    container_resources,
    k8s_labels,
)


@dataclass(frozen=True)
class GpuSupportArgs:
    platform: str
    namespace: str  # where the DCGM exporter runs (next to Prometheus)
    gpu_types: list[str]


class GpuSupport(pulumi.ComponentResource):
    def __init__(self, name: str, args: GpuSupportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:GpuSupport", name, None, opts)
        labels = k8s_labels(args.platform, "gpu")
        placement = {"tolerations": [GPU_TOLERATION], "affinity": GPU_NODE_AFFINITY}
        k8s.helm.v3.Release(
            f"{name}-device-plugin",
            name="nvidia-device-plugin",
            chart=DEVICE_PLUGIN_CHART.chart,
            version=DEVICE_PLUGIN_CHART.version,
            repository_opts={"repo": DEVICE_PLUGIN_CHART.repo},
            namespace="kube-system",
            values={
                **placement,
                "resources": container_resources("50m", "64Mi", "200m"),
                "podLabels": labels,
            },
            opts=child(self),
        )
        k8s.helm.v3.Release(
            f"{name}-dcgm-exporter",
            name="dcgm-exporter",
            chart=DCGM_EXPORTER_CHART.chart,
            version=DCGM_EXPORTER_CHART.version,
            repository_opts={"repo": DCGM_EXPORTER_CHART.repo},
            namespace=args.namespace,
            values={
                **placement,
                "serviceMonitor": {"enabled": True, "interval": "15s"},
                "resources": container_resources("100m", "256Mi", "500m"),
                "podLabels": labels,
            },
            opts=child(self),
        )
        self.register_outputs({"gpuTypes": args.gpu_types})
