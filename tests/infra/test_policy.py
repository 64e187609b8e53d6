"""The policy pack's rules over both example stacks (resources captured by Pulumi mocks: no engine can
run here, so the pack's policy objects are called directly with the args the engine would send),
and each rule on a passing and a failing resource."""

from __future__ import annotations

import copy

import pytest
from pulumi_policy import PolicyResource, ResourceValidationArgs, StackValidationArgs


def _urn(stack: str, typ: str, name: str) -> str:
    return f"urn:pulumi:{stack}::shipyard::{typ}::{name}"


def run_resource_policies(
    policies, typ: str, props: dict, stack: str = "aws-example", name: str = "r"
) -> list[str]:
    violations: list[str] = []
    for policy in policies.RESOURCE_POLICIES:
        args = ResourceValidationArgs(typ, props, _urn(stack, typ, name), name, None, None)
        policy.validate(args, lambda message, urn=None, p=policy: violations.append(f"{p.name}: {message}"))
    return violations


def run_stack_policies(policies, resources: list[tuple[str, dict]], stack: str = "aws-example") -> list[str]:
    res = [
        PolicyResource(t, p, _urn(stack, t, f"r{i}"), f"r{i}", None, None, None, [], {})
        for i, (t, p) in enumerate(resources)
    ]
    violations: list[str] = []
    for policy in policies.STACK_POLICIES:
        policy.validate(StackValidationArgs(res), lambda message, urn=None: violations.append(message))
    return violations


@pytest.mark.parametrize(
    "graph_name", ["aws_graph", "k8s_graph", "github_runners_graph", "gitlab_runners_graph"]
)
def test_example_stacks_have_no_violations(graph_name, request, policies):
    """Engine-shaped inputs: pulumi-policy hands the rules plain values (secrets unwrapped), so a
    secret only passes no-plaintext-secrets where it sits in a Secret or a provider-encrypted field."""
    graph = request.getfixturevalue(graph_name)
    checked = [r for r in graph.resources if not r.type.startswith("shipyard:")]
    violations = [
        v for r in checked for v in run_resource_policies(policies, r.type, r.plain, graph.stack, r.name)
    ]
    violations += run_stack_policies(policies, [(r.type, r.plain) for r in checked], graph.stack)
    assert violations == []
    assert len(policies.POLICIES) == 7


# --- each rule: a passing and a failing resource ---------------------------------------------------

RDS = "aws:rds/instance:Instance"
GOOD_RDS = {
    "storageEncrypted": True,
    "publiclyAccessible": False,
    "backupRetentionPeriod": 7,
    "deletionProtection": True,
    "skipFinalSnapshot": False,
    "tags": {"shipyard:platform": "p", "shipyard:component": "mlflow"},
}
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
GOOD_GPU_GROUP = {
    "amiType": "AL2023_x86_64_NVIDIA",
    "instanceTypes": ["g5.xlarge"],
    "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
    "tags": {"shipyard:platform": "p", "shipyard:component": "node-pool"},
}
LABELS = {"shipyard.io/platform": "p", "shipyard.io/component": "x"}
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _deployment(resources=None, env=None) -> dict:
    container = {"name": "app", "image": "app:1", "env": env or []}
    if resources is not None:
        container["resources"] = resources
    return {
        "metadata": {"name": "app", "labels": LABELS},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }


BOUNDED = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
BOUNDED_POD = {"resources": BOUNDED}


def _service(annotations=None, kind="LoadBalancer") -> dict:
    return {
        "metadata": {"name": "s", "labels": LABELS, "annotations": annotations or {}},
        "spec": {"type": kind},
    }


