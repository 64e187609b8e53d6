"""One test per defect of issue #13 that a real `pulumi up` would have hit (graphs from the mocked
program; no engine, cluster or cloud can run here). Defect 1 (MLflow never starts) is
test_containers_start.py, 2 (Label Studio values) test_chart_values.py, 3 (scale from zero)
test_scaling.py; the rest are here, with the ordering and preview-mode checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from shipyard.spec import load_spec
from shipyard.spec.cluster import eks_support
from shipyard.spec.loader import SpecError, parse_spec

REPO = Path(__file__).resolve().parents[2]
AWS_SPEC = load_spec(REPO / "examples/platform.aws.yaml")
CRD_KINDS = ("monitoring.coreos.com",)  # custom resources kube-prometheus-stack defines


def _release(graph, chart: str):
    found = [r for r in graph.of("kubernetes:helm.sh/v3:Release") if r.plain["chart"] == chart]
    return found[0] if found else None


# --- 4: custom resources only after the release that defines them ---------------------------------


@pytest.mark.parametrize("stack", ["aws", "kubernetes"])
def test_every_custom_resource_waits_for_its_crds(stack, aws_graph, k8s_graph):
    graph = {"aws": aws_graph, "kubernetes": k8s_graph}[stack]
    stack_release = _release(graph, "kube-prometheus-stack")
    assert stack_release is not None
    crds = graph.key(stack_release)
    users = [r for r in graph.resources if any(k in r.type for k in CRD_KINDS)]
    users += [
        r
        for r in graph.of("kubernetes:helm.sh/v3:Release")
        if (r.plain.get("values") or {}).get("serviceMonitor", {}).get("enabled")
    ]
    assert {r.plain.get("chart", r.type) for r in users} >= {"dcgm-exporter", "prometheus-pushgateway"}
    late = [graph.key(r) for r in users if not graph.waits_for(graph.key(r), crds)]
    assert late == [], f"created before kube-prometheus-stack installs the CRDs: {late}"


def test_without_prometheus_the_dcgm_exporter_renders_no_service_monitor(onprem_bare_graph):
    dcgm = _release(onprem_bare_graph, "dcgm-exporter")
    assert dcgm is not None and _release(onprem_bare_graph, "kube-prometheus-stack") is None
    assert dcgm.plain["values"]["serviceMonitor"]["enabled"] is False  # the chart's default is true


@pytest.mark.parametrize("stack", ["aws", "kubernetes"])
def test_namespaced_objects_wait_for_their_namespace(stack, aws_graph, k8s_graph):
    graph = {"aws": aws_graph, "kubernetes": k8s_graph}[stack]
    namespaces = {r.plain["metadata"]["name"]: graph.key(r) for r in graph.of("kubernetes:core/v1:Namespace")}
    late = []
    for r in graph.k8s_objects():
        ns = (r.plain.get("metadata") or {}).get("namespace")
        if ns in namespaces and not graph.waits_for(graph.key(r), namespaces[ns]):
            late.append(graph.key(r))
    for r in graph.of("kubernetes:helm.sh/v3:Release"):
        if r.plain["namespace"] in namespaces and not graph.waits_for(
            graph.key(r), namespaces[r.plain["namespace"]]
        ):
            late.append(graph.key(r))
    assert late == []


# --- preview: unknown computed values ------------------------------------------------------------


def test_preview_with_unknown_values_plans_the_same_resources(aws_graph, aws_preview_graph):
    assert aws_preview_graph.counts() == aws_graph.counts()
    assert aws_preview_graph.exports["kubeconfig"] is None  # unknown until the cluster exists
    assert aws_preview_graph.exports["endpoints"]["mlflow"] == AWS_SPEC.services.mlflow.url


# --- 5: a supported EKS version, priced for its support window ------------------------------------


def test_the_example_and_default_eks_versions_have_standard_support():
    assert eks_support(AWS_SPEC.platform.cluster.kubernetes_version) == "standard"
    from shipyard.spec.platform_info import ClusterSpec

    assert eks_support(ClusterSpec().kubernetes_version) == "standard"


def test_a_version_past_extended_support_is_refused_by_spec_validate_and_pulumi_up():
    text = (REPO / "examples/platform.aws.yaml").read_text().replace('"1.35"', '"1.29"')
    with pytest.raises(SpecError, match="left extended support"):
        parse_spec(text, "platform.yaml", target="aws")


# --- 6: OIDC mode cannot be bypassed ---------------------------------------------------------------


def test_network_policies_are_enforced_on_eks(aws_graph):
    addons = {a.plain["addonName"]: a.plain for a in aws_graph.of("aws:eks/addon:Addon")}
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_behind_the_oidc_proxy_people_come_through_it_and_mlflows_port_only_from_the_platform(k8s_graph):
    deployment = k8s_graph.one("kubernetes:apps/v1:Deployment", "mlflow-deployment")
    containers = {c["name"]: c for c in deployment.plain["spec"]["template"]["spec"]["containers"]}
    command = containers["mlflow"]["command"]
    # MLflow's own port answers service accounts (basic auth); the header is believed from loopback only,
    # and uvicorn must not rewrite the proxy's loopback address from X-Forwarded-For
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--uvicorn-opts") + 1] == "--no-proxy-headers"
    assert "--upstream=http://127.0.0.1:5000" in containers["oauth2-proxy"]["args"]
    policy = k8s_graph.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mlflow-netpol")
    open_to_all, platform_only = policy.plain["spec"]["ingress"]
    assert open_to_all == {"ports": [{"port": 4180, "protocol": "TCP"}]}
    assert platform_only["ports"] == [{"port": 5000, "protocol": "TCP"}]
    selected = [f["namespaceSelector"]["matchLabels"] for f in platform_only["from"]]
    teams = load_spec(REPO / "examples/platform.kubernetes.yaml").teams
    names = {s["kubernetes.io/metadata.name"] for s in selected}
    assert names == {"shipyard-system", *(t.name for t in teams)}
    svc = k8s_graph.one("kubernetes:core/v1:Service", "mlflow-svc").plain
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(80, 4180), (5000, 5000)]


def test_behind_the_oidc_proxy_only_the_portals_proxy_port_is_open(k8s_graph):
    """The portal behind its own oauth2-proxy sidecar: Streamlit on loopback, only the proxy's port open."""
    deployment = k8s_graph.one("kubernetes:apps/v1:Deployment", "portal-deployment").plain
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    command = containers["portal"]["command"]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert "--upstream=http://127.0.0.1:8501" in containers["oauth2-proxy"]["args"]
    policy = k8s_graph.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "portal-netpol").plain
    ports = [p for rule in policy["spec"]["ingress"] for p in rule["ports"]]  # no url: the platform's only
    assert ports == [{"port": 4180, "protocol": "TCP"}]


