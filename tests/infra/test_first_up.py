"""One test per defect of issue #27 that a first real `pulumi up` of an example stack would have hit,
with what the cluster would do to the objects simulated here from the rules Kubernetes documents
(LimitRange defaulting, RBAC, taints and node affinity, NetworkPolicy egress). The graphs come from the
mocked program (conftest.py: no engine, cluster, registry or docker can run here); chart behaviour is
read from the charts' vendored values (tests/infra/charts/)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from shipyard.spec import load_spec
from shipyard.spec.loader import SpecError, parse_spec

REPO = Path(__file__).resolve().parents[2]
AWS_SPEC = load_spec(REPO / "examples/platform.aws.yaml")
K8S_SPEC = load_spec(REPO / "examples/platform.kubernetes.yaml")
TEMPLATE = REPO / "project-template" / "{{cookiecutter.project_slug}}"
ON_DEMAND = {"eks.amazonaws.com/capacityType": "ON_DEMAND"}
RELEASE = "kubernetes:helm.sh/v3:Release"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import FAKE_ENDPOINTS  # noqa: E402  (the stacks' OIDC issuer)


def _release(graph, chart: str):
    (found,) = [r for r in graph.of(RELEASE) if r.plain["chart"].rsplit("/", 1)[-1] == chart]
    return found


def _pod(graph, name: str) -> dict[str, Any]:
    (d,) = [r.plain for r in graph.of("kubernetes:apps/v1:Deployment") if r.plain["metadata"]["name"] == name]
    return d["spec"]["template"]["spec"]


def _graph(stack, aws_graph, k8s_graph):
    return {"aws": aws_graph, "kubernetes": k8s_graph}[stack]


# --- 1: the Prometheus CRD upgrade job pulls a kubectl that exists -------------------------------


@pytest.mark.parametrize("stack", ["aws", "kubernetes"])
def test_the_crd_upgrade_job_runs_a_kubectl_tag_that_exists(stack, aws_graph, k8s_graph):
    """The chart tags registry.k8s.io/kubectl from `.Capabilities.KubeVersion.Version` unless told a tag
    (values.yaml: `tag: ""  # defaults to the Kubernetes version`); EKS reports `v1.35.2-eks-1a2b3c`.
    Rendered by Helm (tests/infra/cluster), 75.15.1 keeps only `v1.35.2` of it (regexFind), so the
    default tag exists too: the pin makes the tag the spec's minor, whatever the chart does with it."""
    graph, spec = _graph(stack, aws_graph, k8s_graph), {"aws": AWS_SPEC, "kubernetes": K8S_SPEC}[stack]
    chart = yaml.safe_load(
        (REPO / "tests/infra/charts/kube-prometheus-stack-75.15.1.values.yaml").read_text()
    )
    assert chart["crds"]["upgradeJob"]["image"]["kubectl"]["tag"] == ""  # the default this test guards
    job = _release(graph, "kube-prometheus-stack").plain["values"]["crds"]["upgradeJob"]
    assert job["enabled"] is True
    tag = job["image"]["kubectl"]["tag"]
    assert re.fullmatch(r"v1\.\d+\.\d+", tag), tag
    assert tag.startswith(f"v{spec.platform.cluster.kubernetes_version}.")
    assert job["resources"]["limits"]  # the job is a pod like any other (the policy pack's rule)


# --- 2: the portal's oauth2-proxy reaches the OIDC issuer ------------------------------------------


def _egress_allows(policy: dict[str, Any], port: int) -> bool:
    """Whether a NetworkPolicy lets its pods open TCP ``port`` to an address outside the cluster (an
    `ipBlock` covering the internet, or no `to` at all)."""
    for rule in policy["spec"].get("egress", []):
        ports = rule.get("ports")
        if ports and not any(p.get("port") == port and p.get("protocol", "TCP") == "TCP" for p in ports):
            continue
        peers = rule.get("to")
        if not peers or any(p.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for p in peers):
            return True
    return False


