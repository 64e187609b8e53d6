"""The whole infra program, run for each example stack under Pulumi mocks (no engine can run here).

Counts and settings are derived from the example specs, so a spec edit that the program ignores fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from shipyard.platform.stack_outputs import endpoints_from_outputs
from shipyard.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
AWS_SPEC = load_spec(REPO / "examples/platform.aws.yaml")
K8S_SPEC = load_spec(REPO / "examples/platform.kubernetes.yaml")
FAKE_SECRETS = ("pg-secret", "s3-secret-Xk22", "oidc-secret-Pp09", "generated-secret-")
PINNED = re.compile(r"^\d+\.\d+\.\d+$")


def _strings(value, inside_secret=False):
    """Every string in the inputs, with whether Pulumi keeps it secret."""
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270":
            yield from _strings(value.get("value"), True)
            return
        for v in value.values():
            yield from _strings(v, inside_secret)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, inside_secret)
    elif isinstance(value, str):
        yield value, inside_secret


# --- AWS ------------------------------------------------------------------------------------------


def test_aws_graph_counts_follow_the_spec(aws_graph):
    spec, c = AWS_SPEC, aws_graph.counts()
    teams, pools = len(spec.teams), len(spec.node_pools)
    assert c["aws:eks/cluster:Cluster"] == 1
    assert c["aws:eks/nodeGroup:NodeGroup"] == pools == c["aws:ec2/launchTemplate:LaunchTemplate"]
    assert c["shipyard:infra:NodePool"] == pools
    dvc_buckets = teams if spec.services.dvc.layout == "bucket_per_team" else 1
    assert c["aws:s3/bucket:Bucket"] == dvc_buckets + 2  # + MLflow artifacts + Label Studio
    for sibling in (
        "Versioning",
        "ServerSideEncryptionConfiguration",
        "PublicAccessBlock",
        "LifecycleConfiguration",
    ):
        assert c[f"aws:s3/bucket{sibling}:Bucket{sibling}"] == c["aws:s3/bucket:Bucket"]
    assert c["aws:rds/instance:Instance"] == 2  # MLflow, Label Studio
    assert c["kubernetes:core/v1:Namespace"] == teams + 2
    assert c["kubernetes:core/v1:ResourceQuota"] == teams == c["kubernetes:core/v1:LimitRange"]
    # per team: its group's `edit`, its jobs' Role (no Secrets) and binding (test_first_up.py)
    assert c["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"] == 2 * teams
    assert c["kubernetes:rbac.authorization.k8s.io/v1:Role"] == teams
    # the shipyard image, built into an ECR repository of the stack
    assert c["docker-build:index:Image"] == 1 == c["aws:ecr/repository:Repository"]
    # + cluster autoscaler and load balancer controller
    assert c["kubernetes:helm.sh/v3:Release"] == 3 + (2 if spec.gpu_pools else 0) + 2
    # control plane, nodes, EBS CSI driver, MLflow, Label Studio, autoscaler, LB controller, one per team
    assert c["aws:iam/role:Role"] == 3 + 2 + 2 + teams
    principals = len(spec.platform.cluster.access) + sum(len(t.cluster_principals) for t in spec.teams)
    assert c["aws:eks/accessEntry:AccessEntry"] == principals >= 2
    assert c["aws:eks/addon:Addon"] == 4 and c["kubernetes:storage.k8s.io/v1:StorageClass"] == 1
    assert c["aws:ec2/subnet:Subnet"] == 6


def test_aws_resources_use_the_region_of_the_spec(aws_graph):
    (provider,) = aws_graph.of("pulumi:providers:aws")
    assert provider.plain["region"] == AWS_SPEC.platform.region
    cloud = [r for r in aws_graph.resources if r.type.startswith("aws:")]
    assert cloud and all("pulumi:providers:aws::aws::" in r.provider for r in cloud)
    k8s = [r for r in aws_graph.resources if r.type.startswith("kubernetes:")]
    assert k8s and all("pulumi:providers:kubernetes::cluster-k8s::" in r.provider for r in k8s)


def test_aws_node_groups_match_pools_with_gpu_taints(aws_graph):
    groups = {
        r.plain["labels"]["shipyard.io/pool"]: r.plain for r in aws_graph.of("aws:eks/nodeGroup:NodeGroup")
    }
    assert set(groups) == {p.name for p in AWS_SPEC.node_pools}
    for pool in AWS_SPEC.node_pools:
        g = groups[pool.name]
        assert g["instanceTypes"] == pool.instance_types
        assert g["capacityType"] == ("SPOT" if pool.capacity == "spot" else "ON_DEMAND")
        assert g["scalingConfig"] == {
            "minSize": pool.min_size,
            "maxSize": pool.max_size,
            "desiredSize": pool.effective_desired_size,
        }
        assert g["labels"]["shipyard.io/pool"] == pool.name
        assert g["version"] == AWS_SPEC.platform.cluster.kubernetes_version
        if pool.is_gpu:
            assert "NVIDIA" in g["amiType"]
            assert {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"} in g["taints"]
            assert g["labels"]["shipyard.io/gpu-type"] == pool.gpu_type
        else:  # the spec's own taints only (the example's system pool: CriticalAddonsOnly)
            taints = [
                {"key": t.key, "value": t.value, "effect": "NO_SCHEDULE"} for t in pool.effective_taints
            ]
            assert g.get("taints", []) == taints and "NVIDIA" not in g["amiType"]
    disks = sorted(
        r.plain["blockDeviceMappings"][0]["ebs"]["volumeSize"]
        for r in aws_graph.of("aws:ec2/launchTemplate:LaunchTemplate")
    )
    assert disks == sorted(p.disk_gb for p in AWS_SPEC.node_pools)
    for lt in aws_graph.of("aws:ec2/launchTemplate:LaunchTemplate"):
        assert lt.plain["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
        assert lt.plain["metadataOptions"]["httpTokens"] == "required"


def test_aws_databases_are_private_encrypted_backed_up_and_protected(aws_graph):
    for db in aws_graph.of("aws:rds/instance:Instance"):
        p = db.plain
        assert p["storageEncrypted"] is True and p["publiclyAccessible"] is False
        assert p["backupRetentionPeriod"] >= 7
        assert p["deletionProtection"] is True and p.get("skipFinalSnapshot") is False  # not a dev stack
        # unique per database lifetime: a fixed name fails the next destroy (the snapshot exists)
        assert re.fullmatch(rf"{p['identifier']}-final-5eed1d00", p["finalSnapshotIdentifier"])
        assert len(aws_graph.of("random:index/randomId:RandomId")) == len(
            aws_graph.of("aws:rds/instance:Instance")
        )
        assert p["instanceClass"] == AWS_SPEC.services.mlflow.database_instance
        assert "password" in db.inputs and not isinstance(db.inputs["password"], str)  # a secret


def test_aws_buckets_versioned_encrypted_private_with_lifecycle(aws_graph):
    names = {r.plain["bucket"] for r in aws_graph.of("aws:s3/bucket:Bucket")}
    assert names == {
        "acme-ml-mlflow-artifacts",
        "acme-ml-label-studio",
        "acme-ml-dvc-fraud",
        "acme-ml-dvc-search",
    }
    for v in aws_graph.of("aws:s3/bucketVersioning:BucketVersioning"):
        assert v.plain["versioningConfiguration"]["status"] == "Enabled"
    for e in aws_graph.of(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ):
        assert e.plain["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    for b in aws_graph.of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        assert all(
            b.plain[k] is True
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
    for lc in aws_graph.of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
        rule = lc.plain["rules"][0]
        assert (
            rule["noncurrentVersionExpiration"]["noncurrentDays"]
            == AWS_SPEC.services.dvc.noncurrent_version_days
        )


def test_aws_cost_tags_on_every_taggable_resource(aws_graph, rules):
    tagged = [r for r in aws_graph.resources if r.type in rules.TAGGABLE_AWS]
    assert len(tagged) > 30
    for r in tagged:
        assert r.plain["tags"]["shipyard:platform"] == "acme-ml", r.name
        assert r.plain["tags"]["shipyard:component"], r.name
    team_owned = [r for r in tagged if r.plain["tags"].get("shipyard:team")]
    # per-team DVC buckets and per-team roles carry the team tag
    for team in ("fraud", "search"):
        assert any(
            r.type == "aws:s3/bucket:Bucket" and r.plain["tags"]["shipyard:team"] == team for r in team_owned
        )
        assert any(
            r.type == "aws:iam/role:Role" and r.plain["tags"]["shipyard:team"] == team for r in team_owned
        )


def test_aws_taggable_list_matches_the_provider_schema(aws_graph, rules):
    """Every AWS type in the graph whose SDK class takes ``tags`` is in the policy's taggable set."""
    import importlib
    import inspect

    for typ in {r.type for r in aws_graph.resources if r.type.startswith("aws:")}:
        module, cls = typ.split(":")[1].split("/")[0], typ.split(":")[2]
        klass = getattr(importlib.import_module(f"pulumi_aws.{module}"), cls)
        takes_tags = "tags" in inspect.signature(klass._internal_init).parameters
        assert takes_tags == (typ in rules.TAGGABLE_AWS), typ


