"""NetworkPolicies against what each pod must reach: the hosts its containers are configured with
(URLs in args and env, the OIDC issuer of an oauth2-proxy sidecar, S3 for `s3://` locations) and DNS.
Egress: the policies selecting the pod must allow it. Ingress: for an in-cluster Service, the
policies selecting its pods must let the caller's namespace in on that port."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .model import Finding, Obj, View, containers, pod_labels, pod_spec, selector_matches

URL = re.compile(r"\b(https?)://([A-Za-z0-9.-]+)(?::(\d+))?")
S3_HOST = "s3.amazonaws.com"


@dataclass(frozen=True)
class Need:
    host: str
    port: int
    protocol: str = "TCP"
    namespace: str = ""  # in-cluster: the Service's namespace
    service: str = ""

    def __str__(self) -> str:
        return f"{self.host}:{self.port}/{self.protocol}"


def needs(
    o: Obj, spec: dict[str, Any], environment: str, namespaces: frozenset[str] = frozenset()
) -> list[Need]:
    found: dict[str, Need] = {}
    for c in containers(spec):
        texts = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
        texts += [str(e["value"]) for e in c.get("env") or [] if isinstance(e.get("value"), str)]
        for text in texts:
            for scheme, host, port in URL.findall(text):
                if host in ("127.0.0.1", "localhost", "0.0.0.0"):
                    continue
                need = _need(
                    host, int(port) if port else 443 if scheme == "https" else 80, o.namespace, namespaces
                )
                found[str(need)] = need
            if "s3://" in text and environment == "aws":
                found[S3_HOST] = Need(S3_HOST, 443)
    return list(found.values())


def _need(host: str, port: int, own_ns: str, namespaces: frozenset[str]) -> Need:
    """In the cluster: ``svc``, ``svc.ns`` (ns one of the stack's), ``svc.ns.svc[.cluster.local]``."""
    parts = host.split(".")
    if host.endswith((".svc.cluster.local", ".svc")) or (len(parts) == 2 and parts[1] in namespaces):
        return Need(host, port, namespace=parts[1] if len(parts) > 1 else own_ns, service=parts[0])
    if len(parts) == 1:
        return Need(host, port, namespace=own_ns, service=host)
    return Need(host, port)


def _policies(view: View, ns: str, labels: dict[str, str], direction: str) -> list[dict[str, Any]]:
    return [
        p.manifest["spec"]
        for p in view.of("NetworkPolicy")
        if p.namespace == ns
        and direction in (p.manifest["spec"].get("policyTypes") or ["Ingress"])
        and selector_matches(p.manifest["spec"].get("podSelector"), labels)
    ]


def _port_ok(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports") or []
    return not ports or any(
        (p.get("port") in (None, port)) and p.get("protocol", "TCP") == protocol for p in ports
    )


def _peer_ok(peer: dict[str, Any], need: Need, view: View) -> bool:
    if "ipBlock" in peer:
        return True  # an address range: the host may well be in it (nothing here resolves names)
    if not need.namespace:
        return False  # a namespace or pod selector selects pods, never a host outside the cluster
    if "namespaceSelector" in peer and not selector_matches(
        peer["namespaceSelector"], view.namespace_labels(need.namespace)
    ):
        return False
    return True


def allows_egress(policies: list[dict[str, Any]], need: Need, view: View) -> bool:
    return any(
        _port_ok(rule, need.port, need.protocol)
        and (not rule.get("to") or any(_peer_ok(p, need, view) for p in rule["to"]))
        for policy in policies
        for rule in policy.get("egress") or []
    )


def check(view: View) -> list[Finding]:
    findings = []
    namespaces = frozenset(o.namespace for o in view.objects if o.namespace)
    for o in view.objects:
        spec = pod_spec(o)
        if spec is None:
            continue
        labels = pod_labels(o)
        egress = _policies(view, o.namespace, labels, "Egress")
        wanted = needs(o, spec, view.environment, namespaces)
        if egress:
            dns = Need("kube-dns.kube-system", 53, "UDP", "kube-system", "kube-dns")
            for need in [dns, *wanted]:
                if not allows_egress(egress, need, view):
                    findings.append(
                        Finding(
                            view.stack,
                            o.ref,
                            "netpol",
                            f"egress to {need} is not allowed by its NetworkPolicies",
                        )
                    )
        for need in wanted:
            if need.service:
                findings += [Finding(view.stack, o.ref, "netpol", m) for m in _ingress(view, o, need)]
    return findings


def _ingress(view: View, caller: Obj, need: Need) -> list[str]:
    services = [s for s in view.of("Service") if s.name == need.service and s.namespace == need.namespace]
    if not services:
        return []
    svc = services[0].manifest["spec"]
    target = need.port
    for p in svc.get("ports") or []:
        if p.get("port") == need.port and isinstance(p.get("targetPort"), int):
            target = p["targetPort"]
    problems = []
    for o in view.objects:
        spec = pod_spec(o)
        if spec is None or o.namespace != need.namespace or not svc.get("selector"):
            continue
        labels = pod_labels(o)
        if not all(labels.get(k) == v for k, v in svc["selector"].items()):
            continue
        policies = _policies(view, o.namespace, labels, "Ingress")
        caller_ns = view.namespace_labels(caller.namespace)
        ok = not policies or any(
            _port_ok(rule, target, "TCP")
            and (
                not rule.get("from")
                or any(
                    "ipBlock" in peer
                    or (
                        (
                            "namespaceSelector" in peer
                            and selector_matches(peer["namespaceSelector"], caller_ns)
                        )
                        or (
                            "namespaceSelector" not in peer
                            and caller.namespace == o.namespace
                            and selector_matches(peer.get("podSelector"), pod_labels(caller))
                        )
                    )
                    for peer in rule["from"]
                )
            )
            for policy in policies
            for rule in policy.get("ingress") or []
        )
        if not ok:
            problems.append(f"{o.ref} does not let it in on port {target} (it calls {need})")
    return problems
