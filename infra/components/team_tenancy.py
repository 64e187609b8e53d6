"""A team's namespace: quota (incl. GPUs), default limits, RBAC for its group, its job service account."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from shipyard.spec import Team
from shipyard.spec.labels import ANNOTATION_OWNERS, GPU_RESOURCE

from components.common import TEAM_SERVICE_ACCOUNT, Component, child, k8s_labels

GPU_QUOTA = f"requests.{GPU_RESOURCE}"
JOB_ROLE = "shipyard-job-runner"
# What a team's CI and training jobs do in their namespace (make train-remote: submit a Job, follow its
# pods and logs; read its ConfigMaps), and no Secrets: CI jobs run code from any branch or pull request,
# and the namespace holds the runners' tokens and the GitHub App key. `edit` would give them all.
JOB_RULES = [
    {"apiGroups": ["batch"], "resources": ["jobs"],
     "verbs": ["create", "get", "list", "watch", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["pods", "pods/log", "events", "configmaps"],
     "verbs": ["get", "list", "watch"]},
]  # fmt: skip


@dataclass(frozen=True)
class TeamTenancyArgs:
    platform: str
    team: Team
    role_arn: pulumi.Input[str] | None = None  # IRSA role of the team's jobs (AWS)


def quota_hard(team: Team) -> dict[str, str]:
    q = team.quota
    return {
        "requests.cpu": q.cpu,
        "limits.cpu": q.cpu,
        "requests.memory": q.memory,
        "limits.memory": q.memory,
        GPU_QUOTA: str(q.gpus),
    }


class TeamTenancy(Component):
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: TeamTenancyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:TeamTenancy", name, opts)
        team = args.team.name
        labels = k8s_labels(args.platform, "tenancy", team)
        meta = lambda n: {"name": n, "namespace": team, "labels": labels}  # noqa: E731

        ns = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={
                "name": team,
                "labels": {**labels, "pod-security.kubernetes.io/enforce": "baseline"},
                "annotations": {ANNOTATION_OWNERS: ",".join(args.team.owners)},
            },
            opts=child(self),
        )
        after_ns = child(self, depends_on=[ns])
        k8s.core.v1.ResourceQuota(
            f"{name}-quota", metadata=meta("team-quota"), spec={"hard": quota_hard(args.team)}, opts=after_ns
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta("team-defaults"),
            spec={
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": "1", "memory": "2Gi"},
                        "defaultRequest": {"cpu": "250m", "memory": "512Mi"},
                        "max": {"cpu": args.team.quota.cpu, "memory": args.team.quota.memory},
                    }
                ]
            },
            opts=after_ns,
        )
        annotations = {"eks.amazonaws.com/role-arn": args.role_arn} if args.role_arn is not None else {}
        k8s.core.v1.ServiceAccount(
            f"{name}-runner",
            metadata={**meta(TEAM_SERVICE_ACCOUNT), "annotations": annotations},
            opts=after_ns,
        )
        if args.team.group:  # the team's people: `edit` in their namespace
            k8s.rbac.v1.RoleBinding(
                f"{name}-edit",
                metadata=meta("team-edit"),
                role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
                subjects=[
                    {"kind": "Group", "name": args.team.group, "apiGroup": "rbac.authorization.k8s.io"}
                ],
                opts=after_ns,
            )
        role = k8s.rbac.v1.Role(f"{name}-job-role", metadata=meta(JOB_ROLE), rules=JOB_RULES, opts=after_ns)
        k8s.rbac.v1.RoleBinding(
            f"{name}-jobs",
            metadata=meta(JOB_ROLE),
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": JOB_ROLE},
            subjects=[{"kind": "ServiceAccount", "name": TEAM_SERVICE_ACCOUNT, "namespace": team}],
            opts=child(self, depends_on=[ns, role]),
        )
        self.namespace = ns.metadata.name
        self.register_outputs({"namespace": self.namespace, "quota": quota_hard(args.team)})