def test_aws_cluster_encrypts_secrets_and_irsa_scopes_roles(aws_graph):
    eks = aws_graph.of("aws:eks/cluster:Cluster")[0].plain
    assert eks["version"] == AWS_SPEC.platform.cluster.kubernetes_version
    assert eks["encryptionConfig"]["resources"] == ["secrets"]
    roles = {r.name: r.plain for r in aws_graph.of("aws:iam/role:Role")}
    trust = roles["mlflow-artifacts-access"]["assumeRolePolicy"]
    assert "system:serviceaccount:shipyard-system:mlflow" in trust and "AssumeRoleWithWebIdentity" in trust
    assert "system:serviceaccount:fraud:shipyard-runner" in roles["dvc-fraud"]["assumeRolePolicy"]
    policies = {r.name: r.plain["policy"] for r in aws_graph.of("aws:iam/rolePolicy:RolePolicy")}
    assert "acme-ml-dvc-fraud" in policies["dvc-fraud"] or "dvc-fraud" in policies["dvc-fraud"]
    assert "dvc-search" not in policies["dvc-fraud"]


def test_aws_mlflow_deployment_replicas_probes_auth_irsa(aws_graph):
    dep = aws_graph.one("kubernetes:apps/v1:Deployment", "mlflow-deployment").plain
    assert dep["spec"]["replicas"] == AWS_SPEC.services.mlflow.replicas >= 2
    pod = dep["spec"]["template"]["spec"]
    (mlflow,) = pod["containers"]
    assert mlflow["image"] == AWS_SPEC.services.mlflow.image
    assert mlflow["readinessProbe"]["httpGet"]["path"] == "/health" and mlflow["livenessProbe"]
    assert mlflow["resources"]["requests"] and mlflow["resources"]["limits"]
    cmd = mlflow["command"]
    assert cmd[cmd.index("--app-name") + 1] == "basic-auth"
    assert cmd[cmd.index("--artifacts-destination") + 1] == "s3://acme-ml-mlflow-artifacts/artifacts"
    env = {e["name"]: e for e in mlflow["env"]}
    assert env["MLFLOW_BACKEND_STORE_URI"]["valueFrom"]["secretKeyRef"]["name"] == "mlflow"
    assert "AWS_ACCESS_KEY_ID" not in env  # IRSA: no static keys on AWS
    sa = aws_graph.one("kubernetes:core/v1:ServiceAccount", "mlflow-sa").plain
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith("mlflow-artifacts-access")
    svc = aws_graph.one("kubernetes:core/v1:Service", "mlflow-svc").plain
    assert svc["spec"]["type"] == "ClusterIP"


