"""The EKS managed addons, pinned to the default version EKS names for the cluster's Kubernetes version
(so an upgrade of the spec's version upgrades them too): vpc-cni with network policy enforcement on
(NetworkPolicies are ignored without it), coredns, kube-proxy and the EBS CSI driver (IRSA); and a
default, encrypted gp3 StorageClass (EKS >= 1.30 creates no default StorageClass)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.common import Component, aws_tags, child, k8s_labels
from components.irsa import Irsa, service_account_role

EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"


@dataclass(frozen=True)
class ClusterAddonsArgs:
    platform: str
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    irsa: Irsa
    dev: bool = False  # dev stacks delete volumes with their claims (nothing orphaned on destroy)


# addon name -> its configuration (JSON schema: `aws eks describe-addon-configuration`)
MANAGED_ADDONS: dict[str, dict[str, object]] = {
    "vpc-cni": {"enableNetworkPolicy": "true"},
    "coredns": {},
    "kube-proxy": {},
}


class ClusterAddons(Component):
    storage_class: str

    def __init__(
        self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shipyard:infra:ClusterAddons", name, opts)
        tags = aws_tags(args.platform, "cluster")
        role = service_account_role(
            f"{name}-ebs-csi",
            args.irsa,
            namespace="kube-system",
            service_account="ebs-csi-controller-sa",
            policy=None,
            tags=tags,
            parent=self,
            managed_policy_arn=EBS_CSI_POLICY,
        )

        def version(addon: str) -> pulumi.Output[str]:
            return aws.eks.get_addon_version_output(
                addon_name=addon, kubernetes_version=args.kubernetes_version, most_recent=False
            ).version

        self.addons: dict[str, aws.eks.Addon] = {}
        for addon_name, config in MANAGED_ADDONS.items():
            # EKS bootstraps unmanaged copies of these three: the managed addon takes them over
            self.addons[addon_name] = aws.eks.Addon(
                f"{name}-{addon_name}",
                cluster_name=args.cluster_name,
                addon_name=addon_name,
                addon_version=version(addon_name),
                configuration_values=json.dumps(config) if config else None,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                tags=tags,
                opts=child(self),
            )
        addon = aws.eks.Addon(
            f"{name}-ebs-csi",
            cluster_name=args.cluster_name,
            addon_name="aws-ebs-csi-driver",
            addon_version=version("aws-ebs-csi-driver"),
            service_account_role_arn=role.arn,
            resolve_conflicts_on_update="OVERWRITE",
            tags=tags,
            opts=child(self),
        )
        self.addons["aws-ebs-csi-driver"] = addon
        self.storage_class = "gp3"
        k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata={
                "name": self.storage_class,
                "labels": k8s_labels(args.platform, "cluster"),
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true"},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            # Retain keeps a volume when its claim goes (a deleted Prometheus keeps its data); on dev stacks
            # that would orphan billed volumes at every destroy
            reclaim_policy="Delete" if args.dev else "Retain",
            opts=child(self, depends_on=[addon]),
        )
        self.register_outputs({"storageClass": self.storage_class, "ebsCsiRoleArn": role.arn})
