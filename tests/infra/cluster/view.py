"""A stack as the cluster would see it: the mocked Pulumi graph's Kubernetes objects, every Helm
release rendered by Helm (render.py), the project template's training Job for each team namespace,
and one node per pool (labels and taints as the node group or the docs give them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import yaml
from shipyard.spec import load_spec
from shipyard.spec.labels import GPU_PRESENT_LABEL, LABEL_POOL

from . import render
from .model import GPU, Finding, Obj, Pool, View

REPO = Path(__file__).resolve().parents[3]
TEMPLATE_JOB = REPO / "project-template" / "{{cookiecutter.project_slug}}" / "k8s" / "train-job.yaml"
RELEASE = "kubernetes:helm.sh/v3:Release"

# What the API server reports as its version (.Capabilities.KubeVersion): EKS adds a vendor suffix;
# an existing cluster's distribution may too (RKE2 `+rke2r1`): render as such a cluster would.
VENDOR_SUFFIX = {"aws": "-eks-3a5b7c9", "kubernetes": "+rke2r1"}

# Allocatable of a node of each instance type the examples use (vCPU and memory less the kubelet's
# and system reservations, per EKS AL2023 defaults, rounded down); GPUs per node.
INSTANCES: dict[str, tuple[int, int, int]] = {
    "m6i.xlarge": (3920, 14 * 2**30, 0),
    "m6i.2xlarge": (7910, 29 * 2**30, 0),
    "g5.xlarge": (3920, 14 * 2**30, 1),
    "g5.2xlarge": (7910, 29 * 2**30, 1),
    "p5.48xlarge": (191450, 1900 * 2**30, 8),
}
EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


def kube_version(environment: str, minor: str) -> str:
    return f"v{minor}.0{VENDOR_SUFFIX[environment]}"


def _ints(value: Any) -> Any:
    """The mocks hand numbers back as floats (4180.0): the API server gets integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def _well_known(pool_name: str, instance_type: str) -> dict[str, str]:
    return {
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": instance_type,
        "kubernetes.io/hostname": f"{pool_name}-node-0",
    }


def pools(graph: Any, spec: Any) -> list[Pool]:
    by_name = {p.name: p for p in spec.node_pools}
    found = []
    if spec.platform.environment == "aws":
        for group in graph.of("aws:eks/nodeGroup:NodeGroup"):
            g = group.plain
            # a group is named from its pool's prefix (EKS adds a suffix; a replacement gets another)
            group_name = g.get("nodeGroupName") or f"{g['nodeGroupNamePrefix']}0a1b2c"
            pool = by_name[g.get("nodeGroupName") or g["nodeGroupNamePrefix"].removesuffix("-")]
            itype = g["instanceTypes"][0]
            cpu, mem, gpus = INSTANCES.get(itype, (None, None, pool.gpus_per_node))
            labels = {
                **_well_known(pool.name, itype),
                "eks.amazonaws.com/nodegroup": group_name,
                "eks.amazonaws.com/capacityType": g.get("capacityType", "ON_DEMAND"),
                **(g.get("labels") or {}),
            }
            taints = [{**t, "effect": EFFECTS.get(t["effect"], t["effect"])} for t in g.get("taints") or []]
            scaling = g.get("scalingConfig") or {}
            found.append(
                Pool(
                    pool.name,
                    labels,
                    taints,
                    cpu,
                    mem,
                    gpus,
                    scaling.get("minSize", 0),
                    scaling.get("maxSize", 0),
                )
            )
        return found
    # an existing cluster: the docs ask for shipyard.io/pool on each pool's nodes; GPU feature
    # discovery (NFD) labels GPU nodes; taints are whatever the spec says the pool has
    for pool in spec.node_pools:
        labels = {**_well_known(pool.name, pool.instance_types[0]), LABEL_POOL: pool.name, **pool.labels}
        if pool.is_gpu:
            labels |= {GPU_PRESENT_LABEL: "true", "feature.node.kubernetes.io/pci-10de.present": "true"}
        taints = [{"key": t.key, "value": t.value or "", "effect": t.effect} for t in pool.effective_taints]
        cpu, mem, _ = INSTANCES.get(pool.instance_types[0], (None, None, 0))
        found.append(
            Pool(pool.name, labels, taints, cpu, mem, pool.gpus_per_node, pool.min_size, pool.max_size)
        )
    return found


def template_jobs(spec: Any) -> list[dict[str, Any]]:
    """The template's training Job as a project of each team would submit it (platform_context's GPU
    pool for the team; a team without one cannot create a GPU project)."""
    text = TEMPLATE_JOB.read_text()
    jobs = []
    for team in spec.teams:
        gpu_pools = [p for p in spec.gpu_pools if not p.teams or team.name in p.teams]
        if not gpu_pools:
            continue
        cookiecutter = {
            "project_slug": "demo-model",
            "team": team.name,
            "_gpu_node_pool": gpu_pools[0].name,
            "_gpu_instance_type": gpu_pools[0].instance_types[0],
            "_image_registry": spec.services.template.image_registry or "registry.example.com/ml",
        }
        jobs.append(yaml.safe_load(jinja2.Template(text).render(cookiecutter=cookiecutter)))
    return jobs


def build(graph: Any, spec_path: Path) -> View:
    spec = load_spec(spec_path)
    env = spec.platform.environment
    version = kube_version(env, spec.platform.cluster.kubernetes_version)
    objects = [Obj(_ints(r.plain), graph.key(r)) for r in graph.k8s_objects()]
    releases = graph.of(RELEASE)
    chart = {r.name: r.plain["chart"].rsplit("/", 1)[-1] for r in releases}  # oci://host/path/CHART
    archives = {r.name: render.archive(chart[r.name], r.plain["version"]) for r in releases}
    crd_groups: set[str] = set()
    failures: list[Finding] = []
    for r in releases:
        for crd in render.crds(archives[r.name]):
            objects.append(Obj(crd, graph.key(r), chart[r.name]))
            for v in crd["spec"]["versions"]:
                crd_groups.add(f"{crd['spec']['group']}/{v['name']}")
                crd_groups.add(f"{crd['spec']['group']}/{v['name']}/{crd['spec']['names']['kind']}")
    for r in releases:
        p = r.plain
        try:
            rendered = render.render(
                archives[r.name],
                p.get("values") or {},
                p["name"],
                p["namespace"],
                version,
                tuple(sorted(crd_groups)),
            )
        except Exception as exc:  # helm_python.HelmError: `helm install` would stop here too
            message = " ".join(str(exc).split())
            failures.append(Finding(graph.stack, f"Release {p['namespace']}/{p['name']}", "render", message))
            continue
        for m in rendered:
            m.setdefault("metadata", {})
            if m["kind"] != "CustomResourceDefinition" and not _cluster_scoped(m):
                m["metadata"].setdefault("namespace", p["namespace"])
            objects.append(Obj(m, graph.key(r), chart[r.name], render.is_hook(m)))
    for job in template_jobs(spec):
        objects.append(Obj(job, "project-template::k8s/train-job.yaml"))
    return View(
        graph.stack,
        env,
        version,
        objects,
        pools(graph, spec),
        graph,
        {"spec": spec, "render_failures": failures},
    )


CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "StorageClass",
    "IngressClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "PersistentVolume",
    "APIService",
    "RuntimeClass",
    "CSIDriver",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
}


def _cluster_scoped(m: dict[str, Any]) -> bool:
    return m["kind"] in CLUSTER_SCOPED


__all__ = ["GPU", "build", "kube_version", "pools", "template_jobs"]
