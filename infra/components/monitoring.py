"""Prometheus + Grafana (kube-prometheus-stack, pinned), a Pushgateway, Shipyard dashboards and alerts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from shipyard.alerts import prometheus_rule
from shipyard.spec.governance import RiskTier
from shipyard.spec.services import GrafanaSpec, PrometheusSpec

from components.common import (
    PROMETHEUS_STACK_REPO,
    PUSHGATEWAY_CHART,
    Component,
    child,
    container_resources,
    k8s_labels,
)
from components.dashboards import FOLDER_ANNOTATION, PLATFORM_FOLDER, dashboards, team_dashboards


@dataclass(frozen=True)
class MonitoringArgs:
    platform: str
    namespace: str
    prometheus: PrometheusSpec
    grafana: GrafanaSpec
    risk_tiers: Mapping[str, RiskTier]  # the spec's: one drift alert per tier (shipyard.alerts)
    managed_control_plane: bool = False  # EKS: the control plane cannot be scraped
    teams: tuple[str, ...] = ()  # one Grafana folder each, with its models' dashboards
    kubernetes_version: str = "1.35"  # the cluster's minor: the CRD upgrade job's kubectl follows it
    node_selector: dict[str, str] | None = None  # EKS: ON_DEMAND (Prometheus's volume is zonal; no spot)
    tolerations: tuple[dict[str, str], ...] = ()  # the platform pool's taint (CriticalAddonsOnly)


def kubectl_tag(kubernetes_version: str) -> str:
    """registry.k8s.io/kubectl's tag for the cluster's minor. The chart's default is derived from the
    API server's version string (EKS `v1.35.2-eks-a1b2c3`, RKE2 `+rke2r1`, which name no kubectl image;
    75.15.1 keeps only its `vX.Y.Z`): pinned here so the tag never depends on the chart's handling."""
    return f"v{kubernetes_version}.0"


HIDDEN_CONTROL_PLANE = ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy")
HIDDEN_CONTROL_PLANE_RULES = (
    "etcd",
    "kubeControllerManager",
    "kubeSchedulerAlerting",
    "kubeSchedulerRecording",
    "kubeProxy",
)


