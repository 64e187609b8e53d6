"""One EKS managed node group per spec node pool: GPU AMI, taints and labels, encrypted disks."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from shipyard.spec import NodePool as PoolSpec
from shipyard.spec.labels import GPU_RESOURCE, TAG_POOL, TAG_TEAM

from components.common import Component, aws_tags, child

EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}
GPU_AMI = "AL2023_x86_64_NVIDIA"
CPU_AMI = "AL2023_x86_64_STANDARD"


TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
# the label the cluster autoscaler's AWS provider reads to know a node has GPUs before the device plugin
# reports them: without it, it sees a new GPU node as unable to run the pending pod and adds another
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"


def node_labels(pool: PoolSpec) -> dict[str, str]:
    """The Kubernetes labels of a pool's nodes: the spec's, and on GPU pools the accelerator's."""
    labels = dict(pool.effective_labels)
    if pool.is_gpu:
        labels.setdefault(ACCELERATOR_LABEL, str(pool.gpu_type))
    return labels


def node_template_tags(pool: PoolSpec) -> dict[str, str]:
    """The cluster autoscaler's node-template tags for a pool's Auto Scaling group."""
    tags = {f"{TEMPLATE}/label/{k}": v for k, v in node_labels(pool).items()}
    tags |= {f"{TEMPLATE}/taint/{t.key}": f"{t.value}:{t.effect}" for t in pool.effective_taints}
    if pool.is_gpu:
        tags[f"{TEMPLATE}/resources/{GPU_RESOURCE}"] = str(pool.gpus_per_node)
    return tags


@dataclass(frozen=True)
class NodePoolArgs:
    platform: str
    cluster_name: pulumi.Input[str]
    node_role_arn: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    pool: PoolSpec
    kubernetes_version: str | None = None  # follows the cluster on upgrades


class NodePool(Component):
    node_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:NodePool", name, opts)
        pool = args.pool
        tags = {**aws_tags(args.platform, "node-pool"), TAG_POOL: pool.name}
        if len(pool.teams) == 1:
            tags[TAG_TEAM] = pool.teams[0]

        template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": pool.disk_gb,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 2},
            tag_specifications=[
                {"resource_type": "instance", "tags": tags},
                {"resource_type": "volume", "tags": tags},
            ],
            tags=tags,
            opts=child(self),
        )
        group = aws.eks.NodeGroup(
            f"{name}-ng",
            cluster_name=args.cluster_name,
            # a prefix, not a name: a change EKS cannot make in place (instance types, AMI, capacity)
            # replaces the group, and Pulumi creates the new one before deleting the old, so the two
            # must not share a name
            node_group_name_prefix=f"{pool.name}-",
            node_role_arn=args.node_role_arn,
            version=args.kubernetes_version,
            subnet_ids=args.subnet_ids,
            instance_types=pool.instance_types,
            ami_type=GPU_AMI if pool.is_gpu else CPU_AMI,
            capacity_type="SPOT" if pool.capacity == "spot" else "ON_DEMAND",
            scaling_config={
                "min_size": pool.min_size,
                "max_size": pool.max_size,
                "desired_size": pool.effective_desired_size,
            },
            labels=node_labels(pool),
            taints=[
                {"key": t.key, "value": t.value, "effect": EFFECTS[t.effect]} for t in pool.effective_taints
            ],
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            update_config={"max_unavailable": 1},
            tags=tags,
            # the cluster autoscaler (autoscaler.py) owns the desired size once the pool exists
            opts=child(self, ignore_changes=["scalingConfig.desiredSize"]),
        )
        # Scale from zero: with no node to inspect, the cluster autoscaler learns what a new node of
        # this group would offer (labels, taints, GPUs) from these tags on its Auto Scaling group.
        asg = group.resources.apply(lambda r: r[0].autoscaling_groups[0].name)
        for i, (key, value) in enumerate(sorted(node_template_tags(pool).items())):
            aws.autoscaling.Tag(
                f"{name}-template-{i}",
                autoscaling_group_name=asg,
                tag={"key": key, "value": value, "propagate_at_launch": False},
                opts=child(self),
            )
        self.node_group_name = group.node_group_name
        self.register_outputs({"nodeGroupName": self.node_group_name, "gpu": pool.is_gpu})