CASES = [
    # (rule, type, passing props, failing props, stack)
    ("rds-encrypted-private-backed-up", RDS, GOOD_RDS, {**GOOD_RDS, "storageEncrypted": False}, "prod"),
    ("rds-encrypted-private-backed-up", RDS, GOOD_RDS, {**GOOD_RDS, "publiclyAccessible": True}, "prod"),
    ("rds-encrypted-private-backed-up", RDS, GOOD_RDS, {**GOOD_RDS, "backupRetentionPeriod": 1}, "prod"),
    (
        "rds-encrypted-private-backed-up",
        RDS,
        {**GOOD_RDS, "deletionProtection": False},
        {**GOOD_RDS, "deletionProtection": False},
        "prod",
    ),
    ("gpu-node-groups-tainted", NODE_GROUP, GOOD_GPU_GROUP, {**GOOD_GPU_GROUP, "taints": []}, "prod"),
    (
        "gpu-node-groups-tainted",
        NODE_GROUP,
        GOOD_GPU_GROUP,
        {**GOOD_GPU_GROUP, "amiType": "AL2023_x86_64_STANDARD", "taints": []},
        "prod",
    ),
    ("containers-have-requests-and-limits", DEPLOYMENT, _deployment(BOUNDED), _deployment(None), "prod"),
    (
        "containers-have-requests-and-limits",
        DEPLOYMENT,
        _deployment(BOUNDED),
        _deployment({"requests": {"cpu": "1", "memory": "1Gi"}}),
        "prod",
    ),
    (
        "no-unauthenticated-load-balancer",
        "kubernetes:core/v1:Service",
        _service({"shipyard.io/auth": "oidc"}),
        _service(),
        "prod",
    ),
    (
        "cost-tags",
        "aws:s3/bucket:Bucket",
        {"bucket": "b", "tags": {"shipyard:platform": "p", "shipyard:component": "dvc"}},
        {"bucket": "b", "tags": {"shipyard:platform": "p"}},
        "prod",
    ),
    (
        "cost-tags",
        "kubernetes:core/v1:ConfigMap",
        {"metadata": {"labels": LABELS}},
        {"metadata": {"labels": {}}},
        "prod",
    ),
    (
        "no-plaintext-secrets",
        DEPLOYMENT,
        _deployment(
            BOUNDED,
            [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
        ),
        _deployment(BOUNDED, [{"name": "DB_PASSWORD", "value": "hunter2"}]),
        "prod",
    ),
    (
        "no-plaintext-secrets",
        "kubernetes:core/v1:ConfigMap",
        {"metadata": {"labels": LABELS}, "data": {"MLFLOW_TRACKING_URI": "http://mlflow"}},
        {"metadata": {"labels": LABELS}, "data": {"DB": "postgresql://mlflow:hunter2@db:5432/mlflow"}},
        "prod",
    ),
    (
        "containers-have-requests-and-limits",
        "kubernetes:helm.sh/v3:Release",
        {"chart": "prometheus-pushgateway", "values": {"resources": BOUNDED}},
        {"chart": "prometheus-pushgateway", "values": {"resources": {"limits": BOUNDED["limits"]}}},
        "prod",
    ),
    (
        "containers-have-requests-and-limits",
        "kubernetes:helm.sh/v3:Release",
        {"chart": "label-studio", "values": {"app": BOUNDED_POD, "rqworker": BOUNDED_POD}},
        {"chart": "a-new-chart", "values": {"resources": BOUNDED}},  # not in CHART_RESOURCES: flagged
        "prod",
    ),
    (
        "no-plaintext-secrets",
        "kubernetes:helm.sh/v3:Release",
        {"values": {"s3": {"accessKeyExistingSecret": "creds"}}},
        {"values": {"s3": {"accessKey": "AKIAABCDEFGHIJKLMNOP", "secretKey": "x"}}},
        "prod",
    ),
]


@pytest.mark.parametrize("rule,typ,good,bad,stack", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_passes_good_and_flags_bad(rule, typ, good, bad, stack, policies):
    if good is bad or good == bad:  # deletion protection: allowed on a dev stack, flagged elsewhere
        assert not [v for v in run_resource_policies(policies, typ, good, "dev") if v.startswith(rule)]
    else:
        assert not [v for v in run_resource_policies(policies, typ, good, stack) if v.startswith(rule)]
    assert [v for v in run_resource_policies(policies, typ, bad, stack) if v.startswith(rule)]


def test_secret_wrapped_values_are_not_plaintext(rules):
    wrapped = {rules.SECRET_SIG_KEY: rules.SECRET_SIG, "value": "hunter2"}
    assert (
        rules.check_plaintext_secrets("kubernetes:helm.sh/v3:Release", {"values": {"password": wrapped}})
        == []
    )
    assert rules.check_plaintext_secrets("kubernetes:helm.sh/v3:Release", {"values": {"password": "hunter2"}})
    assert (
        rules.check_plaintext_secrets("kubernetes:core/v1:Secret", {"stringData": {"password": "hunter2"}})
        == []
    )


def test_bucket_stack_rule(policies, aws_graph):
    resources = [(r.type, r.plain) for r in aws_graph.resources]
    assert run_stack_policies(policies, resources) == []
    without_versioning = [(t, p) for t, p in resources if t != "aws:s3/bucketVersioning:BucketVersioning"]
    assert any("versioning" in v for v in run_stack_policies(policies, without_versioning))
    opened = copy.deepcopy(resources)
    for t, p in opened:
        if t == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
            p["restrictPublicBuckets"] = False
    assert any("public access" in v for v in run_stack_policies(policies, opened))
    unencrypted = [(t, p) for t, p in resources if "ServerSideEncryption" not in t]
    assert len([v for v in run_stack_policies(policies, unencrypted) if "encryption" in v]) == 4


def test_stack_name_from_urn(rules):
    assert rules.stack_of("urn:pulumi:dev::shipyard::aws:rds/instance:Instance::db") == "dev"
    assert rules.DEV_STACK.search("team-dev") and not rules.DEV_STACK.search("devops-prod")
