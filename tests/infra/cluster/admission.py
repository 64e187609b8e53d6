"""What the API server's admission does to each pod a workload would create: LimitRange defaulting
and its min/max, ResourceQuota (every container must state what the quota limits; the pod must fit),
and the ConfigMaps and Secrets the pod mounts or reads that nothing in the stack creates."""

from __future__ import annotations

import copy
from typing import Any

from .model import Finding, Obj, View, containers, pod_spec, quantity

RESOURCES = ("cpu", "memory")


def _q(resource: str, value: Any) -> int:
    return quantity(value, cpu=resource.endswith("cpu"))


def defaulted(container: dict[str, Any], limit_ranges: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The container's resources after the LimitRange admission plugin: a missing limit takes the
    range's default, a missing request the range's defaultRequest (or the limit where it has none)."""
    res = copy.deepcopy(container.get("resources") or {})
    limits, requests = res.setdefault("limits", {}), res.setdefault("requests", {})
    for lr in limit_ranges:
        for item in lr["spec"].get("limits", []):
            if item.get("type") != "Container":
                continue
            for r, v in (item.get("default") or {}).items():
                limits.setdefault(r, v)
            for r, v in (item.get("defaultRequest") or {}).items():
                requests.setdefault(r, v)
    for r, v in limits.items():
        requests.setdefault(r, v)
    return res


def check(view: View) -> list[Finding]:
    findings = []
    by_ns: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for o in view.of("LimitRange", "ResourceQuota"):
        by_ns.setdefault(o.namespace, {}).setdefault(o.kind, []).append(o.manifest)
    existing = {(o.kind, o.namespace, o.name) for o in view.of("ConfigMap", "Secret")}
    existing |= {("Secret", o.namespace, name) for o in view.of("Job") for name in _runtime_secrets(o)}
    for o in view.objects:
        spec = pod_spec(o)
        if spec is None:
            continue
        ns = by_ns.get(o.namespace, {})
        findings += [Finding(view.stack, o.ref, "admission", m) for m in _admit(spec, ns)]
        findings += [Finding(view.stack, o.ref, "admission", m) for m in _references(o, spec, existing)]
    return findings


def _admit(spec: dict[str, Any], ns: dict[str, list[dict[str, Any]]]) -> list[str]:
    problems = []
    limit_ranges, quotas = ns.get("LimitRange", []), ns.get("ResourceQuota", [])
    total: dict[str, int] = {}
    for c in containers(spec):
        res = defaulted(c, limit_ranges)
        for r in set(res["requests"]) & set(res["limits"]):
            if _q(r, res["requests"][r]) > _q(r, res["limits"][r]):
                problems.append(
                    f"container {c['name']}: {r} request {res['requests'][r]} exceeds its limit "
                    f"{res['limits'][r]} (after the LimitRange's defaults): the pod is rejected"
                )
        for lr in limit_ranges:
            for item in lr["spec"].get("limits", []):
                if item.get("type") != "Container":
                    continue
                for r, v in (item.get("max") or {}).items():
                    if r in res["limits"] and _q(r, res["limits"][r]) > _q(r, v):
                        problems.append(
                            f"container {c['name']}: {r} limit {res['limits'][r]} above the LimitRange max {v}"  # noqa: E501
                        )
        if c in (spec.get("containers") or []):
            for kind in ("requests", "limits"):
                for r, v in res[kind].items():
                    total[f"{kind}.{r}"] = total.get(f"{kind}.{r}", 0) + _q(r, v)
    for quota in quotas:
        for key, hard in (quota["spec"].get("hard") or {}).items():
            name = key if "." in key and key.split(".", 1)[0] in ("requests", "limits") else f"requests.{key}"
            resource = name.split(".", 1)[1]
            if resource in RESOURCES:
                missing = [
                    c["name"]
                    for c in containers(spec)
                    if resource not in defaulted(c, limit_ranges)[name.split(".")[0]]
                ]
                if missing:
                    problems.append(
                        f"containers {missing} state no {name} and the quota limits it: the pod is rejected"
                    )
            if total.get(name, 0) > _q(resource, hard):
                problems.append(f"{name} {total[name]} exceeds the namespace quota {hard}")
    return problems


def _references(o: Obj, spec: dict[str, Any], existing: set[tuple[str, str, str]]) -> list[str]:
    """ConfigMaps/Secrets the pod needs (not marked optional) that no object of the stack creates."""
    wanted: set[tuple[str, str]] = set()
    for c in containers(spec):
        for src in c.get("envFrom") or []:
            for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                if key in src and not src[key].get("optional"):
                    wanted.add((kind, src[key]["name"]))
        for env in c.get("env") or []:
            ref = env.get("valueFrom") or {}
            for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                if key in ref and not ref[key].get("optional"):
                    wanted.add((kind, ref[key]["name"]))
    for v in spec.get("volumes") or []:
        if "configMap" in v and not v["configMap"].get("optional"):
            wanted.add(("ConfigMap", v["configMap"]["name"]))
        if "secret" in v and not v["secret"].get("optional"):
            wanted.add(("Secret", v["secret"]["secretName"]))
    return [
        f"needs {kind} {o.namespace}/{name}, which nothing in the stack creates: the pod cannot start"
        for kind, name in sorted(wanted)
        if (kind, o.namespace, name) not in existing
    ]


def _runtime_secrets(job: Obj) -> set[str]:
    """Secrets a Helm hook Job writes before the release's pods start (kube-webhook-certgen's
    ``create --secret-name=X``: the webhook's TLS certificate)."""
    if not job.hook:
        return set()
    names = set()
    for c in containers(pod_spec(job) or {}):
        args = [str(a) for a in c.get("args") or []]
        if "create" in args:
            names |= {a.split("=", 1)[1] for a in args if a.startswith("--secret-name=")}
    return names