def test_the_portals_oidc_sidecar_may_reach_the_issuer(k8s_graph):
    issuer = FAKE_ENDPOINTS["oidc"]["issuerUrl"]
    assert issuer.startswith("https://sso.corp.example/")
    proxy = next(c for c in _pod(k8s_graph, "portal")["containers"] if c["name"] == "oauth2-proxy")
    assert f"--oidc-issuer-url={issuer}" in proxy["args"]  # it fetches discovery and keys there to start
    policy = k8s_graph.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "portal-netpol").plain
    assert "Egress" in policy["spec"]["policyTypes"]
    assert _egress_allows(policy, 443)
    assert not _egress_allows(policy, 22)  # still closed to everything else outside


# --- 3: the DCGM exporter only on GPU nodes of an existing cluster ---------------------------------


def _affinity_admits(affinity: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """requiredDuringScheduling node affinity: any term whose expressions all hold (In/Exists only)."""
    if not affinity:
        return True
    terms = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]

    def holds(e: dict[str, Any]) -> bool:
        if e["operator"] == "Exists":
            return e["key"] in labels
        assert e["operator"] == "In", e
        return labels.get(e["key"]) in e["values"]

    return any(all(holds(e) for e in t["matchExpressions"]) for t in terms)


def test_existing_cluster_dcgm_exporter_lands_on_gpu_nodes_only(k8s_graph):
    """Its chart places nowhere by default (values.yaml: `affinity: {}`, `nodeSelector: {}`): with the
    GPU toleration only it runs on every untainted CPU worker, where NVML is missing."""
    chart = yaml.safe_load((REPO / "tests/infra/charts/dcgm-exporter-4.1.1.values.yaml").read_text())
    assert chart["affinity"] == {} and chart["nodeSelector"] == {}
    values = _release(k8s_graph, "dcgm-exporter").plain["values"]
    affinity = values.get("affinity")
    cpu_worker = {"kubernetes.io/os": "linux", "feature.node.kubernetes.io/pci-8086.present": "true"}
    nfd_gpu = {**cpu_worker, "feature.node.kubernetes.io/pci-10de.present": "true"}
    gfd_gpu = {"nvidia.com/gpu.present": "true"}
    assert not _affinity_admits(affinity, cpu_worker)
    assert _affinity_admits(affinity, nfd_gpu) and _affinity_admits(affinity, gfd_gpu)
    # GFD (which sets nvidia.com/gpu.present) is what the device plugin deploys here
    assert _release(k8s_graph, "nvidia-device-plugin").plain["values"]["gfd"] == {"enabled": True}


# --- 4: the shipyard image is built (or pinned by digest), and published on release ---------------


def _built_images(graph) -> dict[str, str]:
    """Dockerfile (relative to the repository) -> the reference by digest the graph runs it as."""
    built = {}
    for image in graph.of("docker-build:index:Image"):
        inputs = image.plain
        dockerfile = Path(inputs["dockerfile"]["location"]).relative_to(REPO).as_posix()
        assert Path(inputs["context"]["location"]) == REPO and inputs["push"] is True
        (tag,) = inputs["tags"]
        digest = "sha256:" + __import__("hashlib").sha256(image.name.encode()).hexdigest()  # the mock's
        built[dockerfile] = f"{tag}@{digest}"
    return built


