"""The cloud label contract: every tag, Kubernetes label, taint and stack-name pattern Shipyard sets
or reads on a cluster. Infra writes them, the policy pack checks them and costs/actuals.py groups the
bill by them, so they live here once."""

from __future__ import annotations

import re

# AWS cost-allocation tags (activate them in the Billing console, see docs/platform-engineer.md).
TAG_PLATFORM = "shipyard:platform"
TAG_TEAM = "shipyard:team"
TAG_COMPONENT = "shipyard:component"
TAG_POOL = "shipyard:pool"
COST_TAGS = (TAG_PLATFORM, TAG_COMPONENT)  # on every taggable resource (policy: cost-tags)

# Kubernetes label keys cannot hold ':', so the same facts use the shipyard.io/ prefix.
LABEL_PLATFORM = "shipyard.io/platform"
LABEL_TEAM = "shipyard.io/team"
LABEL_COMPONENT = "shipyard.io/component"
LABEL_PROJECT = "shipyard.io/project"
LABEL_POOL = "shipyard.io/pool"  # on every node of a spec node pool; jobs select pools by it
LABEL_GPU_TYPE = "shipyard.io/gpu-type"  # on GPU nodes: the spec's gpu_type
COST_LABELS = (LABEL_PLATFORM, LABEL_COMPONENT)
ANNOTATION_AUTH = "shipyard.io/auth"  # a Service or Ingress reachable from outside names its auth
ANNOTATION_OWNERS = "shipyard.io/owners"

# GPUs: the taint GPU pools carry, the extended resource jobs request, and the label the NVIDIA
# GPU feature discovery / GPU Operator puts on GPU nodes of clusters Shipyard did not build.
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"

# Stacks whose name holds a 'dev' word (acme-dev, dev.eu) may drop data on destroy (no final snapshot,
# no deletion protection). Every other stack keeps it.
DEV_STACK = re.compile(r"(^|[-_.])dev($|[-_.])")


def is_dev_stack(stack: str) -> bool:
    return bool(DEV_STACK.search(stack))


def aws_tags(platform: str, component: str, team: str | None = None) -> dict[str, str]:
    tags = {TAG_PLATFORM: platform, TAG_COMPONENT: component}
    if team:
        tags[TAG_TEAM] = team
    return tags


def k8s_labels(platform: str, component: str, team: str | None = None, **extra: str) -> dict[str, str]:
    labels = {LABEL_PLATFORM: platform, LABEL_COMPONENT: component, **extra}
    if team:
        labels[LABEL_TEAM] = team
    return labels
