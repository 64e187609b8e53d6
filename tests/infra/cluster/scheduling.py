"""Where the scheduler could put each pod: taints and tolerations, nodeSelector and required node
affinity against one node of each pool, and whether the pod's requests fit such a node. DaemonSets
that need a GPU (NVML) must land on GPU pools only; every other workload needs at least one pool;
on EKS the cluster autoscaler needs GPU pools labelled as such to scale them sensibly."""

from __future__ import annotations

from typing import Any

from .model import GPU, Finding, Obj, Pool, View, containers, expression_matches, pod_spec, quantity

# images whose process needs an NVIDIA GPU on its node (NVML): crash-loop anywhere else
GPU_ONLY_IMAGES = ("dcgm-exporter", "k8s-device-plugin", "gpu-feature-discovery")
# the cluster autoscaler's AWS provider tells GPU nodes by this label (cloudprovider/aws GPULabel)
AWS_GPU_LABEL = "k8s.amazonaws.com/accelerator"


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, str]) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t["key"] == taint["key"]):
            return True
        if t.get("key") == taint["key"] and str(t.get("value", "")) == str(taint.get("value", "")):
            return True
    return False


def placement_problem(spec: dict[str, Any], pool: Pool) -> str:
    """Why a pod of ``spec`` cannot go on a node of ``pool`` ('' if it can)."""
    for taint in pool.taints:
        if taint["effect"] in ("NoSchedule", "NoExecute") and not tolerates(
            spec.get("tolerations") or [], taint
        ):
            return f"untolerated taint {taint['key']}:{taint['effect']}"
    for k, v in (spec.get("nodeSelector") or {}).items():
        if pool.labels.get(k) != str(v):
            return f"nodeSelector {k}={v}"
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if terms and not any(
        all(expression_matches(e, pool.labels) for e in term.get("matchExpressions") or []) for term in terms
    ):
        return "required node affinity"
    return ""


def requests(spec: dict[str, Any]) -> dict[str, int]:
    """The pod's effective requests: the sum over its containers, or its largest init container."""
    total: dict[str, int] = {}
    for c in spec.get("containers") or []:
        for r, v in ((c.get("resources") or {}).get("requests") or {}).items():
            total[r] = total.get(r, 0) + quantity(v, cpu=r == "cpu")
        for r, v in ((c.get("resources") or {}).get("limits") or {}).items():
            if r == GPU and GPU not in ((c.get("resources") or {}).get("requests") or {}):
                total[r] = total.get(r, 0) + int(v)
    for c in spec.get("initContainers") or []:
        for r, v in ((c.get("resources") or {}).get("requests") or {}).items():
            total[r] = max(total.get(r, 0), quantity(v, cpu=r == "cpu"))
    return total


def fit_problem(need: dict[str, int], pool: Pool) -> str:
    if need.get(GPU, 0) > pool.gpus:
        return f"needs {need[GPU]} GPU, a node has {pool.gpus}"
    if pool.cpu_m is not None and need.get("cpu", 0) > pool.cpu_m:
        return f"needs {need['cpu']}m CPU, a node has {pool.cpu_m}m allocatable"
    if pool.memory is not None and need.get("memory", 0) > pool.memory:
        return f"needs {need['memory'] // 2**20}Mi memory, a node has {pool.memory // 2**20}Mi allocatable"
    if pool.max_size < 1:
        return "the pool has no nodes"
    return ""


def gpu_only(spec: dict[str, Any]) -> bool:
    return any(any(n in str(c.get("image", "")) for n in GPU_ONLY_IMAGES) for c in containers(spec))


def check(view: View) -> list[Finding]:
    findings = []
    for o in view.objects:
        spec = pod_spec(o)
        if spec is None:
            continue
        findings += [Finding(view.stack, o.ref, "scheduling", m) for m in _place(o, spec, view.pools)]
    findings += _autoscaler_gpu_labels(view)
    findings += _platform_on_spot(view)
    return findings


SPOT = ("eks.amazonaws.com/capacityType", "SPOT")
LONG_RUNNING = ("Deployment", "StatefulSet", "Prometheus", "Alertmanager")


def _platform_on_spot(view: View) -> list[Finding]:
    """The platform's own long-running pods (not the teams' jobs) must not be placed on spot capacity:
    an interruption takes MLflow, Prometheus (and its volume's data) or the registry down with it."""
    spec = view.extra.get("spec")
    teams = {t.name for t in spec.teams} if spec is not None else set()
    spot = [p for p in view.pools if p.labels.get(SPOT[0]) == SPOT[1]]
    findings = []
    for o in view.of(*LONG_RUNNING):
        pod = pod_spec(o)
        if pod is None or o.namespace in teams:
            continue
        landing = [p.name for p in spot if not placement_problem(pod, p)]
        if landing:
            findings.append(
                Finding(
                    view.stack,
                    o.ref,
                    "scheduling",
                    f"may be placed on spot capacity ({', '.join(landing)}): an interruption "
                    "takes this platform service down",
                )
            )
    return findings


def _place(o: Obj, spec: dict[str, Any], pools: list[Pool]) -> list[str]:
    where = {p.name: placement_problem(spec, p) for p in pools}
    landing = [p for p in pools if not where[p.name]]
    if o.kind == "DaemonSet":
        if gpu_only(spec):
            wrong = [p.name for p in landing if p.gpus == 0]
            if wrong:
                return [f"needs a GPU (NVML) but lands on pools without one: {wrong}: it crash-loops there"]
        return []
    if not landing:
        why = "; ".join(f"{name}: {problem}" for name, problem in where.items())
        return [f"no node pool can run it ({why})"]
    need = requests(spec)
    fits = {p.name: fit_problem(need, p) for p in landing}
    if not any(not v for v in fits.values()):
        why = "; ".join(f"{name}: {problem}" for name, problem in fits.items())
        return [f"no node it may run on is big enough ({why})"]
    return []


def _autoscaler_gpu_labels(view: View) -> list[Finding]:
    aws_autoscaler = any(
        "--cloud-provider=aws"
        in [
            str(a)
            for c in containers(pod_spec(o) or {})
            for a in (c.get("command") or []) + (c.get("args") or [])
        ]
        for o in view.of("Deployment")
    )
    if not aws_autoscaler:
        return []
    return [
        Finding(
            view.stack,
            f"NodePool {p.name}",
            "scheduling",
            f"GPU pool lacks the label {AWS_GPU_LABEL} the cluster autoscaler uses to tell GPU nodes "
            "(it scales up again while the device plugin starts)",
        )
        for p in view.pools
        if p.gpus and AWS_GPU_LABEL not in p.labels
    ]