@pytest.mark.parametrize("stack", ["aws", "kubernetes"])
def test_the_shipyard_image_the_platform_runs_is_built_by_the_stack(stack, aws_graph, k8s_graph):
    graph = _graph(stack, aws_graph, k8s_graph)
    built = _built_images(graph)
    ref = built.get("infra/images/shipyard/Dockerfile")
    assert ref, f"nothing builds the shipyard image: {sorted(built)}"
    version = re.search(r'^version = "(.+)"$', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    assert re.fullmatch(rf"[^@]+/shipyard:{re.escape(version)}@sha256:[0-9a-f]{{64}}", ref)
    runs = {c["image"] for name in ("registry", "portal") for c in _pod(graph, name)["containers"]
            if c["name"] in ("registry", "portal")}  # fmt: skip
    assert runs == {ref}
    if stack == "aws":  # into an ECR repository of the stack (the nodes' role pulls from ECR)
        (repo,) = graph.of("aws:ecr/repository:Repository")
        assert ref.startswith(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo.plain['name']}:")
    else:  # into the registry the spec names
        assert ref.startswith(f"{K8S_SPEC.platform.cluster.image_registry}/shipyard:")
        assert next(c["image"] for c in _pod(graph, "mlflow")["containers"] if c["name"] == "mlflow") == ref


def test_a_prebuilt_shipyard_image_is_named_by_digest_and_a_cluster_needs_a_registry():
    aws = (REPO / "examples/platform.aws.yaml").read_text()
    tagged = aws.replace(
        "services:\n", "services:\n  registry: {image: ghcr.io/shipyard-ml/shipyard:0.1.0}\n", 1
    )
    with pytest.raises(SpecError, match="services.registry.image"):
        parse_spec(tagged, "platform.yaml", target="aws")
    pinned = tagged.replace(":0.1.0", "@sha256:" + "ab" * 32)
    assert parse_spec(pinned, "platform.yaml", target="aws").services.registry.image.endswith("ab" * 32)
    onprem = (REPO / "examples/platform.kubernetes.yaml").read_text()
    without = "\n".join(ln for ln in onprem.splitlines() if "image_registry" not in ln)
    with pytest.raises(SpecError, match="platform.cluster.image_registry"):
        parse_spec(without, "platform.yaml", target="kubernetes")


def test_the_release_workflow_publishes_the_shipyard_image():
    path = REPO / ".github/workflows/release-image.yml"
    workflow = yaml.safe_load(path.read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    build = next(s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action@"))
    assert build["with"]["file"] == "infra/images/shipyard/Dockerfile" and build["with"]["push"] is True
    assert build["with"]["context"] == "."
    check = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert check, "check-jsonschema is a dev dependency"
    result = subprocess.run([check, "--builtin-schema", "vendor.github-workflows", str(path)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # the Dockerfile builds from a bare checkout: nothing it COPYs is made beforehand (no dist/)
    dockerfile = (REPO / "infra/images/shipyard/Dockerfile").read_text()
    sources = re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M)
    for source in (s for line in sources for s in line.split()):
        assert (REPO / source).exists(), f"the Dockerfile copies {source}, which a checkout lacks"


# --- 5: nothing creating Services races the load balancer controller's webhook --------------------


def test_releases_and_services_wait_for_the_load_balancer_controllers_webhook(aws_graph):
    """Its `mservice.elbv2.k8s.aws` webhook (failurePolicy Fail) admits every Service: until its pods
    answer, creating one fails with "no endpoints available for aws-load-balancer-webhook-service"."""
    controller = aws_graph.key(_release(aws_graph, "aws-load-balancer-controller"))
    creators = [r for r in aws_graph.of(RELEASE) if aws_graph.key(r) != controller]
    creators += aws_graph.of("kubernetes:core/v1:Service")
    creators += aws_graph.of("kubernetes:networking.k8s.io/v1:Ingress")
    assert any(r.plain.get("chart") == "cluster-autoscaler" for r in creators)
    early = [aws_graph.key(r) for r in creators if not aws_graph.waits_for(aws_graph.key(r), controller)]
    assert early == []


# --- majors ------------------------------------------------------------------------------------------


def _quantity(value: str) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value))
    assert match, value
    return float(match.group(1)) * units.get(match.group(2), 1)


def admit(container: dict[str, Any], limit_range: dict[str, Any]) -> dict[str, dict[str, str]]:
    """LimitRanger on one container, as Kubernetes documents it: a missing limit takes `default`, a
    missing request `defaultRequest`; then every request must be <= its limit and every limit <= `max`.
    Returns the resources admitted; raises AssertionError with the API server's complaint."""
    (item,) = [i for i in limit_range["spec"]["limits"] if i["type"] == "Container"]
    res = container.get("resources", {})
    limits = {**item.get("default", {}), **res.get("limits", {})}
    requests = {**item.get("defaultRequest", {}), **res.get("requests", {})}
    for name, request in requests.items():
        if name in limits and _quantity(request) > _quantity(limits[name]):
            raise AssertionError(f"{name} request {request} must be <= {name} limit {limits[name]}")
    for name, cap in item.get("max", {}).items():
        if name in limits and _quantity(limits[name]) > _quantity(cap):
            raise AssertionError(f"maximum {name} usage per Container is {cap}, but limit is {limits[name]}")
    return {"requests": requests, "limits": limits}


def _train_job(team: str, pool: str) -> dict[str, Any]:
    """The template's GPU Job as a generated project has it (cookiecutter renders it with Jinja)."""
    text = (TEMPLATE / "k8s/train-job.yaml").read_text()
    context = {
        "project_slug": "churn",
        "team": team,
        "_gpu_node_pool": pool,
        "_image_registry": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "_gpu_instance_type": "g5.xlarge",
    }
    return yaml.safe_load(jinja2.Template(text).render(cookiecutter=context))


def _in_namespace(graph, typ: str, namespace: str) -> list[dict[str, Any]]:
    return [r.plain for r in graph.of(typ) if r.plain["metadata"].get("namespace") == namespace]


def test_the_template_gpu_job_is_admitted_in_every_team_namespace(aws_graph):
    pool = next(p for p in AWS_SPEC.gpu_pools)
    for team in AWS_SPEC.teams:
        job = _train_job(team.name, pool.name)
        (limit_range,) = _in_namespace(aws_graph, "kubernetes:core/v1:LimitRange", team.name)
        (quota,) = _in_namespace(aws_graph, "kubernetes:core/v1:ResourceQuota", team.name)
        for container in job["spec"]["template"]["spec"]["containers"]:
            admitted = admit(container, limit_range)
            hard = quota["spec"]["hard"]
            for kind in ("requests", "limits"):
                for name in ("cpu", "memory"):
                    assert _quantity(admitted[kind][name]) <= _quantity(hard[f"{kind}.{name}"])


def test_every_team_namespace_has_the_endpoints_its_jobs_read(aws_graph, k8s_graph):
    job = _train_job("x", "gpu")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    (ref,) = [e["configMapRef"] for e in container["envFrom"] if "configMapRef" in e]
    assert not ref.get("optional")  # a missing ConfigMap keeps the pod from starting
    for graph, spec in ((aws_graph, AWS_SPEC), (k8s_graph, K8S_SPEC)):
        for team in spec.teams:
            (cm,) = [c for c in _in_namespace(graph, "kubernetes:core/v1:ConfigMap", team.name)
                     if c["metadata"]["name"] == ref["name"]]  # fmt: skip
            data = cm["data"]
            assert data["SHIPYARD_PLATFORM"] == spec.platform.environment.value
            # jobs sign in with basic auth: under OIDC MLflow's own port, not the proxy's
            assert data["MLFLOW_TRACKING_URI"] == graph.exports["endpoints"]["mlflow"]
            assert data["SHIPYARD_REGISTRY_URL"] == graph.exports["endpoints"]["registry"]
            assert not any("PASSWORD" in k or "TOKEN" in k for k in data)  # credentials: the Secret


def test_mlflow_accepts_ui_edits_from_its_ingress_origin(aws_graph):
    """MLflow's own check (mlflow.server.security_utils), with the origins the declared command lists."""
    from mlflow.server.security_utils import should_block_cors_request

    command = next(c for c in _pod(aws_graph, "mlflow")["containers"] if c["name"] == "mlflow")["command"]
    flag = "--cors-allowed-origins"
    origins = command[command.index(flag) + 1].split(",") if flag in command else None
    origin = AWS_SPEC.services.mlflow.url.rstrip("/")
    assert not should_block_cors_request(origin, "POST", origins)
    assert should_block_cors_request("https://evil.example", "POST", origins)


def test_the_github_runner_image_has_what_the_template_ci_runs(github_runners_graph):
    ref = _built_images(github_runners_graph).get("infra/images/github-runner/Dockerfile")
    assert ref, "the runner image is not built"
    sets = [
        r.plain
        for r in github_runners_graph.of(RELEASE)
        if r.plain["chart"].endswith("/gha-runner-scale-set")
    ]
    assert sorted(r["namespace"] for r in sets) == sorted(t.name for t in AWS_SPEC.teams)
    for release in sets:
        (runner,) = release["values"]["template"]["spec"]["containers"]
        assert runner["image"] == ref
    dockerfile = (REPO / "infra/images/github-runner/Dockerfile").read_text()
    ci = (TEMPLATE / ".github/workflows/ci.yml").read_text()
    assert "make install" in ci and "make train-remote" in (TEMPLATE / "Makefile").read_text()
    for tool in ("make", "git"):
        assert re.search(rf"apt-get install[^\n]* {tool}\b", dockerfile), tool
    assert "/usr/local/bin/kubectl" in dockerfile and "sha256sum --check" in dockerfile
    assert re.search(r"^FROM ghcr\.io/actions/actions-runner:2\.\d+\.\d+$", dockerfile, re.M)


JOB_ACCOUNT = "shipyard-runner"  # the service account CI runner pods and training Jobs run as
BUILTIN_WITH_SECRETS = {"edit", "admin", "cluster-admin"}  # Kubernetes' aggregated roles that read them


def _may(graph, namespace: str, account: str, verb: str, resource: str) -> bool:
    """RBAC for a service account in its namespace: the RoleBindings (and ClusterRoleBindings) naming it,
    their Roles' rules from the graph; Kubernetes' built-in edit/admin grant everything namespaced."""
    subject = {"kind": "ServiceAccount", "name": account, "namespace": namespace}
    bindings = _in_namespace(graph, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", namespace)
    bindings += [b.plain for b in graph.of("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")]
    role_objects = _in_namespace(graph, "kubernetes:rbac.authorization.k8s.io/v1:Role", namespace)
    roles = {r["metadata"]["name"]: r for r in role_objects}
    for binding in bindings:
        if not any(all(s.get(k) == v for k, v in subject.items()) for s in binding.get("subjects", [])):
            continue
        ref = binding.get("roleRef") or binding["role_ref"]
        if ref["kind"] == "ClusterRole" and ref["name"] in BUILTIN_WITH_SECRETS:
            return True
        for rule in roles.get(ref["name"], {}).get("rules", []) if ref["kind"] == "Role" else []:
            if {resource, "*"} & set(rule["resources"]) and {verb, "*"} & set(rule["verbs"]):
                return True
    return False


@pytest.mark.parametrize("stack", ["aws", "kubernetes"])
def test_ci_and_training_jobs_cannot_read_their_namespaces_secrets(stack, aws_graph, k8s_graph):
    graph, spec = _graph(stack, aws_graph, k8s_graph), {"aws": AWS_SPEC, "kubernetes": K8S_SPEC}[stack]
    for team in spec.teams:
        for verb in ("get", "list", "watch"):
            assert not _may(graph, team.name, JOB_ACCOUNT, verb, "secrets"), (team.name, verb)
        # what `make train-remote` does: submit the Job, wait for it, read its logs
        assert _may(graph, team.name, JOB_ACCOUNT, "create", "jobs")
        assert _may(graph, team.name, JOB_ACCOUNT, "get", "pods/log")


def test_gpu_pools_tell_the_autoscaler_their_accelerator(aws_graph):
    label = "k8s.amazonaws.com/accelerator"
    groups = {
        g.plain["labels"]["shipyard.io/pool"]: g.plain for g in aws_graph.of("aws:eks/nodeGroup:NodeGroup")
    }
    tags = {t.plain["tag"]["key"]: t.plain["tag"]["value"] for t in aws_graph.of("aws:autoscaling/tag:Tag")}
    for pool in AWS_SPEC.node_pools:
        if pool.is_gpu:
            assert groups[pool.name]["labels"][label] == str(pool.gpu_type)
            assert tags[f"k8s.io/cluster-autoscaler/node-template/label/{label}"] == str(pool.gpu_type)
        else:
            assert label not in groups[pool.name]["labels"]


def test_a_pool_replaced_on_an_instance_type_change_gets_a_new_name(aws_graph):
    """EKS cannot change a group's instance types in place: Pulumi replaces it, creating the new group
    before deleting the old, so a fixed name collides ("NodeGroup already exists")."""
    for group in aws_graph.of("aws:eks/nodeGroup:NodeGroup"):
        assert "nodeGroupName" not in group.plain
        assert group.plain["nodeGroupNamePrefix"] == f"{group.plain['labels']['shipyard.io/pool']}-"
    assert set(aws_graph.exports["nodePools"]) == {p.name for p in AWS_SPEC.node_pools}


def test_mlflow_migrates_an_old_schema_before_serving(aws_graph, tmp_path):
    """The declared init container, run with the locked mlflow against a database one migration behind
    (SQLite standing in for Postgres): the server's own schema check passes afterwards."""
    import sqlalchemy
    from alembic import command
    from mlflow.exceptions import MlflowException
    from mlflow.store.db.utils import _get_alembic_config, _initialize_tables, _verify_schema

    pod = _pod(aws_graph, "mlflow")
    server = next(c for c in pod["containers"] if c["name"] == "mlflow")
    (init,) = [c for c in pod.get("initContainers", []) if c["command"][:3] == ["mlflow", "db", "upgrade"]]
    assert init["image"] == server["image"]  # the migrations of the version that then serves
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in init["env"]}
    server_env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in server["env"]}
    assert env["MLFLOW_BACKEND_STORE_URI"] == server_env["MLFLOW_BACKEND_STORE_URI"]  # the same database
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    engine = sqlalchemy.create_engine(uri)
    _initialize_tables(engine)
    config = _get_alembic_config(uri)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    with pytest.raises(MlflowException, match="out-of-date database schema"):
        _verify_schema(engine)  # what the new server would say, and crash-loop on
    argv = [part.replace("$(MLFLOW_BACKEND_STORE_URI)", uri) for part in init["command"]]
    argv[0] = str(Path(sys.executable).parent / "mlflow")
    run_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MLFLOW_DISABLE_TELEMETRY": "true"}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=run_env)
    assert done.returncode == 0, done.stderr[-2000:]
    _verify_schema(sqlalchemy.create_engine(uri))


# --- minors -----------------------------------------------------------------------------------------


def _tolerates(tolerations: list[dict[str, Any]], taint: dict[str, str]) -> bool:
    for t in tolerations:
        if t.get("effect") not in (None, "", taint["effect"]):
            continue
        if t.get("operator") == "Exists" and t.get("key") in (None, "", taint["key"]):
            return True
        if t.get("key") == taint["key"] and t.get("value") == taint["value"]:
            return True
    return False


EFFECTS = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}


