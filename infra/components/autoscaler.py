"""The Kubernetes cluster autoscaler (pinned chart, IRSA) that grows and shrinks the node groups.

Why the cluster autoscaler and not Karpenter: the spec's pools map one-to-one onto EKS managed node
groups (AMI, taints, labels, spot/on-demand, min/max), which the autoscaler drives as they are, so a
pool means the same thing with or without it; Karpenter would replace the node groups with its own
NodePools, a second model of the same pools. Scaling a tainted GPU group from zero works because
each group's Auto Scaling group carries node-template tags (labels, taints, GPUs: node_pool.py): with
no node to look at, the autoscaler reads them to know a pending GPU Job would fit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.common import (
    CLUSTER_AUTOSCALER_CHART,
    ON_DEMAND,
    Component,
    aws_tags,
    child,
    container_resources,
    k8s_labels,
)
from components.irsa import Irsa, service_account_role

SERVICE_ACCOUNT = "cluster-autoscaler"
# the autoscaler's minor version must match the cluster's (upstream support policy)
IMAGE_TAGS = {"1.32": "v1.32.7", "1.33": "v1.33.6", "1.34": "v1.34.5", "1.35": "v1.35.2"}


@dataclass(frozen=True)
class AutoscalerArgs:
    platform: str
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    region: str
    irsa: Irsa
    tolerations: tuple[dict[str, str], ...] = ()  # the platform pool's taint (PLATFORM_TOLERATION)


def policy(cluster_name: str) -> str:
    """Read everything it must; resize and terminate only groups tagged as this cluster's."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                        "eks:DescribeNodegroup",
                    ],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:SetDesiredCapacity",
                        "autoscaling:TerminateInstanceInAutoScalingGroup",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}
                    },
                },
            ],
        }
    )


class ClusterAutoscaler(Component):
    def __init__(self, name: str, args: AutoscalerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:ClusterAutoscaler", name, opts)
        role = service_account_role(
            f"{name}-irsa",
            args.irsa,
            namespace="kube-system",
            service_account=SERVICE_ACCOUNT,
            policy=pulumi.Output.from_input(args.cluster_name).apply(policy),
            tags=aws_tags(args.platform, "autoscaler"),
            parent=self,
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="cluster-autoscaler",
            chart=CLUSTER_AUTOSCALER_CHART.chart,
            version=CLUSTER_AUTOSCALER_CHART.version,
            repository_opts={"repo": CLUSTER_AUTOSCALER_CHART.repo},
            namespace="kube-system",
            values={
                "cloudProvider": "aws",
                "awsRegion": args.region,
                "autoDiscovery": {"clusterName": args.cluster_name},
                "image": {"tag": IMAGE_TAGS[args.kubernetes_version]},
                "rbac": {
                    "serviceAccount": {
                        "create": True,
                        "name": SERVICE_ACCOUNT,
                        "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                    }
                },
                "extraArgs": {
                    "balance-similar-node-groups": True,
                    "expander": "least-waste",
                    "skip-nodes-with-system-pods": False,
                },
                # never on spot: it must outlive the nodes it removes
                "nodeSelector": ON_DEMAND,
                "tolerations": list(args.tolerations),
                "resources": container_resources("100m", "300Mi", "500m"),
                "podLabels": k8s_labels(args.platform, "autoscaler"),
            },
            opts=child(self),
        )
        self.register_outputs({"roleArn": role.arn})
