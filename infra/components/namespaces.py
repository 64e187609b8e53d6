"""The platform's own namespaces: system services, and monitoring."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.common import MONITORING_NAMESPACE, SYSTEM_NAMESPACE, Component, child, k8s_labels


@dataclass(frozen=True)
class SystemNamespacesArgs:
    platform: str
    system: str = SYSTEM_NAMESPACE
    monitoring: str = MONITORING_NAMESPACE


class SystemNamespaces(Component):
    system: str
    monitoring: str

    def __init__(
        self, name: str, args: SystemNamespacesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shipyard:infra:SystemNamespaces", name, opts)
        for ns, component in ((args.system, "system"), (args.monitoring, "monitoring")):
            k8s.core.v1.Namespace(
                f"{name}-{component}",
                metadata={"name": ns, "labels": k8s_labels(args.platform, component)},
                opts=child(self),
            )
        self.system, self.monitoring = args.system, args.monitoring
        self.register_outputs({"system": self.system, "monitoring": self.monitoring})