def _pools_for(graph, pod: dict[str, Any]) -> list[str]:
    """The node groups a pod may be scheduled on: its nodeSelector against their nodes' labels (the
    group's, and the capacity type EKS adds), its tolerations against their NoSchedule taints."""
    fits = []
    for group in graph.of("aws:eks/nodeGroup:NodeGroup"):
        g = group.plain
        labels = {**g["labels"], "eks.amazonaws.com/capacityType": g["capacityType"]}
        taints = [{**t, "effect": EFFECTS[t["effect"]]} for t in g.get("taints", [])]
        selected = all(labels.get(k) == v for k, v in (pod.get("nodeSelector") or {}).items())
        tolerated = all(
            _tolerates(pod.get("tolerations") or [], t) for t in taints if t["effect"] == "NoSchedule"
        )
        if selected and tolerated:
            fits.append(g["labels"]["shipyard.io/pool"])
    return sorted(fits)


def test_the_system_pool_runs_only_the_platform(aws_graph):
    (system,) = [p for p in AWS_SPEC.node_pools if p.name == "system"]
    assert any(t.key == "CriticalAddonsOnly" and t.effect == "NoSchedule" for t in system.effective_taints)
    # every platform workload still has a pool, and it is the system pool
    pods = {name: _pod(aws_graph, name) for name in ("mlflow", "registry", "portal")}
    charts = {
        "cluster-autoscaler": (),
        "aws-load-balancer-controller": (),
        "label-studio": ("app",),
        "kube-prometheus-stack": ("prometheus", "prometheusSpec"),
    }
    for chart, path in charts.items():
        values = _release(aws_graph, chart).plain["values"]
        for key in path:
            values = values[key]
        pods[chart] = values
    for name, pod in pods.items():
        assert _pools_for(aws_graph, pod) == ["system"], name
    # a team's GPU Job never lands there
    job = _train_job("fraud", "gpu-a10g")["spec"]["template"]["spec"]
    assert _pools_for(aws_graph, job) == ["gpu-a10g"]


