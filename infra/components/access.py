"""Who may use the EKS cluster besides the identity that created it: EKS access entries.

Principals in ``platform.cluster.access`` (the CI/deploy role, platform admins) get a cluster-wide
access policy; each team's ``cluster_principals`` join the team's Kubernetes group, which
TeamTenancy binds to ``edit`` in the team's namespace only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from shipyard.spec import PlatformSpec

from components.common import Component, aws_tags, child

POLICIES = {
    "admin": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    "view": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
}


@dataclass(frozen=True)
class ClusterAccessArgs:
    spec: PlatformSpec
    cluster_name: pulumi.Input[str]


class ClusterAccess(Component):
    def __init__(
        self, name: str, args: ClusterAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shipyard:infra:ClusterAccess", name, opts)
        platform = args.spec.platform.name
        for i, entry in enumerate(args.spec.platform.cluster.access):
            created = aws.eks.AccessEntry(
                f"{name}-{i}",
                cluster_name=args.cluster_name,
                principal_arn=entry.principal_arn,
                type="STANDARD",
                tags=aws_tags(platform, "access"),
                opts=child(self),
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-{i}",
                cluster_name=args.cluster_name,
                principal_arn=entry.principal_arn,
                policy_arn=POLICIES[entry.access],
                access_scope={"type": "cluster"},
                opts=child(self, depends_on=[created]),
            )
        for team in args.spec.teams:
            for i, principal in enumerate(team.cluster_principals):
                aws.eks.AccessEntry(
                    f"{name}-{team.name}-{i}",
                    cluster_name=args.cluster_name,
                    principal_arn=principal,
                    type="STANDARD",
                    kubernetes_groups=[str(team.group)],  # the spec requires a group with principals
                    tags=aws_tags(platform, "access", team.name),
                    opts=child(self),
                )
        self.register_outputs({})