# --- 7: managed addons, CRD upgrades, EKS-tuned monitoring -------------------------------------------


def test_bootstrap_addons_are_managed_and_pinned_to_the_cluster_version(aws_graph):
    addons = {a.plain["addonName"]: a.plain for a in aws_graph.of("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"}
    minor = AWS_SPEC.platform.cluster.kubernetes_version.split(".")[1]
    for name, addon in addons.items():
        # the mock answers getAddonVersion for the cluster's version: the program pinned what EKS named
        assert addon["addonVersion"] == f"v1.{minor}.0-eksbuild.1", name


def test_prometheus_crds_upgrade_and_eks_control_plane_is_not_scraped(aws_graph, k8s_graph):
    values = _release(aws_graph, "kube-prometheus-stack").plain["values"]
    assert values["crds"]["upgradeJob"]["enabled"] is True
    for part in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert values[part] == {"enabled": False}
    assert values["defaultRules"]["rules"]["etcd"] is False
    onprem = _release(k8s_graph, "kube-prometheus-stack").plain["values"]
    assert "kubeEtcd" not in onprem  # an existing cluster's control plane may well be scrapeable


# --- 8: access, ingress, TLS, reachable endpoints --------------------------------------------------


def test_the_deploy_role_and_team_principals_get_access_entries(aws_graph):
    entries = {e.plain["principalArn"]: e.plain for e in aws_graph.of("aws:eks/accessEntry:AccessEntry")}
    for access in AWS_SPEC.platform.cluster.access:
        assert access.principal_arn in entries
    assocs = aws_graph.of("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert {a.plain["principalArn"] for a in assocs} == {
        a.principal_arn for a in AWS_SPEC.platform.cluster.access
    }
    for team in AWS_SPEC.teams:
        for principal in team.cluster_principals:
            assert entries[principal]["kubernetesGroups"] == [team.group]
            bindings = [
                b.plain for b in aws_graph.of("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
                if b.plain["metadata"]["namespace"] == team.name
            ]  # fmt: skip
            assert {"kind": "Group", "name": team.group, "apiGroup": "rbac.authorization.k8s.io"} in bindings[
                0
            ]["subjects"]


def test_a_service_url_gets_a_tls_ingress_behind_an_installed_controller(aws_graph):
    assert _release(aws_graph, "aws-load-balancer-controller") is not None
    ingresses = {
        i.plain["metadata"]["name"]: i.plain for i in aws_graph.of("kubernetes:networking.k8s.io/v1:Ingress")
    }
    assert set(ingresses) == {"mlflow", "portal"}
    for name, ingress in ingresses.items():
        spec, annotations = ingress["spec"], ingress["metadata"]["annotations"]
        assert spec["ingressClassName"] == "alb"
        assert (
            annotations["alb.ingress.kubernetes.io/certificate-arn"]
            == AWS_SPEC.platform.ingress.certificate_arn
        )
        assert annotations["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTPS": 443}]'
        assert annotations["alb.ingress.kubernetes.io/group.name"] == AWS_SPEC.platform.name  # one ALB
        assert spec["rules"][0]["host"] == f"{name}.ml.acme.example"
        assert aws_graph.exports["endpoints"][name].startswith("https://")


def test_a_url_without_a_certificate_is_refused():
    text = (REPO / "examples/platform.aws.yaml").read_text()
    text = "\n".join(line for line in text.splitlines() if "certificate_arn" not in line)
    with pytest.raises(SpecError, match="platform.ingress.certificate_arn"):
        parse_spec(text, "platform.yaml", target="aws")


# --- 9: GPUs on existing clusters ------------------------------------------------------------------


def test_existing_cluster_gpu_nodes_are_found_without_shipyard_labels(k8s_graph):
    plugin = _release(k8s_graph, "nvidia-device-plugin").plain["values"]
    assert plugin["gfd"] == {"enabled": True}  # GPU feature discovery (+ NFD) labels the nodes
    assert "affinity" not in plugin  # the chart's default: NFD's pci-10de / nvidia.com/gpu.present
    # the exporter's chart has no default placement: the same labels, given (test_first_up.py)
    dcgm = _release(k8s_graph, "dcgm-exporter").plain["values"]
    terms = dcgm["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    keys = {e["key"] for t in terms for e in t["matchExpressions"]}
    assert keys == {"feature.node.kubernetes.io/pci-10de.present", "nvidia.com/gpu.present"}


def test_with_the_gpu_operator_shipyard_installs_no_second_device_plugin(aws_dev_graph):
    assert _release(aws_dev_graph, "nvidia-device-plugin") is None
    assert _release(aws_dev_graph, "dcgm-exporter") is None


# --- 10: the smaller ones ----------------------------------------------------------------------------


def test_buckets_refuse_plain_http(aws_graph):
    buckets = aws_graph.of("aws:s3/bucket:Bucket")
    policies = [json.loads(p.plain["policy"]) for p in aws_graph.of("aws:s3/bucketPolicy:BucketPolicy")]
    assert len(policies) == len(buckets)
    for policy in policies:
        (deny,) = policy["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        arn = deny["Resource"][0]
        assert (
            arn.startswith("arn:aws:s3:::") and deny["Resource"][1] == f"{arn}/*"
        )  # a real bucket ARN shape


def test_eks_control_plane_logs_expire(aws_graph):
    (group,) = aws_graph.of("aws:cloudwatch/logGroup:LogGroup")
    assert group.plain["name"] == f"/aws/eks/{AWS_SPEC.platform.cluster.name}/cluster"
    assert group.plain["retentionInDays"] > 0
    (cluster,) = aws_graph.of("aws:eks/cluster:Cluster")
    assert aws_graph.waits_for(aws_graph.key(cluster), aws_graph.key(group))  # else EKS creates it, unmanaged


def test_dev_stacks_delete_volumes_with_their_claims(aws_graph, aws_dev_graph):
    (prod,) = aws_graph.of("kubernetes:storage.k8s.io/v1:StorageClass")
    (dev,) = aws_dev_graph.of("kubernetes:storage.k8s.io/v1:StorageClass")
    assert prod.plain["reclaimPolicy"] == "Retain" and dev.plain["reclaimPolicy"] == "Delete"


def test_one_mlflow_replica_is_refused_on_a_cluster():
    text = (REPO / "examples/platform.aws.yaml").read_text().replace("replicas: 2", "replicas: 1")
    with pytest.raises(SpecError, match="services.mlflow.replicas"):
        parse_spec(text, "platform.yaml", target="aws")


def test_dvc_disabled_creates_no_remotes(onprem_bare_graph):
    assert onprem_bare_graph.exports["dvcRemotes"] == {}
    assert "dvc_remote_root" not in onprem_bare_graph.exports["endpoints"]


def test_platform_pods_stay_off_spot(aws_graph):
    on_demand = {"eks.amazonaws.com/capacityType": "ON_DEMAND"}
    deployments = aws_graph.of("kubernetes:apps/v1:Deployment")
    assert {d.plain["metadata"]["name"] for d in deployments} == {"mlflow", "registry", "portal"}
    for deployment in deployments:
        assert deployment.plain["spec"]["template"]["spec"]["nodeSelector"] == on_demand
    ls = _release(aws_graph, "label-studio").plain["values"]
    assert ls["app"]["nodeSelector"] == on_demand == ls["rqworker"]["nodeSelector"]


# --- the spec owns the cluster rules: `shipyard spec validate --target` agrees with `pulumi up` ------


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("replicas: 2", "replicas: 1"), "services.mlflow.replicas"),
        (("backend: postgres", "backend: sqlite"), "services.mlflow.backend"),
        (('kubernetes_version: "1.35"', 'kubernetes_version: "1.30"'), "platform.cluster.kubernetes_version"),
    ],
)
def test_spec_validate_target_and_the_program_refuse_the_same_spec(edit, field, tmp_path):
    spec = tmp_path / "platform.yaml"
    spec.write_text((REPO / "examples/platform.aws.yaml").read_text().replace(*edit))
    shipyard = Path(sys.executable).parent / "shipyard"
    validate = subprocess.run(
        [str(shipyard), "spec", "validate", str(spec), "--target", "aws"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert validate.returncode == 2 and field in validate.stderr
    harness = Path(__file__).resolve().parent / "harness.py"
    up = subprocess.run(
        [sys.executable, str(harness), "program", str(tmp_path / "out.json"), "--spec", str(spec)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert up.returncode != 0 and field in up.stderr