def test_monitoring_stays_off_spot(aws_graph):
    values = _release(aws_graph, "kube-prometheus-stack").plain["values"]
    for part in (values["prometheus"]["prometheusSpec"], values["alertmanager"]["alertmanagerSpec"],
                 values["grafana"], values["prometheusOperator"], values["crds"]["upgradeJob"],
                 values["kube-state-metrics"]):  # fmt: skip
        assert part["nodeSelector"] == ON_DEMAND
    assert _release(aws_graph, "prometheus-pushgateway").plain["values"]["nodeSelector"] == ON_DEMAND


def test_stateful_resources_are_protected_outside_dev_stacks(aws_graph, aws_dev_graph):
    for graph, protected in ((aws_graph, True), (aws_dev_graph, False)):
        stateful = graph.of("aws:rds/instance:Instance") + graph.of("aws:s3/bucket:Bucket")
        stateful += graph.of("kubernetes:core/v1:PersistentVolumeClaim")  # the registry's audit log
        assert len(stateful) >= 5
        assert {graph.key(r): graph.protected(r) for r in stateful} == {
            graph.key(r): protected for r in stateful
        }


def test_database_backups_follow_the_spec(aws_graph):
    days = AWS_SPEC.platform.backups.retention_days
    assert days >= 7
    for db in aws_graph.of("aws:rds/instance:Instance"):
        assert db.plain["backupRetentionPeriod"] == days  # automated backups and point-in-time restore
        assert db.plain["copyTagsToSnapshot"] is True and db.plain["deletionProtection"] is True
    text = (
        (REPO / "examples/platform.aws.yaml")
        .read_text()
        .replace("  currency:", "  backups: {retention_days: 36}\n  currency:", 1)
    )
    with pytest.raises(SpecError, match="platform.backups.retention_days"):
        parse_spec(text, "platform.yaml", target="aws")


