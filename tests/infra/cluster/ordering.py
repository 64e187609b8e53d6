"""What must exist before an object is created, from the Pulumi graph's depends_on/parent relations
(the engine creates independent resources in parallel): the CRD of a custom resource, and a webhook
with failurePolicy Fail (and its ready backend) that admits the object, when another release or
resource brings them. Within one Helm release Helm orders them itself (crds/ first)."""

from __future__ import annotations

from typing import Any

from .model import Finding, Obj, View, pod_labels, pod_spec, selector_matches

TEMPLATE_OWNER = "project-template::"


def _resource(kind: str) -> str:
    plural = kind.lower()
    return plural[:-1] + "ies" if plural.endswith("y") else plural + ("es" if plural.endswith("s") else "s")


def _group(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def _matches(rule: dict[str, Any], group: str, resource: str) -> bool:
    ops = set(rule.get("operations") or [])
    return (
        bool(ops & {"CREATE", "*"})
        and bool(set(rule.get("apiGroups") or []) & {group, "*"})
        and bool(set(rule.get("resources") or []) & {resource, "*"})
    )


def admitted(view: View, o: Obj) -> list[tuple[str, str, Obj]]:
    """(webhook name, admitted as, configuration) of each Fail webhook that admits ``o`` (or the pods
    its template makes)."""
    targets = [(_group(o.manifest.get("apiVersion", "")), _resource(o.kind), o.labels, "")]
    if pod_spec(o) is not None and o.kind != "Pod":
        targets.append(("", "pods", pod_labels(o), " (its pods)"))
    ns_labels = view.namespace_labels(o.namespace) if o.namespace else {}
    found = []
    for cfg in view.of("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        for hook in cfg.manifest.get("webhooks") or []:
            if hook.get("failurePolicy", "Fail") != "Fail":
                continue
            for group, resource, labels, what in targets:
                if not any(_matches(rule, group, resource) for rule in hook.get("rules") or []):
                    continue
                if o.namespace and not selector_matches(hook.get("namespaceSelector"), ns_labels):
                    continue
                if not selector_matches(hook.get("objectSelector"), labels):
                    continue
                found.append((hook["name"], what, cfg))
    return found


def check(view: View) -> list[Finding]:
    graph = view.graph
    findings = []
    crd_owner = {}
    for crd in view.of("CustomResourceDefinition"):
        spec = crd.manifest["spec"]
        for v in spec["versions"]:
            crd_owner[(f"{spec['group']}/{v['name']}", spec["names"]["kind"])] = crd
    for o in view.objects:
        if o.owner.startswith(TEMPLATE_OWNER):
            continue  # a project submits it long after `pulumi up`
        crd = crd_owner.get((o.manifest.get("apiVersion", ""), o.kind))
        if crd is not None and crd.owner != o.owner and not graph.waits_for(o.owner, crd.owner):
            findings.append(
                Finding(
                    view.stack,
                    o.ref,
                    "ordering",
                    f"{_who(o)} does not wait for {_who(crd)}, which installs its CRD",
                )
            )
        for hook, what, cfg in admitted(view, o):
            if cfg.owner == o.owner:
                continue
            if not graph.waits_for(o.owner, cfg.owner) or _skips_await(graph, cfg.owner):
                findings.append(
                    Finding(
                        view.stack,
                        o.ref,
                        "ordering",
                        f"{_who(o)} does not wait for {_who(cfg)}: its webhook {hook} "
                        f"(failurePolicy Fail) admits the object{what}; created first, "
                        "the API server answers 'no endpoints available'",
                    )
                )
    return findings


def _who(o: Obj) -> str:
    return f"release {o.owner.split('::')[-1]}" if o.release else o.owner.split("::")[-1]


def _skips_await(graph: Any, owner: str) -> bool:
    typ, _, name = owner.partition("::")
    matches = [r for r in graph.of(typ) if r.name == name]
    return bool(matches and matches[0].plain.get("skipAwait"))