class Monitoring(Component):
    prometheus_url: str
    pushgateway_url: str
    grafana_url: str | None
    grafana_service_url: str | None  # in the cluster, through the Service
    grafana_admin_password: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:Monitoring", name, opts)
        ns = args.namespace
        labels = k8s_labels(args.platform, "monitoring")
        password = random.RandomPassword(f"{name}-grafana-admin", length=24, special=False, opts=child(self))
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        admin = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": "grafana-admin", "namespace": ns, "labels": labels},
            type="Opaque",
            string_data=pulumi.Output.secret({"admin-user": "admin", "admin-password": password.result}),
            opts=child(self),
        )

        def board_map(
            resource: str, map_name: str, folder: str, data: dict[str, str]
        ) -> k8s.core.v1.ConfigMap:
            return k8s.core.v1.ConfigMap(
                resource,
                metadata={
                    "name": map_name,
                    "namespace": ns,
                    "labels": {**labels, "grafana_dashboard": "1"},
                    "annotations": {FOLDER_ANNOTATION: folder},
                },
                data=data,
                opts=child(self),
            )

        board_maps = [board_map(f"{name}-dashboards", "shipyard-dashboards", PLATFORM_FOLDER, dashboards())]
        board_maps += [
            board_map(f"{name}-dashboards-{team}", f"shipyard-dashboards-{team}", team, team_dashboards(team))
            for team in args.teams
        ]
        placement: dict[str, object] = {}
        if args.node_selector:
            placement["nodeSelector"] = args.node_selector
        if args.tolerations:
            placement["tolerations"] = list(args.tolerations)
        stack_values: dict[str, object] = {
            "fullnameOverride": "kps",
            # Helm never upgrades CRDs: the chart's job applies the new ones before each upgrade, with a
            # kubectl pinned to the cluster's minor (kubectl_tag)
            "crds": {
                "upgradeJob": {
                    "enabled": True,
                    "forceConflicts": True,
                    "image": {"kubectl": {"tag": kubectl_tag(args.kubernetes_version)}},
                    "resources": container_resources("100m", "128Mi", "500m"),
                    **placement,
                }
            },
            "prometheus": {
                "prometheusSpec": {
                    **placement,
                    "retention": f"{args.prometheus.retention_days}d",
                    # pick up every ServiceMonitor/PrometheusRule (pushgateway, dcgm-exporter, shipyard rules)
                    "serviceMonitorSelectorNilUsesHelmValues": False,
                    "podMonitorSelectorNilUsesHelmValues": False,
                    "ruleSelectorNilUsesHelmValues": False,
                    "resources": container_resources("500m", "2Gi", "2"),
                    "podMetadata": {"labels": labels},
                    # on the cluster's default StorageClass (gp3 on AWS, see ClusterAddons)
                    "storageSpec": {
                        "volumeClaimTemplate": {
                            "spec": {
                                "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "50Gi"}},
                            }
                        }
                    },
                }
            },
            "alertmanager": {
                "alertmanagerSpec": {"resources": container_resources("100m", "256Mi", "500m"), **placement}
            },
            "grafana": {
                "enabled": args.grafana.enabled,
                "fullnameOverride": "grafana",
                "admin": {
                    "existingSecret": "grafana-admin",
                    "userKey": "admin-user",
                    "passwordKey": "admin-password",
                },
                "sidecar": {
                    "dashboards": {
                        "enabled": True,
                        "label": "grafana_dashboard",
                        "searchNamespace": "ALL",
                        # a folder per ConfigMap annotation: the platform's, and one per team
                        "folderAnnotation": FOLDER_ANNOTATION,
                        "provider": {"foldersFromFilesStructure": True},
                    }
                },
                "resources": container_resources("200m", "512Mi", "1"),
                "podLabels": labels,
                **placement,
            },
            "prometheusOperator": {
                "resources": container_resources("100m", "256Mi", "500m"),
                "admissionWebhooks": {"patch": dict(placement)},
                **placement,
            },
            # the subchart's Deployment: off spot like the rest (it has no resources of its own here)
            "kube-state-metrics": dict(placement),
        }
        if args.managed_control_plane:
            # EKS runs etcd, the scheduler and the controller manager out of reach, and kube-proxy
            # serves metrics on the node's loopback: scraping them fails and their alerts fire forever
            stack_values |= {part: {"enabled": False} for part in HIDDEN_CONTROL_PLANE}
            stack_values["defaultRules"] = {"rules": {rule: False for rule in HIDDEN_CONTROL_PLANE_RULES}}
        stack = k8s.helm.v3.Release(
            f"{name}-kube-prometheus-stack",
            name="monitoring",
            chart="kube-prometheus-stack",
            version=args.prometheus.chart_version,
            repository_opts={"repo": PROMETHEUS_STACK_REPO},
            namespace=ns,
            values=stack_values,
            atomic=True,
            timeout=900,
            opts=child(self, depends_on=[admin, *board_maps]),
        )
        self.stack = stack
        k8s.helm.v3.Release(
            f"{name}-pushgateway",
            name="pushgateway",
            chart=PUSHGATEWAY_CHART.chart,
            version=PUSHGATEWAY_CHART.version,
            repository_opts={"repo": PUSHGATEWAY_CHART.repo},
            namespace=ns,
            values={
                "fullnameOverride": "pushgateway",
                "serviceMonitor": {"enabled": True, "honorLabels": True},
                "persistentVolume": {"enabled": True, "size": "2Gi"},
                "resources": container_resources("50m", "64Mi", "200m"),
                "podLabels": labels,
                **placement,
            },
            opts=child(self, depends_on=[stack]),  # its ServiceMonitor needs the operator's CRDs
        )
        rule = prometheus_rule(args.risk_tiers, ns, labels)  # the embedded Prometheus loads the same
        k8s.apiextensions.CustomResource(
            f"{name}-drift-rules",
            api_version=rule["apiVersion"],
            kind=rule["kind"],
            metadata=rule["metadata"],
            spec=rule["spec"],
            opts=child(self, depends_on=[stack]),
        )
        self.prometheus_url = args.prometheus.url or f"http://kps-prometheus.{ns}.svc.cluster.local:9090"
        self.pushgateway_url = (
            args.prometheus.pushgateway_url or f"http://pushgateway.{ns}.svc.cluster.local:9091"
        )
        self.grafana_service_url = f"http://grafana.{ns}.svc.cluster.local" if args.grafana.enabled else None
        self.grafana_url = (args.grafana.url or self.grafana_service_url) if args.grafana.enabled else None
        self.register_outputs(
            {
                "prometheusUrl": self.prometheus_url,
                "pushgatewayUrl": self.pushgateway_url,
                "grafanaUrl": self.grafana_url,
                "grafanaAdminPassword": self.grafana_admin_password,
            }
        )