def test_the_label_studio_chart_is_the_one_for_its_app_version(aws_graph):
    charts = json.loads((REPO / "tests/infra/charts/charts.json").read_text())["charts"]
    spec = AWS_SPEC.services.label_studio
    (entry,) = [c for c in charts if c["chart"] == "label-studio"]
    assert entry["version"] == spec.chart_version == _release(aws_graph, "label-studio").plain["version"]
    minor = lambda v: v.split(".")[:2]  # noqa: E731
    assert minor(entry["app_version"]) == minor(spec.version)


@pytest.mark.parametrize("stack", ["aws", "kubernetes"])
def test_label_studio_installs_with_its_storage_region(stack, aws_graph, k8s_graph):
    """The chart's configuration check (NOTES.txt) fails `helm install` on S3 persistence without a
    region; the existing cluster's S3-compatible store (MinIO) has none in the spec. Rendered by Helm's
    engine from the vendored 2.0.5 archive (tests/infra/cluster/render.py)."""
    from tests.infra.cluster import render

    release = _release(_graph(stack, aws_graph, k8s_graph), "label-studio").plain
    out = render.render(
        render.archive("label-studio", release["version"]),
        release["values"],
        release["name"],
        release["namespace"],
        "v1.30.0+rke2r1" if stack == "kubernetes" else "v1.35.0-eks-3a5b7c9",
    )
    env = {
        e["name"]: e.get("value")
        for m in out
        if m["kind"] == "Deployment"
        for c in m["spec"]["template"]["spec"]["containers"]
        for e in c.get("env") or []
    }
    region = {"aws": AWS_SPEC.platform.region, "kubernetes": "us-east-1"}[stack]
    assert env["STORAGE_AWS_REGION_NAME"] == region
