"""RBAC: the identities CI jobs run as must not read Secrets (a job from any branch, a fork's PR
included, would read the runner tokens and the GitHub App key of its namespace)."""

from __future__ import annotations

import re
from typing import Any

from .model import Finding, View, pod_spec

TEAM_SERVICE_ACCOUNT = "shipyard-runner"  # infra/components/common.py: CI and training jobs run as it
SERVICE_ACCOUNT = re.compile(r'service_account\s*=\s*"([^"]+)"')  # gitlab-runner's config.toml
READ = {"get", "list", "watch", "*"}
# Kubernetes' built-in user-facing roles, as far as Secrets go (the aggregated admin and edit read
# them; view does not: kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy)
BUILT_IN = {
    "cluster-admin": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
    "admin": [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "create", "delete"]}
    ],
    "edit": [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "create", "delete"]}
    ],
    "view": [],
}


def runner_identities(view: View) -> set[tuple[str, str]]:
    """(namespace, service account) CI jobs run as: the teams' job account; an ARC runner scale
    set's runner pods; a GitLab runner's job pods (its config.toml's ``service_account``). Not the
    GitLab runner manager's own account: it creates the jobs' Secrets, and no job runs as it."""
    found = {(sa.namespace, sa.name) for sa in view.of("ServiceAccount") if sa.name == TEAM_SERVICE_ACCOUNT}
    for o in view.of("AutoscalingRunnerSet"):
        spec = pod_spec(o) or {}
        found.add((o.namespace, spec.get("serviceAccountName") or "default"))
    for o in view.of("ConfigMap"):
        if o.release == "gitlab-runner":
            for text in (o.manifest.get("data") or {}).values():
                found |= {(o.namespace, sa) for sa in SERVICE_ACCOUNT.findall(str(text))}
    return found


def reads_secrets(rules: list[dict[str, Any]]) -> bool:
    return any(
        set(r.get("apiGroups") or []) & {"", "*"}
        and set(r.get("resources") or []) & {"secrets", "*"}
        and set(r.get("verbs") or []) & READ
        for r in rules
    )


def _rules(view: View, ref: dict[str, Any], ns: str) -> list[dict[str, Any]]:
    for o in view.of(ref["kind"]):
        if o.name == ref["name"] and (ref["kind"] == "ClusterRole" or o.namespace == ns):
            return o.manifest.get("rules") or []
    return BUILT_IN.get(ref["name"], []) if ref["kind"] == "ClusterRole" else []


def check(view: View) -> list[Finding]:
    findings = []
    identities = runner_identities(view)
    for b in view.of("RoleBinding", "ClusterRoleBinding"):
        m = b.manifest
        for s in m.get("subjects") or []:
            ns = s.get("namespace") or b.namespace
            if s.get("kind") != "ServiceAccount" or (ns, s["name"]) not in identities:
                continue
            if reads_secrets(_rules(view, m["roleRef"], b.namespace)):
                where = f"namespace {b.namespace}" if b.kind == "RoleBinding" else "every namespace"
                findings.append(
                    Finding(
                        view.stack,
                        b.ref,
                        "rbac",
                        f"CI identity {ns}/{s['name']} can read Secrets in {where} "
                        f"({m['roleRef']['kind']} {m['roleRef']['name']})",
                    )
                )
    return findings