def test_aws_team_quotas_include_gpus(aws_graph):
    quotas = {
        r.plain["metadata"]["namespace"]: r.plain["spec"]["hard"]
        for r in aws_graph.of("kubernetes:core/v1:ResourceQuota")
    }
    for team in AWS_SPEC.teams:
        hard = quotas[team.name]
        assert hard["requests.nvidia.com/gpu"] == str(team.quota.gpus)
        assert hard["requests.cpu"] == team.quota.cpu and hard["requests.memory"] == team.quota.memory
    bindings = {
        r.plain["metadata"]["namespace"]: r.plain
        for r in aws_graph.of("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
        if r.plain["roleRef"]["name"] == "edit"
    }
    assert bindings["fraud"]["subjects"][0] == {
        "kind": "Group",
        "name": "ml-fraud",
        "apiGroup": "rbac.authorization.k8s.io",
    }


def test_helm_releases_pinned_and_gpu_only(aws_graph):
    releases = {r.plain["chart"]: r.plain for r in aws_graph.of("kubernetes:helm.sh/v3:Release")}
    assert set(releases) == {
        "label-studio",
        "kube-prometheus-stack",
        "prometheus-pushgateway",
        "nvidia-device-plugin",
        "dcgm-exporter",
        "cluster-autoscaler",
        "aws-load-balancer-controller",
    }
    for chart, rel in releases.items():
        assert PINNED.match(rel["version"]), f"{chart} is not pinned: {rel['version']}"
        assert rel["repositoryOpts"]["repo"].startswith("https://")
    assert releases["label-studio"]["version"] == AWS_SPEC.services.label_studio.chart_version
    assert releases["kube-prometheus-stack"]["version"] == AWS_SPEC.services.prometheus.chart_version
    ls = releases["label-studio"]["values"]
    assert ls["postgresql"]["enabled"] is False and ls["global"]["persistence"]["type"] == "s3"
    assert ls["global"]["pgConfig"]["password"] == {
        "secretName": "label-studio-credentials",
        "secretKey": "pg-password",
    }
    for chart in ("nvidia-device-plugin", "dcgm-exporter"):
        values = releases[chart]["values"]
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values[
            "tolerations"
        ]
        terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"
        ]
        assert terms[0]["matchExpressions"][0]["key"] == "shipyard.io/gpu-type"
    assert releases["dcgm-exporter"]["values"]["serviceMonitor"]["enabled"] is True
    assert releases["prometheus-pushgateway"]["values"]["serviceMonitor"]["enabled"] is True
    grafana = releases["kube-prometheus-stack"]["values"]["grafana"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"


def test_dashboards_provisioned_as_code(aws_graph):
    cm = aws_graph.one("kubernetes:core/v1:ConfigMap", "monitoring-dashboards").plain
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "shipyard_drift_share" in cm["data"]["shipyard-drift.json"]
    assert "DCGM_FI_DEV_GPU_UTIL" in cm["data"]["shipyard-gpus.json"]


@pytest.mark.parametrize("graph_name", ["aws_graph", "k8s_graph"])
def test_secrets_never_appear_in_plaintext(graph_name, request):
    graph = request.getfixturevalue(graph_name)
    leaks = [
        (r.type, r.name, s[:40])
        for r in graph.resources
        for s, secret in _strings(r.inputs)
        if not secret and any(f in s for f in FAKE_SECRETS)
    ]
    assert leaks == []
    # ... and they do reach the Secrets that hold them
    held = [s for r in graph.of("kubernetes:core/v1:Secret") for s, secret in _strings(r.inputs) if secret]
    assert any("generated-secret-" in s for s in held)


def test_aws_exports_read_back_into_endpoints(aws_graph):
    assert {"kubeconfig", "mlflowAdminPassword", "grafanaAdminPassword"} <= aws_graph.secret_exports
    assert "endpoints" not in aws_graph.secret_exports and "dvcRemotes" not in aws_graph.secret_exports
    e = endpoints_from_outputs(aws_graph.exports, team="fraud")
    assert e.platform == "aws"
    assert e.mlflow == AWS_SPEC.services.mlflow.url == "https://mlflow.ml.acme.example"  # reachable from CI
    assert e.dvc_remote("fraud", "churn") == "s3://acme-ml-dvc-fraud/fraud/churn"
    assert e.pushgateway and e.prometheus and e.grafana and e.label_studio
    assert aws_graph.exports["teamNamespaces"] == {"fraud": "fraud", "search": "search"}
    assert e.registry == "http://registry.shipyard-system.svc.cluster.local"
    assert e.to_env()["SHIPYARD_REGISTRY_URL"] == e.registry
    assert e.portal == AWS_SPEC.services.portal.url == "https://portal.ml.acme.example"


def test_aws_portal_after_mlflow_and_the_registry_reading_them_in_the_cluster(aws_graph):
    portal = aws_graph.key(aws_graph.one("kubernetes:apps/v1:Deployment", "portal-deployment"))
    for dependency in ("mlflow-deployment", "registry-deployment"):
        assert aws_graph.waits_for(
            portal, aws_graph.key(aws_graph.one("kubernetes:apps/v1:Deployment", dependency))
        )
    cm = aws_graph.one("kubernetes:core/v1:ConfigMap", "portal-spec").plain
    assert cm["data"]["platform.yaml"] == (REPO / "examples/platform.aws.yaml").read_text()
    (c,) = aws_graph.one("kubernetes:apps/v1:Deployment", "portal-deployment").plain["spec"]["template"][
        "spec"
    ]["containers"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    # every service it reads, through its Service (never the public URLs: no hairpin through the ALB)
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow.shipyard-system.svc.cluster.local"
    for var in ("SHIPYARD_REGISTRY_URL", "SHIPYARD_PROMETHEUS_URL", "SHIPYARD_PUSHGATEWAY_URL", "GRAFANA_URL",
                "LABEL_STUDIO_URL"):  # fmt: skip
        assert env[var].startswith("http://") and ".svc.cluster.local" in env[var], var
    (netpol,) = [
        r.plain
        for r in aws_graph.of("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.name == "portal-netpol"
    ]
    assert len(netpol["spec"]["egress"]) == 2  # DNS, the platform's namespaces: nothing outside


def test_aws_registry_after_mlflow_with_the_spec_it_was_given(aws_graph):
    registry = aws_graph.key(aws_graph.one("kubernetes:apps/v1:Deployment", "registry-deployment"))
    mlflow = aws_graph.key(aws_graph.one("kubernetes:apps/v1:Deployment", "mlflow-deployment"))
    assert aws_graph.waits_for(registry, mlflow)
    cm = aws_graph.one("kubernetes:core/v1:ConfigMap", "registry-spec").plain
    assert cm["data"]["platform.yaml"] == (REPO / "examples/platform.aws.yaml").read_text()
    (c,) = aws_graph.one("kubernetes:apps/v1:Deployment", "registry-deployment").plain["spec"]["template"][
        "spec"
    ]["containers"]
    assert (
        c["command"][c["command"].index("--mlflow") + 1] == "http://mlflow.shipyard-system.svc.cluster.local"
    )
    (netpol,) = [
        r.plain
        for r in aws_graph.of("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.name == "registry-netpol"
    ]
    sources = {
        f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for f in netpol["spec"]["ingress"][0]["from"]
    }
    assert sources == {"shipyard-system", *(t.name for t in AWS_SPEC.teams)}


# --- existing cluster -----------------------------------------------------------------------------


def test_kubernetes_stack_creates_no_cloud_resources(k8s_graph):
    assert not [r for r in k8s_graph.resources if r.type.startswith("aws:")]
    (provider,) = k8s_graph.of("pulumi:providers:kubernetes")
    assert provider.plain["context"] == K8S_SPEC.platform.cluster.kubeconfig_context
    c = k8s_graph.counts()
    assert c["kubernetes:core/v1:Namespace"] == len(K8S_SPEC.teams) + 2
    assert c["kubernetes:helm.sh/v3:Release"] == 5


def test_kubernetes_mlflow_behind_oidc_proxy_with_s3_keys_from_secret(k8s_graph):
    dep = k8s_graph.one("kubernetes:apps/v1:Deployment", "mlflow-deployment").plain
    assert dep["spec"]["replicas"] == K8S_SPEC.services.mlflow.replicas
    containers = {c["name"]: c for c in dep["spec"]["template"]["spec"]["containers"]}
    assert set(containers) == {"mlflow", "oauth2-proxy"}
    proxy = containers["oauth2-proxy"]
    assert "--oidc-issuer-url=https://sso.corp.example/realms/ml" in proxy["args"]
    assert "--upstream=http://127.0.0.1:5000" in proxy["args"]
    assert proxy["readinessProbe"] and proxy["livenessProbe"] and proxy["resources"]["limits"]
    command = containers["mlflow"]["command"]
    assert command[command.index("--app-name") + 1] == "basic-auth"  # users and permissions, as with basic
    # it imports shipyard: the shipyard image the stack builds (the registry's)
    registry = k8s_graph.one("kubernetes:apps/v1:Deployment", "registry-deployment").plain
    assert containers["mlflow"]["image"] == registry["spec"]["template"]["spec"]["containers"][0]["image"]
    assert "/shipyard:" in containers["mlflow"]["image"] and "@sha256:" in containers["mlflow"]["image"]
    env = {e["name"]: e for e in containers["mlflow"]["env"]}
    assert env["MLFLOW_S3_ENDPOINT_URL"]["value"] == K8S_SPEC.services.dvc.endpoint_url
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "mlflow"
    svc = k8s_graph.one("kubernetes:core/v1:Service", "mlflow-svc").plain
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["ports"][0]["targetPort"] == 4180
    secret = k8s_graph.one("kubernetes:core/v1:Secret", "mlflow-secret").plain
    assert (
        secret["stringData"]["backend-uri"]
        == "postgresql+psycopg://shipyard:pg-secret%40Zq%2F81@pg.corp.example:5432/mlflow"
    )
    netpol = k8s_graph.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mlflow-netpol").plain
    assert netpol["spec"]["ingress"][0] == {"ports": [{"port": 4180, "protocol": "TCP"}]}  # open: the proxy
    assert netpol["spec"]["ingress"][1]["ports"] == [{"port": 5000, "protocol": "TCP"}]  # platform only


def test_kubernetes_portal_behind_its_oidc_proxy_reads_mlflow_in_the_cluster(k8s_graph):
    """services.mlflow.auth oidc: the portal is deployed with an oauth2-proxy sidecar using the stack's
    OIDC settings (MLflow's), Streamlit on loopback in proxy-header mode, only the proxy's port served."""
    dep = k8s_graph.one("kubernetes:apps/v1:Deployment", "portal-deployment").plain
    pod = dep["spec"]["template"]["spec"]
    portal, proxy = pod["containers"]
    assert proxy["name"] == "oauth2-proxy"
    assert "--oidc-issuer-url=https://sso.corp.example/realms/ml" in proxy["args"]
    assert "--upstream=http://127.0.0.1:8501" in proxy["args"]
    secret = k8s_graph.one("kubernetes:core/v1:Secret", "portal-oidc-secret").plain["stringData"]
    assert secret["oidc-client-id"] == "mlflow" and secret["oidc-client-secret"] == "oidc-secret-Pp09"
    command = portal["command"]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    env = {e["name"]: e.get("value") for e in portal["env"]}
    assert env["SHIPYARD_PORTAL_IDENTITY"] == "proxy-header"
    # MLflow's own port (basic auth), not its oauth2-proxy
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow.shipyard-system.svc.cluster.local:5000"
    svc = k8s_graph.one("kubernetes:core/v1:Service", "portal-svc").plain
    assert svc["spec"]["ports"][0]["targetPort"] == 4180
    netpol = k8s_graph.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "portal-netpol").plain["spec"]
    assert [p["port"] for rule in netpol["ingress"] for p in rule["ports"]] == [4180]
    ingresses = k8s_graph.of("kubernetes:networking.k8s.io/v1:Ingress")
    assert all(r.plain["metadata"]["name"] != "portal" for r in ingresses)  # the example gives it no url


def test_kubernetes_exports(k8s_graph, infra_log):
    e = endpoints_from_outputs(k8s_graph.exports, team="credit")
    assert e.platform == "kubernetes" and e.dvc_endpoint_url == "https://minio.corp.example:9000"
    assert e.dvc_remote("credit", "scoring") == "s3://ml-dvc/credit/scoring"
    assert k8s_graph.exports["endpoints"]["dvc_remote_root"] == "s3://ml-dvc"
    # OIDC: jobs sign in with basic auth, which the proxy in front of the public URL does not take
    assert e.mlflow == "http://mlflow.shipyard-system.svc.cluster.local:5000"
    # OIDC: MLflow still has its basic-auth admin (service accounts, the people's users from the spec)
    assert "mlflowAdminPassword" in k8s_graph.exports
    # ... so the registry is deployed, after MLflow, reaching MLflow's own port with basic auth
    assert e.registry == "http://registry.shipyard-system.svc.cluster.local"
    registry = k8s_graph.one("kubernetes:apps/v1:Deployment", "registry-deployment")
    mlflow = k8s_graph.one("kubernetes:apps/v1:Deployment", "mlflow-deployment")
    assert k8s_graph.waits_for(k8s_graph.key(registry), k8s_graph.key(mlflow))
    containers = registry.plain["spec"]["template"]["spec"]["containers"]
    (server,) = [c for c in containers if c["name"] == "registry"]
    assert server["command"][server["command"].index("--mlflow") + 1] == (
        "http://mlflow.shipyard-system.svc.cluster.local:5000"
    )
    # ... and the portal: people sign in through its own oauth2-proxy sidecar (docs/platform-engineer.md)
    assert e.portal == "http://portal.shipyard-system.svc.cluster.local"
    log = infra_log["kubernetes"]
    assert "registry service is not deployed" not in log and "portal is not deployed" not in log
    quota = k8s_graph.of("kubernetes:core/v1:ResourceQuota")[0].plain
    assert quota["spec"]["hard"]["requests.nvidia.com/gpu"] == "2"


@pytest.mark.parametrize("graph_name", ["aws_graph", "k8s_graph"])
def test_every_kubernetes_object_labeled_and_every_container_bounded(graph_name, request):
    graph = request.getfixturevalue(graph_name)
    platform = {"aws_graph": "acme-ml", "k8s_graph": "onprem-ml"}[graph_name]
    for r in graph.k8s_objects():
        labels = r.plain["metadata"]["labels"]
        assert labels["shipyard.io/platform"] == platform and labels["shipyard.io/component"], r.name
    team_objects = [
        r
        for r in graph.k8s_objects()
        if r.plain["metadata"].get("namespace") in {t.name for t in AWS_SPEC.teams + K8S_SPEC.teams}
    ]
    assert team_objects and all(r.plain["metadata"]["labels"]["shipyard.io/team"] for r in team_objects)


def _run_failing(tmp_path, spec: str, *extra: str) -> str:
    import subprocess
    import sys

    harness = Path(__file__).resolve().parent / "harness.py"
    out = tmp_path / "out.json"
    result = subprocess.run(
        [sys.executable, str(harness), "program", str(out), "--spec", spec, *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert not out.exists()
    return result.stderr


def test_a_local_spec_is_refused_with_the_fix(tmp_path):
    """`pulumi up` with the embedded demo spec stops with what is wrong and what to do (under mocks)."""
    stderr = _run_failing(tmp_path, str(REPO / "platform.yaml"))
    assert "platform.environment: infra stands up 'aws' or 'kubernetes' platforms, not 'local'" in stderr
    assert "fix: point shipyard:spec at a cluster spec" in stderr


def test_missing_endpoint_config_names_the_key(tmp_path):
    spec = str(REPO / "examples/platform.kubernetes.yaml")
    stderr = _run_failing(tmp_path, spec, "--stack", "kubernetes-example", "--drop-config", "postgres")
    assert "stack config shipyard:postgres is missing" in stderr
    assert "pulumi config set --path 'shipyard:postgres.host'" in stderr
