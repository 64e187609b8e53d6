"""Shipyard's mandatory infra rules, as plain functions over a resource's type and inputs.

Each ``check_*`` takes ``(resource_type, props)`` and returns violation messages (empty: compliant),
so the same code runs in the Pulumi policy pack (``__main__.py``) and in the unit tests. ``props``
are the resource's inputs with camelCase keys, as the engine hands them to an analyzer. Values that
Pulumi marks secret may arrive wrapped (``{SECRET_SIG: ..., "value": ...}``); both forms are handled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from shipyard.spec.labels import (
    ANNOTATION_AUTH,
    COST_LABELS,
    COST_TAGS,
    DEV_STACK,
    GPU_TAINT_KEY,
    LABEL_GPU_TYPE,
)

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
AUTH_ANNOTATION = ANNOTATION_AUTH  # a LoadBalancer Service must name the auth in front of it
AUTH_KINDS = {"basic", "oidc", "oauth2-proxy", "mtls"}
MIN_BACKUP_DAYS = 7

# AWS resource types that accept tags (every one of them must carry the cost tags).
TAGGABLE_AWS = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:eks/accessEntry:AccessEntry",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:kms/key:Key",
        "aws:rds/instance:Instance",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:ecr/repository:Repository",
    }
)
WORKLOADS = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
# Where each Helm chart Shipyard installs takes the resources of the workloads it runs. A chart not
# listed is a violation, so a new chart cannot slip past this rule. Not covered: containers of
# subcharts Shipyard leaves at their defaults (kube-prometheus-stack's kube-state-metrics and
# node-exporter, the device plugin's node-feature-discovery when GPU feature discovery is on).
CHART_RESOURCES: dict[str, tuple[tuple[str | int, ...], ...]] = {
    "kube-prometheus-stack": (
        ("prometheus", "prometheusSpec", "resources"),
        ("alertmanager", "alertmanagerSpec", "resources"),
        ("grafana", "resources"),
        ("prometheusOperator", "resources"),
    ),
    "prometheus-pushgateway": (("resources",),),
    "label-studio": (("app", "resources"), ("rqworker", "resources")),
    "cluster-autoscaler": (("resources",),),
    "aws-load-balancer-controller": (("resources",),),
    "nvidia-device-plugin": (("resources",),),
    "dcgm-exporter": (("resources",),),
    "gha-runner-scale-set-controller": (("resources",),),
    "gha-runner-scale-set": (
        ("template", "spec", "containers", 0, "resources"),  # the runner (jobs run in it)
        ("listenerTemplate", "spec", "containers", 0, "resources"),
    ),
    "gitlab-runner": (("resources",),),  # the manager; job pods: cpu/memory_* in runners.config
}
# Inputs the provider itself stores as secrets, and resources that exist to hold secrets.
SECRET_FIELDS = {
    "aws:rds/instance:Instance": {"password"},
    "aws:rds/cluster:Cluster": {"masterPassword"},
    # the registry login the build pushes with (infra/components/images.py: ECR's short-lived token)
    "docker-build:index:Image": {"registries[0].password"},
}
SECRET_HOLDERS = {"kubernetes:core/v1:Secret"}
SECRETISH_KEY = re.compile(r"(password|passwd|secret|token|api[-_]?key|private[-_]?key|access[-_]?key)", re.I)
NOT_SECRET_KEYS = {"httpTokens", "httpPutResponseHopLimit"}  # EC2 metadata settings, not tokens
# Helm values that name an existing Secret (the chart reads the credentials from it): a plain string
# there is a Secret's name, never the secret (ARC's pre-defined githubConfigSecret, gitlab-runner's
# runners.secret). Only a Kubernetes object name passes; a map under githubConfigSecret would hold
# the credentials themselves, and its fields (github_token, ...) are checked as usual.
SECRET_NAME_VALUES = {HELM_RELEASE: {"values.githubConfigSecret", "values.runners.secret"}}
K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")
REFERENCE_KEY = re.compile(r"(name|key|ref|existingsecret|file|path)$", re.I)  # names a secret, holds none
AWS_KEY_ID = re.compile(r"\bAKIA[0-9A-Z]{16}\b")
URI_PASSWORD = re.compile(r"://[^/\s:@]+:[^@\s/]+@")


def unwrap(value: Any) -> Any:
    if isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG:
        return unwrap(value.get("value"))
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def _get(props: Mapping[str, Any], *path: str | int) -> Any:
    value: Any = props
    for part in path:
        value = unwrap(value)
        if isinstance(part, int):  # a list item (a pod template's containers)
            if not isinstance(value, list) or part >= len(value):
                return None
            value = value[part]
            continue
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return unwrap(value)


def stack_of(urn: str) -> str:
    """urn:pulumi:STACK::project::type::name -> STACK."""
    return urn.split("::")[0].rsplit(":", 1)[-1] if urn.startswith("urn:pulumi:") else ""


# --- per-resource rules ---------------------------------------------------------------------


def check_rds(resource_type: str, props: Mapping[str, Any], stack: str = "") -> list[str]:
    if resource_type not in {"aws:rds/instance:Instance", "aws:rds/cluster:Cluster"}:
        return []
    problems = []
    if _get(props, "storageEncrypted") is not True:
        problems.append("storageEncrypted must be true")
    if _get(props, "publiclyAccessible") is True:
        problems.append("publiclyAccessible must be false")
    if (_get(props, "backupRetentionPeriod") or 0) < MIN_BACKUP_DAYS:
        problems.append(f"backupRetentionPeriod must be at least {MIN_BACKUP_DAYS} days")
    if not DEV_STACK.search(stack):
        if _get(props, "deletionProtection") is not True:
            problems.append("deletionProtection must be true outside dev stacks")
        if _get(props, "skipFinalSnapshot") is True:
            problems.append("skipFinalSnapshot must be false outside dev stacks")
    return problems


def check_gpu_node_group(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if resource_type != "aws:eks/nodeGroup:NodeGroup":
        return []
    ami = str(_get(props, "amiType") or "")
    types = [str(unwrap(t)) for t in _get(props, "instanceTypes") or []]
    labels = _get(props, "labels") or {}
    gpu = "NVIDIA" in ami or "GPU" in ami or LABEL_GPU_TYPE in labels
    gpu = gpu or any(re.match(r"^(g\d|p\d|gr\d)", t) for t in types)
    if not gpu:
        return []
    taints = [unwrap(t) for t in _get(props, "taints") or []]
    if not any(
        t.get("key") == GPU_TAINT_KEY and t.get("effect") in {"NO_SCHEDULE", "NoSchedule"} for t in taints
    ):
        return [f"GPU node group needs the taint {GPU_TAINT_KEY}:NoSchedule (keeps CPU pods off GPU nodes)"]
    return []


def _containers(resource_type: str, props: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    path = WORKLOADS.get(resource_type)
    if path is None:
        return
    pod = _get(props, *path) or {}
    for field in ("initContainers", "containers"):
        for container in pod.get(field) or []:
            yield unwrap(container)


def _missing_resources(res: Mapping[str, Any]) -> Iterator[str]:
    for kind in ("requests", "limits"):
        have = unwrap(res.get(kind)) or {}
        missing = [r for r in ("cpu", "memory") if r not in have]
        if missing:
            yield f"no {kind} for {', '.join(missing)}"


def check_chart_resources(props: Mapping[str, Any]) -> list[str]:
    chart = (unwrap(props.get("chart")) or "").rsplit("/", 1)[-1]  # oci://host/path/CHART -> CHART
    paths = CHART_RESOURCES.get(chart)
    if paths is None:
        return [f"Helm chart {chart!r}: where its containers take resources is not known (CHART_RESOURCES)"]
    values = unwrap(props.get("values")) or {}
    return [
        f"Helm chart {chart!r}: values.{'.'.join(map(str, path))} has {gap}"
        for path in paths
        for gap in _missing_resources(unwrap(_get(values, *path)) or {})
    ]


def check_container_resources(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if resource_type == HELM_RELEASE:
        return check_chart_resources(props)
    problems = []
    for c in _containers(resource_type, props):
        res = unwrap(c.get("resources")) or {}
        for kind in ("requests", "limits"):
            have = unwrap(res.get(kind)) or {}
            missing = [r for r in ("cpu", "memory") if r not in have]
            if missing:
                problems.append(f"container {c.get('name')!r} has no {kind} for {', '.join(missing)}")
    return problems


def check_load_balancer_auth(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if resource_type != "kubernetes:core/v1:Service" or _get(props, "spec", "type") != "LoadBalancer":
        return []
    annotations = _get(props, "metadata", "annotations") or {}
    if unwrap(annotations.get(AUTH_ANNOTATION)) in AUTH_KINDS:
        return []
    return [
        f"LoadBalancer Service without authentication in front: put it behind an authenticating proxy and "
        f"annotate {AUTH_ANNOTATION} with one of {sorted(AUTH_KINDS)}, or use a ClusterIP Service"
    ]


def check_cost_tags(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if resource_type in TAGGABLE_AWS:
        tags = _get(props, "tags") or {}
        missing = [t for t in COST_TAGS if not unwrap(tags.get(t))]
        return [f"missing cost tags: {', '.join(missing)}"] if missing else []
    if resource_type.startswith("kubernetes:") and not resource_type.startswith(
        ("kubernetes:helm.sh", "pulumi:")
    ):
        labels = _get(props, "metadata", "labels") or {}
        missing = [t for t in COST_LABELS if not unwrap(labels.get(t))]
        return [f"missing cost labels: {', '.join(missing)}"] if missing else []
    return []


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any, bool]]:
    """(path, key, value, secret) for every mapping entry and list item below ``value``."""
    if is_secret(value):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield f"{path}.{key}".lstrip("."), str(key), item, is_secret(item)
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield f"{path}[{i}]", "", item, is_secret(item)
            yield from _walk(item, f"{path}[{i}]")


def check_plaintext_secrets(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if resource_type in SECRET_HOLDERS or resource_type.startswith("random:"):
        return []
    allowed = SECRET_FIELDS.get(resource_type, set())
    problems = []
    for path, key, value, secret in _walk(props):
        if secret or path in allowed:
            continue
        if (
            isinstance(value, Mapping)
            and "value" in value
            and SECRETISH_KEY.search(str(value.get("name", "")))
        ):
            if isinstance(value.get("value"), str) and value["value"] and not is_secret(value["value"]):
                problems.append(
                    f"{path}: env {value['name']} holds a literal value; use valueFrom.secretKeyRef"
                )
            continue
        if not isinstance(value, str) or not value:
            continue
        if path in SECRET_NAME_VALUES.get(resource_type, ()) and K8S_NAME.match(value):
            continue
        if SECRETISH_KEY.search(key) and not REFERENCE_KEY.search(key) and key not in NOT_SECRET_KEYS:
            problems.append(f"{path}: looks like a plaintext secret; keep it in a Secret and reference it")
        elif AWS_KEY_ID.search(value):
            problems.append(f"{path}: contains an AWS access key id; use IRSA or a Secret")
        elif URI_PASSWORD.search(value):
            problems.append(f"{path}: a URI with an embedded password; keep it in a Secret")
    return problems


# --- stack rule: a bucket's settings live in sibling resources --------------------------------


def check_buckets(resources: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Every bucket is versioned, encrypted and has all four public-access blocks on.

    ``resources`` are (type, props) pairs; the sibling resources name the bucket in ``bucket``,
    which must equal the bucket's own ``bucket`` property.
    """
    resources = list(resources)
    by_type: dict[str, dict[str, Mapping[str, Any]]] = {}
    for typ, props in resources:
        by_type.setdefault(typ, {})[str(_get(props, "bucket"))] = props
    problems = []
    for name in by_type.get("aws:s3/bucket:Bucket", {}):
        versioning = by_type.get("aws:s3/bucketVersioning:BucketVersioning", {}).get(name)
        if _get(versioning or {}, "versioningConfiguration", "status") != "Enabled":
            problems.append(f"bucket {name}: versioning is not enabled")
        sse = by_type.get(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", {}
        ).get(name)
        algorithms = [
            _get(unwrap(r), "applyServerSideEncryptionByDefault", "sseAlgorithm")
            for r in _get(sse or {}, "rules") or []
        ]
        if not any(a in {"aws:kms", "AES256", "aws:kms:dsse"} for a in algorithms):
            problems.append(f"bucket {name}: no server-side encryption configuration")
        block = by_type.get("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", {}).get(name) or {}
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        off = [f for f in flags if _get(block, f) is not True]
        if off:
            problems.append(f"bucket {name}: public access not blocked ({', '.join(off)})")
    return problems


RESOURCE_RULES = {
    "rds-encrypted-private-backed-up": check_rds,
    "gpu-node-groups-tainted": check_gpu_node_group,
    "containers-have-requests-and-limits": check_container_resources,
    "no-unauthenticated-load-balancer": check_load_balancer_auth,
    "cost-tags": check_cost_tags,
    "no-plaintext-secrets": check_plaintext_secrets,
}
