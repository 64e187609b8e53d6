"""What the cluster's-eye checks work on: every object a stack would create (the program's own and
each Helm release's, as Helm renders it), the nodes its pools would add, and the findings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

GPU = "nvidia.com/gpu"


@dataclass(frozen=True, order=True)
class Finding:
    stack: str
    object: str  # "Kind namespace/name"
    check: str  # validate, admission, scheduling, netpol, rbac, images, ordering
    message: str


@dataclass
class Obj:
    """One manifest and who creates it: ``owner`` is the Pulumi resource ("type::name") of the
    program's object or of the Helm release that renders it (``release`` then names the chart)."""

    manifest: dict[str, Any]
    owner: str
    release: str = ""  # chart name, for a rendered object
    hook: bool = False  # a Helm hook (runs before/after the release's other objects)

    @property
    def kind(self) -> str:
        return self.manifest.get("kind", "")

    @property
    def name(self) -> str:
        return (self.manifest.get("metadata") or {}).get("name", "")

    @property
    def namespace(self) -> str:
        return (self.manifest.get("metadata") or {}).get("namespace", "")

    @property
    def labels(self) -> dict[str, str]:
        return (self.manifest.get("metadata") or {}).get("labels") or {}

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass
class Pool:
    """A node pool as the scheduler sees a node of it: labels, taints, what it can offer."""

    name: str
    labels: dict[str, str]
    taints: list[dict[str, str]]
    cpu_m: int | None = None  # allocatable; None: unknown instance type
    memory: int | None = None
    gpus: int = 0
    min_size: int = 0
    max_size: int = 0


@dataclass
class View:
    stack: str
    environment: str  # aws | kubernetes
    kube_version: str  # what the API server reports (gitVersion, vendor suffix included)
    objects: list[Obj]
    pools: list[Pool]
    graph: Any = None  # tests/infra/conftest.Graph: depends_on / parent relations
    extra: dict[str, Any] = field(default_factory=dict)

    def of(self, *kinds: str) -> list[Obj]:
        return [o for o in self.objects if o.kind in kinds]

    def namespace_labels(self, ns: str) -> dict[str, str]:
        for o in self.of("Namespace"):
            if o.name == ns:
                return {**o.labels, "kubernetes.io/metadata.name": ns}
        return {"kubernetes.io/metadata.name": ns}


WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod")


# custom resources whose operator makes pods of their spec (prometheus-operator: a StatefulSet each)
OPERATOR_PODS = {("monitoring.coreos.com", "Prometheus"), ("monitoring.coreos.com", "Alertmanager")}
_POD_FIELDS = ("nodeSelector", "tolerations", "affinity", "securityContext", "serviceAccountName")


def pod_spec(o: Obj) -> dict[str, Any] | None:
    m = o.manifest
    if (m.get("apiVersion", "").split("/")[0], o.kind) in OPERATOR_PODS:
        spec = m.get("spec") or {}
        main = {
            "name": o.kind.lower(),
            "image": spec.get("image", ""),
            "resources": spec.get("resources") or {},
        }
        return {k: spec[k] for k in _POD_FIELDS if spec.get(k) is not None} | {"containers": [main]}
    if o.kind == "Pod":
        return m.get("spec") or {}
    if o.kind == "CronJob":
        return (
            (((m.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        ).get("spec") or {}
    template = ((m.get("spec") or {}).get("template") or {}).get("spec")
    if o.kind in WORKLOADS:
        return template or {}
    if isinstance(template, dict) and "containers" in template:  # a controller's pods (ARC runners)
        return template
    return None


def pod_labels(o: Obj) -> dict[str, str]:
    m = o.manifest
    if o.kind == "Pod":
        return o.labels
    if o.kind == "CronJob":
        tmpl = ((m.get("spec") or {}).get("jobTemplate") or {}).get("spec", {}).get("template") or {}
    else:
        tmpl = (m.get("spec") or {}).get("template") or {}
    return (tmpl.get("metadata") or {}).get("labels") or {}


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def quantity(value: Any, cpu: bool = False) -> int:
    """A resource quantity: millicores for CPU, bytes (or a count) otherwise."""
    text = str(value).strip()
    if cpu:
        return int(float(text[:-1])) if text.endswith("m") else int(float(text) * 1000)
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", text)
    if not match:
        raise ValueError(f"not a quantity: {value!r}")
    number, unit = match.groups()
    return int(float(number) * _UNITS.get(unit, 1))


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels, matchExpressions) against labels; an empty selector matches all."""
    selector = selector or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    return all(expression_matches(e, labels) for e in selector.get("matchExpressions") or [])


def expression_matches(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op, values = expr["key"], expr["operator"], [str(v) for v in expr.get("values") or []]
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        try:
            have, want = int(labels[key]), int(values[0])
        except (KeyError, ValueError):
            return False
        return have > want if op == "Gt" else have < want
    raise ValueError(f"unknown selector operator {op}")
