"""How services with a url are reached from outside the cluster: an Ingress with TLS.

On EKS the AWS Load Balancer Controller (pinned chart, IRSA with the controller's own IAM policy,
vendored from its v3.5.0 release) turns Ingresses into one shared ALB (``group.name``), terminating TLS
with the spec's ACM certificate. On an existing cluster the spec names the cluster's ingress class and a
cert-manager ClusterIssuer that issues the certificate into the Ingress's TLS secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
from shipyard.spec.platform_info import IngressSpec

from components.common import (
    LOAD_BALANCER_CONTROLLER_CHART,
    ON_DEMAND,
    Component,
    aws_tags,
    child,
    container_resources,
    k8s_labels,
)
from components.irsa import Irsa, service_account_role

SERVICE_ACCOUNT = "aws-load-balancer-controller"
IAM_POLICY = Path(__file__).with_name("load_balancer_controller_iam_policy.json")
ALB = "alb.ingress.kubernetes.io/"


@dataclass(frozen=True)
class IngressSettings:
    """The class and annotations every Shipyard Ingress gets, and whether TLS needs a secret."""

    class_name: str
    annotations: dict[str, str] = field(default_factory=dict)
    tls_secret: bool = True  # cert-manager fills it; the ALB uses ACM instead

    def tls(self, host: str, secret: str) -> list[dict[str, object]]:
        return [{"hosts": [host], "secretName": secret}] if self.tls_secret else [{"hosts": [host]}]

    def route(self, resource: str, metadata: dict, host: str, service: str,
              opts: pulumi.ResourceOptions) -> k8s.networking.v1.Ingress:  # fmt: skip
        """The Ingress sending every path of ``host`` to port 80 of ``service``, with TLS (the secret
        ``<service>-tls`` where cert-manager writes it)."""
        backend = {"service": {"name": service, "port": {"number": 80}}}
        return k8s.networking.v1.Ingress(
            resource,
            metadata=metadata,
            spec={
                "ingressClassName": self.class_name,
                "tls": self.tls(host, f"{service}-tls"),
                "rules": [
                    {
                        "host": host,
                        "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
                    }
                ],
            },
            opts=opts,
        )


def ingress_settings(platform: str, spec: IngressSpec, on_aws: bool) -> IngressSettings:
    if on_aws:
        return IngressSettings(
            "alb",
            {
                f"{ALB}scheme": spec.scheme,
                f"{ALB}target-type": "ip",
                f"{ALB}listen-ports": '[{"HTTPS": 443}]',
                f"{ALB}certificate-arn": spec.certificate_arn or "",
                f"{ALB}ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                f"{ALB}group.name": platform,  # one load balancer for all services
                f"{ALB}healthcheck-path": "/health",
            },
            tls_secret=False,
        )
    return IngressSettings(
        spec.class_name or "", {"cert-manager.io/cluster-issuer": spec.cluster_issuer or ""}, tls_secret=True
    )


@dataclass(frozen=True)
class LoadBalancerControllerArgs:
    platform: str
    cluster_name: pulumi.Input[str]
    region: str
    vpc_id: pulumi.Input[str]
    irsa: Irsa
    tolerations: tuple[dict[str, str], ...] = ()  # the platform pool's taint (PLATFORM_TOLERATION)


class LoadBalancerController(Component):
    def __init__(
        self, name: str, args: LoadBalancerControllerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shipyard:infra:LoadBalancerController", name, opts)
        role = service_account_role(
            f"{name}-irsa",
            args.irsa,
            namespace="kube-system",
            service_account=SERVICE_ACCOUNT,
            policy=json.dumps(json.loads(IAM_POLICY.read_text())),
            tags=aws_tags(args.platform, "ingress"),
            parent=self,
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="aws-load-balancer-controller",
            chart=LOAD_BALANCER_CONTROLLER_CHART.chart,
            version=LOAD_BALANCER_CONTROLLER_CHART.version,
            repository_opts={"repo": LOAD_BALANCER_CONTROLLER_CHART.repo},
            namespace="kube-system",
            values={
                "clusterName": args.cluster_name,
                "region": args.region,
                "vpcId": args.vpc_id,
                "replicaCount": 2,
                "serviceAccount": {
                    "create": True,
                    "name": SERVICE_ACCOUNT,
                    "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                },
                "nodeSelector": ON_DEMAND,
                "tolerations": list(args.tolerations),
                "resources": container_resources("100m", "256Mi", "500m"),
                "podLabels": k8s_labels(args.platform, "ingress"),
            },
            opts=child(self),
        )
        self.register_outputs({"roleArn": role.arn})
