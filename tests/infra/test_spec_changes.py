"""A spec change changes the graph as expected: the AWS example plus a second GPU pool and a new team,
and the AWS example without the portal (all runs under Pulumi mocks; no engine can run here)."""

from __future__ import annotations


def test_second_gpu_pool_and_new_team(aws_graph, variant_graph):
    before, after = aws_graph.counts(), variant_graph.counts()
    diff = {t: after[t] - before[t] for t in set(before) | set(after) if after[t] != before[t]}
    assert diff == {
        # the new pool
        "shipyard:infra:NodePool": 1,
        "aws:eks/nodeGroup:NodeGroup": 1,
        "aws:ec2/launchTemplate:LaunchTemplate": 1,
        # node template: pool, GPU-type and accelerator labels, GPU taint, GPU count
        "aws:autoscaling/tag:Tag": 5,
        # the new team: namespace, quota, limits, runner account, the group's and the jobs' bindings, the
        # jobs' Role, the endpoints its Jobs read; its DVC bucket and IAM role
        "shipyard:infra:TeamTenancy": 1,
        "kubernetes:core/v1:Namespace": 1,
        "kubernetes:core/v1:ResourceQuota": 1,
        "kubernetes:core/v1:LimitRange": 1,
        "kubernetes:core/v1:ServiceAccount": 1,
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 2,
        "kubernetes:rbac.authorization.k8s.io/v1:Role": 1,
        "shipyard:infra:SecureBucket": 1,
        "aws:s3/bucket:Bucket": 1,
        "aws:s3/bucketVersioning:BucketVersioning": 1,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
        "aws:s3/bucketPolicy:BucketPolicy": 1,
        "aws:iam/role:Role": 1,
        "aws:iam/rolePolicy:RolePolicy": 1,
        "kubernetes:core/v1:ConfigMap": 2,  # its Grafana folder's dashboards, shipyard-endpoints
    }
    (h100,) = [
        r.plain
        for r in variant_graph.of("aws:eks/nodeGroup:NodeGroup")
        if r.plain["nodeGroupNamePrefix"] == "gpu-h100-"
    ]
    assert h100["capacityType"] == "SPOT" and h100["amiType"] == "AL2023_x86_64_NVIDIA"
    assert {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"} in h100["taints"]
    assert h100["labels"]["shipyard.io/gpu-type"] == "nvidia-h100"
    assert h100["tags"]["shipyard:team"] == "vision"  # a pool reserved for one team is costed to it
    quota = [
        r.plain
        for r in variant_graph.of("kubernetes:core/v1:ResourceQuota")
        if r.plain["metadata"]["namespace"] == "vision"
    ]
    assert quota[0]["spec"]["hard"]["requests.nvidia.com/gpu"] == "8"
    assert variant_graph.exports["dvcRemotes"]["vision"] == "s3://acme-ml-dvc-vision"
    assert len(variant_graph.of("kubernetes:helm.sh/v3:Release")) == len(
        aws_graph.of("kubernetes:helm.sh/v3:Release")
    )


PORTAL_RESOURCES = {
    "shipyard:infra:Portal": 1,
    "random:index/randomPassword:RandomPassword": 1,  # its MLflow account's password
    "kubernetes:core/v1:Secret": 1,
    "kubernetes:core/v1:ConfigMap": 1,  # the spec it reads
    "kubernetes:apps/v1:Deployment": 1,
    "kubernetes:core/v1:Service": 1,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": 1,
    "kubernetes:networking.k8s.io/v1:Ingress": 1,  # services.portal.url
}


def test_switching_the_portal_off_removes_exactly_its_resources(aws_graph, aws_no_portal_graph):
    with_portal, without = aws_graph.counts(), aws_no_portal_graph.counts()
    diff = {
        t: with_portal[t] - without[t]
        for t in set(with_portal) | set(without)
        if with_portal[t] != without[t]
    }
    assert diff == PORTAL_RESOURCES
    names = lambda g: {(r.type, r.name) for r in g.resources}  # noqa: E731
    removed = names(aws_graph) - names(aws_no_portal_graph)
    assert not names(aws_no_portal_graph) - names(aws_graph)
    assert {n for _, n in removed} == {
        "portal", "portal-mlflow-password", "portal-secret", "portal-spec", "portal-deployment",
        "portal-svc", "portal-netpol", "portal-ingress",
    }  # fmt: skip
    assert aws_graph.exports["endpoints"]["portal"] == "https://portal.ml.acme.example"
    assert "portal" not in aws_no_portal_graph.exports["endpoints"]
    # the rest of the platform is unchanged, input for input
    kept = {(r.type, r.name): r.plain for r in aws_no_portal_graph.resources}
    changed = [
        k for k, v in kept.items() if k[0] != "pulumi:providers:kubernetes" and _inputs(aws_graph, k) != v
    ]
    assert changed == [(t, n) for t, n in changed if n.endswith("-spec")]


def _inputs(graph, key):
    (found,) = [r.plain for r in graph.resources if (r.type, r.name) == key]
    return found
